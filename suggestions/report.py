"""The figures offices report (DOMAIN.md), in total and by lead handling unit.

One definition of each figure serves the list page's summary, the report page and its Excel
file. Every figure counts suggestions, each once:

- assigned (交办): past registration; the base of the rates below;
- replied (办复): in a replied status; on time (按时办复): a reply was sent on or before the
  due date in force (an approved extension moves it);
- met (见面): at least one face-to-face consultation;
- rated (测评): by the rating that counts (the lead deputy's rating of the result, by
  default; see ``deciding_rating``) of the latest reply rated; 满意率 is reported both as
  满意 alone and as 满意 or 基本满意, both over the rated suggestions;
- A/B/C/D: the handling result of the latest reply sent;
- overdue and due soon: awaiting a reply, past the due date or within ``REMINDER_DAYS_BEFORE``
  working days of it.

Co-handling (协办) is counted by co-handling unit, over the same suggestions: the suggestions
co-handled, the written opinions submitted, those submitted by the opinion's own due date
(``CoHandling.due_on``), and the opinions overdue (required, not submitted, not waived by the
office, past due, while the lead unit has not replied yet).

Each count is a conditional COUNT over columns of the suggestion that the moves keep current
(``handling_result``, ``rating``, ``met``, ``replied_on_time``): one query for the total, one
for the rows by unit, one for the co-handling figures by unit, however many suggestions there
are, and no subquery per row. Which rating counts is ``suggestions.workflow.deciding_rating``,
the same rule that sends a suggestion back for re-handling.

Units are ranked (``RANK_BY``) only when they lead at least ``REPORT_MIN_ITEMS`` assigned
suggestions: a unit with one suggestion replied on time would otherwise top the table. The
others follow, unranked.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .models import (
    AWAITING_REPLY,
    REPLIED,
    CoHandling,
    Rating,
    Status,
    due_soon_horizon,
    due_soon_q,
    overdue_q,
)


@dataclass(frozen=True)
class Rate:
    key: str
    part: str
    whole: str


RATES = (
    Rate("replied_rate", "replied", "assigned"),
    Rate("on_time_rate", "on_time", "assigned"),
    Rate("met_rate", "met", "assigned"),
    Rate("fully_satisfied_rate", "satisfied", "rated"),
    Rate("satisfied_rate", "satisfied_or_basically", "rated"),
)


# The report's columns, in order: (key, heading); the RATES are shares, the rest counts.
COLUMNS = (
    ("assigned", gettext_lazy("Assigned")),
    ("replied", gettext_lazy("Replied")),
    ("replied_rate", gettext_lazy("Reply rate")),
    ("on_time", gettext_lazy("Replied on time")),
    ("on_time_rate", gettext_lazy("On-time reply rate")),
    ("met", gettext_lazy("Met face to face")),
    ("met_rate", gettext_lazy("Face-to-face rate")),
    ("rated", gettext_lazy("Rated")),
    ("satisfied", gettext_lazy("Satisfied")),
    ("basically", gettext_lazy("Basically satisfied")),
    ("unsatisfied", gettext_lazy("Unsatisfied")),
    ("fully_satisfied_rate", gettext_lazy("Satisfaction rate (satisfied only)")),
    ("satisfied_rate", gettext_lazy("Satisfaction rate (incl. basically satisfied)")),
    ("overdue", gettext_lazy("Overdue")),
)
RATE_BY_KEY = {rate.key: rate for rate in RATES}
# The co-handling columns, after the lead unit's figures and its A/B/C/D.
CO_COLUMNS = (
    ("co_handled", gettext_lazy("Co-handled")),
    ("co_submitted", gettext_lazy("Opinions submitted")),
    ("co_on_time", gettext_lazy("Opinions on time")),
    ("co_overdue", gettext_lazy("Opinions overdue")),
)
# What ranks units, best first: each rate higher, the next one deciding a tie.
RANK_BY = ("on_time_rate", "satisfied_rate", "replied_rate")


def ratio(counts: dict, rate: Rate) -> float | None:
    whole = counts[rate.whole]
    return counts[rate.part] / whole if whole else None


def share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _measures(horizon: datetime.date | None = None) -> dict:
    """The counts per row; ``horizon``: the due-soon window's end (read once per report)."""
    measures = {
        "total": Count("pk"),
        "assigned": Count("pk", filter=~Q(status=Status.REGISTERED)),
        "replied": Count("pk", filter=Q(status__in=REPLIED)),
        "on_time": Count("pk", filter=Q(replied_on_time=True)),
        "met": Count("pk", filter=Q(met=True)),
        "rated": Count("pk", filter=~Q(rating="")),
        "satisfied": Count("pk", filter=Q(rating=Rating.SATISFIED)),
        "basically": Count("pk", filter=Q(rating=Rating.BASICALLY)),
        "unsatisfied": Count("pk", filter=Q(rating=Rating.UNSATISFIED)),
        "overdue": Count("pk", filter=overdue_q()),
        "due_soon": Count("pk", filter=due_soon_q(horizon)),
    }
    # Indexed names: the configured categories may be any text (甲/乙/丙).
    for index, category in enumerate(settings.HANDLING_CATEGORIES):
        measures[f"category_{index}"] = Count("pk", filter=Q(handling_result=category))
    return measures


def _co_measures() -> dict:
    submitted = Q(submitted_at__isnull=False)
    return {
        "co_handled": Count("pk"),
        "co_submitted": Count("pk", filter=submitted),
        # The day it was submitted, in TIME_ZONE, against the opinion's own due date.
        "co_on_time": Count("pk", filter=submitted & (
            Q(due_on__isnull=True) | Q(submitted_at__date__lte=F("due_on")))),
        "co_overdue": Count("pk", filter=Q(
            required=True, submitted_at__isnull=True, due_on__lt=timezone.localdate(),
            suggestion__co_opinions_waived=False, suggestion__status__in=AWAITING_REPLY,
        )),
    }


def _finish(counts: dict) -> dict:
    counts["satisfied_or_basically"] = counts["satisfied"] + counts["basically"]
    counts["categories"] = [
        (category, counts.pop(f"category_{index}"))
        for index, category in enumerate(settings.HANDLING_CATEGORIES)
    ]
    for rate in RATES:
        counts[rate.key] = share(ratio(counts, rate))
    counts["cells"] = [counts[key] for key, _label in COLUMNS] + [n for _c, n in counts["categories"]]
    return counts


def totals(queryset: QuerySet, horizon: datetime.date | None = None) -> dict:
    """The figures over all of ``queryset``."""
    return _finish(queryset.order_by().aggregate(**_measures(horizon)))


def by_unit_and_total(queryset: QuerySet, horizon: datetime.date | None = None
                      ) -> tuple[list[dict], dict]:
    """The figures per lead unit (assigned suggestions only, largest load first) and over all
    of ``queryset``, from one pass over the rows: every figure is a count, so the total is the
    sum of the units' rows and the row of the suggestions without a unit."""
    raw = list(
        queryset.order_by().values("lead_unit_id", "lead_unit__name")
        .annotate(**_measures(horizon))
    )
    keys = list(_measures(horizon))
    total = _finish({key: sum(row[key] for row in raw) for key in keys})
    rows = [_finish(dict(row, unit=row["lead_unit__name"]))
            for row in raw if row["lead_unit_id"] is not None]
    rows.sort(key=lambda row: (-row["assigned"], row["unit"]))
    return rows, total


def by_session(queryset: QuerySet, horizon: datetime.date | None = None) -> dict[int, dict]:
    """The figures per session, in one query: {session id: figures}."""
    rows = queryset.order_by().values("session_id").annotate(**_measures(horizon))
    return {row["session_id"]: _finish(dict(row)) for row in rows}


def co_by_unit(queryset: QuerySet) -> list[dict]:
    """The co-handling figures per co-handling unit, over the suggestions of ``queryset``."""
    return list(
        CoHandling.objects.using(queryset.db)
        .filter(suggestion__in=queryset.order_by().values("pk")).order_by()
        .values("unit_id", "unit__name").annotate(**_co_measures())
    )


def reading_database() -> str:
    """Where the report and the ledger read: the read replica when DATABASE_REPLICA_URL is
    set (its figures may lag the primary by the replication delay), else the primary."""
    return "replica" if "replica" in settings.DATABASES else "default"


def _rank_key(row: dict) -> tuple:
    return tuple(ratio(row, RATE_BY_KEY[key]) or 0.0 for key in RANK_BY)


def table(queryset: QuerySet) -> tuple[list[dict], dict]:
    """The report: a row per unit that leads or co-handles any of ``queryset`` (ranked ones
    first, by ``RANK_BY``; ``rank`` is None for a unit below ``REPORT_MIN_ITEMS``), and the
    total row. Two queries, however many suggestions and units, on ``reading_database()``."""
    queryset = queryset.using(reading_database())
    horizon = due_soon_horizon()
    units, total = by_unit_and_total(queryset, horizon)
    rows = {row["lead_unit_id"]: row for row in units}
    co_keys = [key for key, _label in CO_COLUMNS]
    for key in co_keys:
        total[key] = 0
    for co in co_by_unit(queryset):
        row = rows.get(co["unit_id"])
        if row is None:  # a unit that only co-handles: no figures as lead unit
            zero = dict.fromkeys(_measures(horizon), 0)
            row = rows[co["unit_id"]] = _finish(dict(zero, lead_unit_id=co["unit_id"],
                                                     unit=co["unit__name"]))
        for key in co_keys:
            row[key] = co[key]
            total[key] += co[key]
    minimum = settings.REPORT_MIN_ITEMS
    ranked = sorted((row for row in rows.values() if row["assigned"] >= minimum),
                    key=lambda row: (tuple(-value for value in _rank_key(row)),
                                     -row["assigned"], row["unit"]))
    rank, previous = 0, None
    for position, row in enumerate(ranked, start=1):
        key = _rank_key(row)
        if key != previous:  # equal rates share a rank (1, 1, 3)
            rank, previous = position, key
        row["rank"] = rank
    unranked = sorted((row for row in rows.values() if row["assigned"] < minimum),
                      key=lambda row: (-row["assigned"], -row.get("co_handled", 0), row["unit"]))
    for row in [*ranked, *unranked, total]:
        row.setdefault("rank", None)
        for key in co_keys:
            row.setdefault(key, 0)
        row["cells"] = row["cells"] + [row[key] for key in co_keys]
    return [*ranked, *unranked], total


def unranked_note() -> str:
    minimum = settings.REPORT_MIN_ITEMS
    return ngettext(
        "Units leading fewer than %(count)d assigned suggestion are listed after the ranked "
        "ones, without a rank.",
        "Units leading fewer than %(count)d assigned suggestions are listed after the ranked "
        "ones, without a rank.",
        minimum,
    ) % {"count": minimum}


def headings() -> dict:
    """What the report page needs to head its columns."""
    categories = [category_heading(category) for category in settings.HANDLING_CATEGORIES]
    return {
        "columns": COLUMNS, "category_headings": categories, "co_columns": CO_COLUMNS,
        "lead_width": len(COLUMNS) + len(categories),
        "width": 2 + len(COLUMNS) + len(categories) + len(CO_COLUMNS),
        "min_items": settings.REPORT_MIN_ITEMS, "unranked_note": unranked_note(),
    }


def category_heading(category: str) -> str:
    return _("Class %(category)s") % {"category": category}


def workbook(rows: list[dict], total: dict, *, title: str) -> bytes:
    """The report as an Excel file: numbers as numbers, shares as percentages; a heading row
    of column groups (as lead unit / as co-handling unit) above the column headings."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = str(_("Report"))[:31]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    categories = [category_heading(category) for category in settings.HANDLING_CATEGORIES]
    lead_width = len(COLUMNS) + len(categories)
    first_co = 3 + lead_width
    groups = [None] * (2 + lead_width + len(CO_COLUMNS))
    groups[2], groups[first_co - 1] = str(_("As lead unit")), str(_("As co-handling unit"))
    sheet.append(groups)
    sheet.merge_cells(start_row=2, start_column=3, end_row=2, end_column=first_co - 1)
    sheet.merge_cells(start_row=2, start_column=first_co, end_row=2,
                      end_column=first_co + len(CO_COLUMNS) - 1)
    sheet.append([str(_("Rank")), str(_("Handling unit"))] + [str(label) for _key, label in COLUMNS]
                 + categories + [str(label) for _key, label in CO_COLUMNS])
    for row in [*rows, dict(total, unit=str(_("Total")))]:
        values = [row["rank"], row["unit"]]
        for key, _label in COLUMNS:
            rate = RATE_BY_KEY.get(key)
            values.append(ratio(row, rate) if rate else row[key])
        values += [count for _category, count in row["categories"]]
        values += [row[key] for key, _label in CO_COLUMNS]
        sheet.append(values)
        # A name is text, never a formula (openpyxl would store "=…" as one).
        sheet.cell(row=sheet.max_row, column=2).data_type = "s"
    percent_columns = [index + 3 for index, (key, _label) in enumerate(COLUMNS) if key in RATE_BY_KEY]
    for line in sheet.iter_rows(min_row=4):
        for index in percent_columns:
            line[index - 1].number_format = "0%"
    for heading_row in (sheet[2], sheet[3]):
        for cell in heading_row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top",
                                       horizontal="center" if cell.row == 2 else None)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.append([])
    sheet.append([None, unranked_note()])
    sheet.column_dimensions["A"].width = 6
    sheet.column_dimensions["B"].width = 28
    sheet.freeze_panes = "C4"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
