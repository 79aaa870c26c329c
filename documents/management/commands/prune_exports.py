import datetime

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import ExportJob


class Command(BaseCommand):
    help = "Delete finished export jobs older than --days, with their zip files (run daily)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="keep this many days (default 7)")

    def handle(self, *args, days: int, **options):
        if days < 0:
            raise CommandError(_("--days must be zero or more."))
        cutoff = timezone.now() - datetime.timedelta(days=days)
        old = ExportJob.objects.filter(
            created_at__lt=cutoff,
            status__in=[ExportJob.Status.DONE, ExportJob.Status.FAILED],
        )
        removed = 0
        storage = storages["exports"]
        for job in old:
            if job.file_name:
                storage.delete(job.file_name)  # a file already gone is no error
            job.delete()
            removed += 1
        self.stdout.write(
            _("Removed %(count)d exports older than %(days)d days.") % {"count": removed, "days": days}
        )
