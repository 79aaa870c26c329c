from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from demo.seed import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the seed case (suggestion No. 120) and demo users for each role; idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true",
            help="Create the demo users even with DEBUG off (they share a published password).",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                _("Refusing to create demo users with the published password %(password)s while "
                  "DEBUG is off. Use --force if this really is a demo server.")
                % {"password": DEMO_PASSWORD}
            )
        result = load_demo()
        self.stdout.write(self.style.SUCCESS(
            _("Demo data loaded (%(count)d suggestions created).")
            % {"count": result["suggestions_created"]}
        ))
