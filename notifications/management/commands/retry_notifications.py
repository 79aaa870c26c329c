"""Queue the e-mail/SMS deliveries that are due a retry (or whose queueing failed). The
database task backend retries on its own; run this from cron with a backend that cannot
defer tasks. ``send_reminders`` runs it too."""

from django.core.management.base import BaseCommand

from notifications.tasks import retry_due


class Command(BaseCommand):
    help = "Queue failed e-mail/SMS deliveries that are due a retry; prints 'queued: N'."

    def handle(self, *args, **options):
        self.stdout.write(f"queued: {retry_due()}")
