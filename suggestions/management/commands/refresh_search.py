"""Rewrite every suggestion's search document (suggestions.search), in batches.

For after writes that bypass ``Suggestion.save()`` (COPY, ``QuerySet.update``, a restore), or
after a change of how documents are made. Each batch commits on its own.
"""

from django.core.management.base import BaseCommand

from suggestions.search import refresh_all


class Command(BaseCommand):
    help = "Rewrite the search document of every suggestion."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=1000, help="suggestions per transaction")

    def handle(self, *args, batch: int, **options):
        step = max(batch, 10_000)

        def progress(done: int) -> None:
            if done % step < batch:
                self.stdout.write(f"  {done:,}")

        written = refresh_all(batch_size=batch, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"{written:,} search documents made."))
