"""China's working calendar: public holidays and make-up working days (调休), in the database.

Deadlines follow two rules (DOMAIN.md, "Deadlines and the working calendar"):

- a limit in months ends on the same day so many months later; when that day is a public
  holiday or a weekend, on the next working day (the rule for time limits in Chinese
  procedural law: 期间届满的最后一日是法定休假日的，以法定休假日后的第一日为期间届满的日期);
- a limit in working days counts China's working days: public holidays are off, and some
  weekend days are working days (调休).

The days that differ from "Monday to Friday" are ``CalendarDay`` rows, filled from the
``chinese-calendar`` package (``sync``: ``manage.py sync_holidays`` and after every
``migrate``) and editable in the admin for the years the package does not know yet; a
``CalendarYear`` marked complete says a year is covered. For a year that is not, the weekends
(and whatever days were entered) are all there is: nothing fails, the deadline's explanation
says so, the office sees a warning and the system check ``core.W001`` reports it.

Every change of the calendar (the admin, ``sync``, or code calling ``changed``) sends
``calendar_changed`` with the dates that changed; the suggestions app recomputes the open
deadlines that depend on them. ``changes()`` gathers the edits made inside it into one signal.

The API others use: ``is_working_day``, ``next_working_day``, ``add_working_days``,
``working_days_between``, ``add_months`` and ``deadline`` (a due date and how it was computed);
each reads the database, one query per calendar year it needs. A ``WorkCalendar`` keeps what
it read, for computing many dates at once (``WorkCalendar().load()`` reads everything).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, DatabaseError, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver
from django.utils import formats, timezone
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from .models import CalendarDay, CalendarYear

logger = logging.getLogger(__name__)

HOLIDAY = CalendarDay.Kind.HOLIDAY
WORKDAY = CalendarDay.Kind.WORKDAY

# Sent with ``dates`` (a frozenset of the dates whose kind changed) and ``actor`` (the user who
# changed them, or None); receivers return how many deadlines they moved.
calendar_changed = Signal()


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` months later; the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = _stdlib_calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last))


def weekday_name(day: datetime.date) -> str:
    """星期一 … 星期日 (Monday … Sunday in English)"""
    return formats.date_format(day, "l")


def local_date(day: datetime.date) -> str:
    """2026年10月1日 in Chinese, Oct. 1, 2026 in English."""
    return formats.date_format(day, "DATE_FORMAT")


def holiday_name(note: str) -> str:
    """A holiday's note in the page's language: the package's holidays (stored in Chinese, as
    the official notices name them) have English names too; a note typed in the admin stays."""
    if not note or (get_language() or "zh").startswith("zh"):
        return note
    try:
        from chinese_calendar import Holiday
    except ImportError:
        return note
    return {holiday.chinese: holiday.value for holiday in Holiday}.get(note, note)


class WorkCalendar:
    """What the database says about working days, read one year at a time and kept."""

    def __init__(self) -> None:
        self._days: dict[datetime.date, tuple[str, str]] = {}
        self._loaded: set[int] = set()
        self._everything = False
        self._complete: frozenset[int] | None = None

    def load(self, years: Iterable[int] | None = None) -> WorkCalendar:
        """Read ``years`` (every year when None) in one query, unless already read."""
        if years is None:
            rows = CalendarDay.objects.values_list("date", "kind", "note")
            self._days = {day: (kind, note) for day, kind, note in rows}
            self._everything = True
            return self
        wanted = sorted({*years} - self._loaded)
        if self._everything or not wanted:
            return self
        condition = Q()
        for year in wanted:
            condition |= Q(date__range=(datetime.date(year, 1, 1), datetime.date(year, 12, 31)))
        for day, kind, note in CalendarDay.objects.filter(condition).values_list("date", "kind", "note"):
            self._days[day] = (kind, note)
        self._loaded.update(wanted)
        return self

    def complete_years(self) -> frozenset[int]:
        """The years whose holidays and make-up days are all entered."""
        if self._complete is None:
            self._complete = frozenset(
                CalendarYear.objects.filter(complete=True).values_list("year", flat=True)
            )
        return self._complete

    def knows(self, year: int) -> bool:
        return year in self.complete_years()

    def special(self, day: datetime.date) -> tuple[str, str] | None:
        """(kind, note) when ``day`` is a holiday or a make-up working day, else None."""
        if not self._everything and day.year not in self._loaded:
            self.load([day.year])
        return self._days.get(day)

    def is_working_day(self, day: datetime.date) -> bool:
        special = self.special(day)
        if special is not None:
            return special[0] == WORKDAY
        return day.weekday() < 5

    def next_working_day(self, day: datetime.date) -> datetime.date:
        """``day`` itself when it is a working day, else the first working day after it."""
        start = day
        while not self.is_working_day(day):
            day += datetime.timedelta(days=1)
            if (day - start).days > 366:  # a year entered as all holidays: give up, loudly
                logger.error("No working day within a year after %s; check the calendar.", start)
                return start
        return day

    def add_working_days(self, day: datetime.date, days: int) -> datetime.date:
        """The ``days``-th working day after ``day`` (before it, for a negative number)."""
        step = datetime.timedelta(days=1 if days >= 0 else -1)
        remaining = abs(days)
        while remaining > 0:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """The working days after ``start`` up to and including ``end`` (negative when ``end``
        is earlier): ``add_working_days(start, n)`` is the first day where this reaches n."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += datetime.timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def describe(self, day: datetime.date) -> str:
        """Why a day is or is not a working day, in the explanation's words ("" for a plain
        working weekday): 国庆节假期, 星期六, 星期日，国庆节调休上班."""
        special = self.special(day)
        if special is not None and special[0] == HOLIDAY:
            if special[1]:
                return _("%(holiday)s holiday") % {"holiday": holiday_name(special[1])}
            return _("public holiday")
        if special is not None and day.weekday() >= 5:
            if special[1]:
                return _("%(weekday)s, a make-up working day for %(holiday)s") % {
                    "weekday": weekday_name(day), "holiday": holiday_name(special[1])}
            return _("%(weekday)s, a make-up working day") % {"weekday": weekday_name(day)}
        if special is None and day.weekday() >= 5:
            return weekday_name(day)
        return ""


@dataclass(frozen=True)
class Deadline:
    """A due date and what it was computed from."""

    label: str  # what the limit runs from, as the explanation says it: 交办, 重新办理, 延期
    basis: datetime.date
    months: int | None  # None: ``basis`` is the last day itself (an approved date)
    nominal: datetime.date  # basis + months (or basis)
    due: datetime.date  # nominal, or the next working day after it
    reason: str  # why the nominal day is not a working day, or what it is ("" for neither)
    unknown_years: tuple[int, ...] = field(default=())  # counted on weekends only

    @property
    def moved(self) -> bool:
        return self.due != self.nominal

    def explanation(self) -> str:
        """交办 2026年7月1日 + 3个月 = 2026年10月1日（国庆节假期），顺延至2026年10月8日; in
        the active language (the day's reason too: see ``WorkCalendar.describe``)."""
        if self.months is not None:
            basis = local_date(self.basis)
            if self.label:
                basis = _("%(label)s %(date)s") % {"label": self.label, "date": basis}
            text = ngettext("%(basis)s + %(months)d month = %(nominal)s",
                            "%(basis)s + %(months)d months = %(nominal)s", self.months) % {
                "basis": basis, "months": self.months, "nominal": local_date(self.nominal)}
        else:
            text = _("%(label)s to %(date)s") % {"label": self.label,
                                                 "date": local_date(self.nominal)}
        if self.reason:
            text = _("%(text)s (%(reason)s)") % {"text": text, "reason": self.reason}
        if self.moved:
            text = _("%(text)s, moved to the next working day: %(due)s") % {
                "text": text, "due": local_date(self.due)}
        if self.unknown_years:
            years = pgettext("list separator", ", ").join(str(y) for y in self.unknown_years)
            text = _("%(text)s; the holidays of %(years)s are not entered yet: counted on "
                     "weekends only") % {"text": text, "years": years}
        return text


def deadline(basis: datetime.date, months: int | None = None, *, label: str = "",
             calendar: WorkCalendar | None = None) -> Deadline:
    """The limit of ``months`` months from ``basis`` (or ending on ``basis`` itself when
    ``months`` is None), moved to the next working day when it ends on a day off."""
    cal = calendar or WorkCalendar()
    nominal = add_months(basis, months) if months is not None else basis
    due = cal.next_working_day(nominal)
    unknown = tuple(year for year in range(nominal.year, due.year + 1) if not cal.knows(year))
    return Deadline(label=label, basis=basis, months=months, nominal=nominal, due=due,
                    reason=cal.describe(nominal), unknown_years=unknown)


def is_working_day(day: datetime.date, *, calendar: WorkCalendar | None = None) -> bool:
    return (calendar or WorkCalendar()).is_working_day(day)


def next_working_day(day: datetime.date, *, calendar: WorkCalendar | None = None) -> datetime.date:
    return (calendar or WorkCalendar()).next_working_day(day)


def add_working_days(day: datetime.date, days: int, *,
                     calendar: WorkCalendar | None = None) -> datetime.date:
    """The ``days``-th working day after ``day``: a window of 7 working days from an
    assignment on ``day`` ends on ``add_working_days(day, 7)``, that day included."""
    return (calendar or WorkCalendar()).add_working_days(day, days)


def working_days_between(start: datetime.date, end: datetime.date, *,
                         calendar: WorkCalendar | None = None) -> int:
    """Working days after ``start`` up to and including ``end``: a reminder "N working days
    ahead" is due when ``working_days_between(today, due_on) <= N``."""
    return (calendar or WorkCalendar()).working_days_between(start, end)


def missing_years(today: datetime.date | None = None) -> list[int]:
    """This year and the next, when the calendar does not cover them (the office is warned)."""
    today = today or timezone.localdate()
    complete = WorkCalendar().complete_years()
    return [year for year in (today.year, today.year + 1) if year not in complete]


# --- Telling the deadlines that the calendar changed ---

_batch = threading.local()


@contextmanager
def changes(actor=None) -> Iterator[set]:
    """Gather the calendar edits made inside into one ``calendar_changed`` at the end
    (attributed to ``actor``); yields the set of changed dates."""
    if getattr(_batch, "dates", None) is not None:  # nested: part of the outer batch
        yield _batch.dates
        return
    _batch.dates, _batch.actor = set(), actor
    try:
        yield _batch.dates
        dates = _batch.dates
    finally:
        _batch.dates = _batch.actor = None
    if dates:
        changed(dates, actor=actor)


def changed(dates: Iterable[datetime.date], *, actor=None) -> int:
    """Tell the receivers (the deadlines) that these days changed; returns how many
    deadlines moved. Inside ``changes()`` the dates wait for the end of the batch."""
    dates = frozenset(dates)
    if not dates:
        return 0
    if getattr(_batch, "dates", None) is not None:
        _batch.dates.update(dates)
        return 0
    responses = calendar_changed.send(sender=CalendarDay, dates=dates, actor=actor)
    return sum(result for _receiver, result in responses if isinstance(result, int))


@receiver(post_save, sender=CalendarDay, dispatch_uid="core.calendar.day_saved")
def _day_saved(sender, instance: CalendarDay, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    original = getattr(instance, "_original", None)
    dates = {instance.date}
    if original is not None and original[0] != instance.date:
        dates.add(original[0])
    elif original is not None and original[1] == instance.kind:
        dates = set()  # only the note changed: no deadline moves
    instance._original = (instance.date, instance.kind)
    changed(dates)


@receiver(post_delete, sender=CalendarDay, dispatch_uid="core.calendar.day_deleted")
def _day_deleted(sender, instance: CalendarDay, **kwargs) -> None:
    original = getattr(instance, "_original", None)
    changed({instance.date} | ({original[0]} if original else set()))


# --- Filling the calendar from the chinese-calendar package ---

class PackageMissing(Exception):
    """The chinese-calendar package is not installed."""


@dataclass
class SyncResult:
    version: str = ""
    years: list[int] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    removed: int = 0
    kept_manual: list[datetime.date] = field(default_factory=list)  # differ from the package
    recomputed: int = 0

    @property
    def changes(self) -> int:
        return self.created + self.updated + self.removed


def package_days() -> tuple[str, list[int], dict[datetime.date, tuple[str, str]]]:
    """(version, the years it covers, {date: (kind, note)}) from chinese-calendar."""
    try:
        import chinese_calendar
    except ImportError as error:
        raise PackageMissing(str(error)) from error
    names = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}
    days: dict[datetime.date, tuple[str, str]] = {}
    for day, name in chinese_calendar.holidays.items():
        days[day] = (HOLIDAY, names.get(name, name or ""))
    for day, name in chinese_calendar.workdays.items():
        days[day] = (WORKDAY, names.get(name, name or ""))
    if not days:
        return getattr(chinese_calendar, "__version__", ""), [], {}
    first, last = min(days).year, max(days).year
    return getattr(chinese_calendar, "__version__", ""), list(range(first, last + 1)), days


def sync(*, replace_manual: bool = False, actor=None) -> SyncResult:
    """Make the calendar hold the package's days, for the years the package knows; mark those
    years complete. Days entered by hand are kept (and listed when the package differs) unless
    ``replace_manual``. Running it twice changes nothing the second time."""
    version, years, days = package_days()
    result = SyncResult(version=version, years=years)
    if not years:
        return result
    PACKAGE, MANUAL = CalendarDay.Source.PACKAGE, CalendarDay.Source.MANUAL
    changed_dates: set[datetime.date] = set()
    with transaction.atomic():
        span = (datetime.date(years[0], 1, 1), datetime.date(years[-1], 12, 31))
        existing = {row.date: row for row in CalendarDay.objects.filter(date__range=span)}
        create, update = [], []
        for day, (kind, note) in sorted(days.items()):
            row = existing.get(day)
            if row is None:
                create.append(CalendarDay(date=day, kind=kind, note=note, source=PACKAGE))
                changed_dates.add(day)
                continue
            if (row.kind, row.note, row.source) == (kind, note, PACKAGE):
                continue
            if row.source == MANUAL and not replace_manual:
                if (row.kind, row.note) != (kind, note):
                    result.kept_manual.append(day)
                continue
            if row.kind != kind:
                changed_dates.add(day)
            row.kind, row.note, row.source = kind, note, PACKAGE
            update.append(row)
        stale = {row.pk for day, row in existing.items()
                 if day not in days and (row.source == PACKAGE or replace_manual)}
        changed_dates.update(day for day, row in existing.items() if row.pk in stale)
        CalendarDay.objects.bulk_create(create, batch_size=500)
        CalendarDay.objects.bulk_update(update, ["kind", "note", "source"], batch_size=500)
        if stale:
            CalendarDay.objects.filter(pk__in=stale).delete()
        result.created, result.updated, result.removed = len(create), len(update), len(stale)
        known = {row.year: row for row in CalendarYear.objects.filter(year__in=years)}
        for year in years:
            row = known.get(year)
            if row is None:
                CalendarYear.objects.create(year=year, complete=True, source=PACKAGE,
                                            note=f"chinese-calendar {version}")
            elif not row.complete:
                row.complete = True
                row.save(update_fields=["complete", "updated_at"])
        # In the same transaction: the deadlines move with the calendar, or neither does.
        result.recomputed = changed(changed_dates, actor=actor)
    return result


def sync_after_migrate(sender, using: str = DEFAULT_DB_ALIAS, verbosity: int = 1,
                       stdout=None, **kwargs) -> None:
    """post_migrate: keep the calendar filled from the installed package. Never fails the
    migration: without the package or its tables it does nothing."""
    if using != DEFAULT_DB_ALIAS:
        return
    try:
        result = sync()
    except PackageMissing:
        return
    except DatabaseError as error:  # e.g. migrating to a state before the calendar's tables
        logger.warning("The working calendar was not synced: %s", error)
        return
    if result.changes and verbosity >= 1 and stdout is not None:
        stdout.write(
            f"  Working calendar from chinese-calendar {result.version}: "
            f"{result.created} days added, {result.updated} updated, {result.removed} removed, "
            f"{result.recomputed} deadlines recomputed.\n"
        )
