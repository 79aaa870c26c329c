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
- overdue and due within 15 days: awaiting a reply, past or near the due date.

Each count is a conditional COUNT over columns of the suggestion that the moves keep current
(``handling_result``, ``rating``, ``met``, ``replied_on_time``): one query for the total, one
for the rows by unit, however many suggestions there are, and no subquery per row. Which
rating counts is ``suggestions.workflow.deciding_rating``, the same rule that sends a
suggestion back for re-handling.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import REPLIED, Rating, Status, due_soon_q, overdue_q


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


def ratio(counts: dict, rate: Rate) -> float | None:
    whole = counts[rate.whole]
    return counts[rate.part] / whole if whole else None


def share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _measures() -> dict:
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
        "due_soon": Count("pk", filter=due_soon_q()),
    }
    # Indexed names: the configured categories may be any text (甲/乙/丙).
    for index, category in enumerate(settings.HANDLING_CATEGORIES):
        measures[f"category_{index}"] = Count("pk", filter=Q(handling_result=category))
    return measures


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


def totals(queryset: QuerySet) -> dict:
    """The figures over all of ``queryset``."""
    return _finish(queryset.order_by().aggregate(**_measures()))


def by_unit(queryset: QuerySet) -> list[dict]:
    """The figures per lead unit (assigned suggestions only), largest load first."""
    rows = (
        queryset.filter(lead_unit__isnull=False).order_by()
        .values("lead_unit_id", "lead_unit__name")
        .annotate(**_measures())
        .order_by("-assigned", "lead_unit__name")
    )
    return [_finish(dict(row, unit=row["lead_unit__name"])) for row in rows]


def category_heading(category: str) -> str:
    return _("Class %(category)s") % {"category": category}


def workbook(rows: list[dict], total: dict, *, title: str) -> bytes:
    """The report as an Excel file: numbers as numbers, shares as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = str(_("Report"))[:31]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    categories = [category_heading(category) for category in settings.HANDLING_CATEGORIES]
    sheet.append([str(_("Lead unit"))] + [str(label) for _key, label in COLUMNS] + categories)
    for row in [*rows, dict(total, unit=str(_("Total")))]:
        values = [row["unit"]]
        for key, _label in COLUMNS:
            rate = RATE_BY_KEY.get(key)
            values.append(ratio(row, rate) if rate else row[key])
        values += [count for _category, count in row["categories"]]
        sheet.append(values)
        # A name is text, never a formula (openpyxl would store "=…" as one).
        sheet.cell(row=sheet.max_row, column=1).data_type = "s"
    percent_columns = [index + 2 for index, (key, _label) in enumerate(COLUMNS) if key in RATE_BY_KEY]
    for line in sheet.iter_rows(min_row=3):
        for index in percent_columns:
            line[index - 1].number_format = "0%"
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 28
    sheet.freeze_panes = "B3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
