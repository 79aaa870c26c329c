"""Fill the working calendar from the chinese-calendar package (also done after every migrate)."""

from django.core.management.base import BaseCommand, CommandError

from core import calendar


class Command(BaseCommand):
    help = (
        "Fill the working calendar (holidays and make-up working days) from the installed "
        "chinese-calendar package and recompute the open deadlines that change. Running it "
        "again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--replace-manual", action="store_true",
            help="Let the package overwrite days entered by hand in the years it knows.",
        )

    def handle(self, *args, replace_manual: bool = False, **options):
        try:
            result = calendar.sync(replace_manual=replace_manual)
        except calendar.PackageMissing as error:
            raise CommandError(
                f"The chinese-calendar package is not installed ({error}); run `make install`."
            ) from None
        if not result.years:
            self.stdout.write("chinese-calendar knows no year; nothing to do.")
            return
        self.stdout.write(
            f"chinese-calendar {result.version}: {result.years[0]}–{result.years[-1]}; "
            f"{result.created} days added, {result.updated} updated, {result.removed} removed; "
            f"{result.recomputed} deadlines recomputed."
        )
        if result.kept_manual:
            days = ", ".join(day.isoformat() for day in result.kept_manual)
            self.stdout.write(self.style.WARNING(
                f"Kept days entered by hand that the package has otherwise: {days} "
                "(--replace-manual to take the package's)."
            ))
        missing = calendar.missing_years()
        if missing:
            years = ", ".join(str(year) for year in missing)
            self.stdout.write(self.style.WARNING(
                f"The calendar does not cover {years}: enter those years' holidays and make-up "
                "working days in the admin, and mark the years complete."
            ))
