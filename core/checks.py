"""System checks of the shared plumbing: the working calendar covers this year and the next."""

import logging

from django.core.checks import Warning, register

logger = logging.getLogger(__name__)


@register("calendar")
def check_calendar_years(app_configs=None, **kwargs):
    """core.W001: the calendar lacks this year's or next year's holidays, so deadlines in them
    count weekends only."""
    from . import calendar

    try:
        missing = calendar.missing_years()
    except Exception as error:  # no database, or not migrated yet: nothing to say about it
        logger.debug("Calendar check skipped: %s", error)
        return []
    if not missing:
        return []
    years = ", ".join(str(year) for year in missing)
    return [
        Warning(
            f"The working calendar does not cover {years}: deadlines there count weekends only.",
            hint=(
                "Update the chinese-calendar package and run `manage.py sync_holidays`, or, "
                "until it knows the year, enter the State Council's holidays and make-up "
                "working days in the admin (Calendar days) and mark the year complete "
                "(Calendar years)."
            ),
            id="core.W001",
        )
    ]
