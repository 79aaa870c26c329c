"""The office's dashboard (and a unit's view of its own work): the report's figures at a glance.

Every figure is the report's own definition (``suggestions.report``): this module only groups
them (by status, by session) and draws them as server-side SVG — no chart library, nothing
from the network, nothing for the CSP to allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.roles import Role, role_of, user_unit_id

from . import report
from .models import CongressSession, Status, Suggestion, due_soon_horizon

RATE_LABELS = {
    "replied_rate": gettext_lazy("Reply rate"),
    "on_time_rate": gettext_lazy("On-time reply rate"),
    "fully_satisfied_rate": gettext_lazy("Satisfaction rate (satisfied only)"),
    "satisfied_rate": gettext_lazy("Satisfaction rate (incl. basically satisfied)"),
    "met_rate": gettext_lazy("Face-to-face rate"),
}
CHART_WIDTH, BAR_HEIGHT, LABEL_WIDTH = 560, 22, 150


@dataclass
class Bar:
    label: str
    value: float  # 0..1 for rates; a count for counts
    text: str  # what is written at the end of the bar
    href: str = ""

    def width(self, scale: float) -> float:
        return round(max(self.value, 0) * scale, 1)


@dataclass
class Chart:
    title: str
    bars: list[Bar]
    percent: bool = False

    @property
    def height(self) -> int:
        return BAR_HEIGHT * len(self.bars) + 8

    @property
    def scale(self) -> float:
        """Pixels per unit: rates run to 100 %, counts to the largest bar."""
        room = CHART_WIDTH - LABEL_WIDTH - 70
        if self.percent:
            return room
        top = max((bar.value for bar in self.bars), default=0)
        return room / top if top else 0

    def rows(self) -> list[dict]:
        return [
            {"bar": bar, "y": 4 + i * BAR_HEIGHT, "width": bar.width(self.scale),
             "text_x": LABEL_WIDTH + bar.width(self.scale) + 6}
            for i, bar in enumerate(self.bars)
        ]


def _scope(user):
    """The office sees everything; a unit's staff see the suggestions their unit leads."""
    role = role_of(user)
    queryset = Suggestion.objects.visible_to(user)
    if role in (Role.OFFICE, Role.ADMIN):
        return queryset, None
    if role in (Role.HANDLER, Role.HEAD):
        return queryset.filter(lead_unit_id=user_unit_id(user)), user.staff_member.unit
    raise PermissionDenied(_("The dashboard is for the congress office and the handling units."))


def _rate_value(counts: dict, key: str) -> float:
    return report.ratio(counts, report.RATE_BY_KEY[key]) or 0.0


def _rate_text(counts: dict, key: str) -> str:
    rate = report.RATE_BY_KEY[key]
    return f"{counts[key]}（{counts[rate.part]}/{counts[rate.whole]}）"


def by_session(queryset, horizon) -> list[tuple[CongressSession, dict]]:
    """The report's totals per session, oldest first, for the trend."""
    figures = report.by_session(queryset, horizon)
    sessions = CongressSession.objects.filter(pk__in=figures).order_by("year", "term", "meeting")
    return [(session, figures[session.pk]) for session in sessions]


def ranked_units(rows: list[dict], key: str) -> tuple[list[dict], list[dict]]:
    """Of the report's rows by unit: units leading at least REPORT_MIN_ITEMS assigned
    suggestions, best rate first; the rest apart, unranked (a rate over two items says
    little)."""
    minimum = getattr(settings, "REPORT_MIN_ITEMS", 5)
    rate = report.RATE_BY_KEY[key]
    ranked = [row for row in rows if row["assigned"] >= minimum and row[rate.whole]]
    ranked.sort(key=lambda row: (-(report.ratio(row, rate) or 0), -row[rate.whole], row["unit"]))
    others = [row for row in rows if row not in ranked]
    return ranked, others


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    queryset, unit = _scope(request.user)
    horizon = due_soon_horizon()  # the calendar, read once for every figure below
    units, total = report.by_unit_and_total(queryset, horizon)
    statuses = dict(queryset.order_by().values_list("status").annotate(n=Count("pk")))
    status_chart = Chart(_("By status"), [
        Bar(str(label), statuses.get(value, 0), str(statuses.get(value, 0)), f"status={value}")
        for value, label in Status.choices
    ])
    rate_chart = Chart(_("Rates"), [
        Bar(str(RATE_LABELS[key]), _rate_value(total, key), _rate_text(total, key))
        for key in RATE_LABELS
    ], percent=True)
    category_chart = Chart(_("Handling results"), [
        Bar(report.category_heading(category), count, str(count), f"result={category}")
        for category, count in total["categories"]
    ])
    sessions = by_session(queryset, horizon)
    trends = [
        Chart(str(RATE_LABELS[key]), [
            Bar(session.name, _rate_value(counts, key), _rate_text(counts, key),
                f"session={session.pk}")
            for session, counts in sessions
        ], percent=True)
        for key in ("replied_rate", "on_time_rate", "satisfied_rate")
    ]
    rankings = []
    if unit is None:
        for key in ("on_time_rate", "satisfied_rate"):
            ranked, others = ranked_units(units, key)
            rankings.append({"title": RATE_LABELS[key], "key": key, "ranked": ranked,
                             "others": others, "rate": report.RATE_BY_KEY[key]})
    overdue = list(
        queryset.overdue().select_related("session", "lead_unit").defer("content")
        .order_by("due_on", "pk")[:20]
    )
    today = timezone.localdate()
    for suggestion in overdue:
        suggestion.days_late = (today - suggestion.due_on).days
    return render(request, "suggestions/dashboard.html", {
        "unit": unit, "total": total, "charts": [status_chart, rate_chart, category_chart],
        "trends": trends, "rankings": rankings, "overdue": overdue,
        "minimum": getattr(settings, "REPORT_MIN_ITEMS", 5),
        "chart_width": CHART_WIDTH, "label_width": LABEL_WIDTH, "bar_height": BAR_HEIGHT - 6,
    })
