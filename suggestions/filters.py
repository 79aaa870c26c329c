import django_filters
from django import forms
from django.conf import settings
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from . import search as text_search
from .models import (
    CoHandling,
    CongressSession,
    HandlingUnit,
    Status,
    Suggestion,
    Topic,
    due_soon_label,
)
from .report import category_heading

# ?sort=…: each order ends with the id, so pages never share or skip a row. Number and due
# date are indexed (PostgreSQL reads them in order and stops after a page); status follows the
# workflow's order, not the alphabet.
STATUS_ORDER = Case(
    *(When(status=value, then=Value(rank)) for rank, value in enumerate(Status.values)),
    default=Value(len(Status.values)), output_field=IntegerField(),
)
SORTS = {
    "number": ("number", "pk"),
    "-number": ("-number", "-pk"),
    "due_on": (F("due_on").asc(nulls_last=True), "pk"),
    "-due_on": (F("due_on").desc(nulls_last=True), "-pk"),
    "status": (STATUS_ORDER.asc(), "pk"),
    "unit": (F("lead_unit__name").asc(nulls_last=True), "pk"),
}
SORT_CHOICES = [
    ("number", _("Number, ascending")),
    ("-number", _("Number, descending")),
    ("due_on", _("Due date, earliest first")),
    ("-due_on", _("Due date, latest first")),
    ("status", _("Status")),
    ("unit", _("Lead unit")),
]
# The list's sortable columns: (first click, second click; None: back to the default order).
HEADER_SORTS = {
    "number": ("number", "-number"),
    "due_on": ("due_on", "-due_on"),
    "status": ("status", None),
    "unit": ("unit", None),
}


def sort_headers(params: QueryDict) -> dict[str, dict[str, str]]:
    """For each sortable column: the URL its header links to (the filters kept, page 1) and
    its aria-sort state."""
    current = params.get("sort", "")
    query = params.copy()
    query.pop("page", None)
    query.pop("sort", None)
    headers = {}
    for column, (first, second) in HEADER_SORTS.items():
        if current == first:
            following, state = second, "ascending"
        elif second and current == second:
            following, state = first, "descending"
        else:
            following, state = first, "none"
        link = query.copy()
        if following:
            link["sort"] = following
        headers[column] = {"url": f"?{link.urlencode()}", "state": state}
    return headers


def yes_no():
    return forms.Select(choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))])


def list_navigation(params: QueryDict, page) -> dict:
    """The list's sortable headers and numbered page links (1 2 … n)."""
    return {
        "headers": sort_headers(params),
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
    }


class SuggestionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search",
        widget=forms.TextInput(attrs={
            "type": "search",
            "placeholder": _("No., title, content, deputy, unit, document number"),
        }),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Status.choices, empty_label=_("All")
    )
    session = django_filters.ModelChoiceFilter(
        label=_("Session"), queryset=CongressSession.objects.all(), empty_label=_("All")
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("Handling unit"), queryset=HandlingUnit.objects.all(), method="by_unit",
        empty_label=_("All"),
    )
    topic = django_filters.ChoiceFilter(
        label=_("Category"), choices=Topic.choices, empty_label=_("All")
    )
    result = django_filters.ChoiceFilter(
        label=_("Handling result"), method="by_result", empty_label=_("All"),
        choices=lambda: [(c, category_heading(c)) for c in settings.HANDLING_CATEGORIES],
    )
    key_supervision = django_filters.BooleanFilter(label=_("Key supervision"), widget=yes_no())
    overdue = django_filters.BooleanFilter(
        label=_("Overdue"), method="by_overdue", widget=yes_no()
    )
    due_soon = django_filters.BooleanFilter(
        label=due_soon_label(), method="by_due_soon", widget=yes_no()
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"), choices=SORT_CHOICES, method="sort_by",
        empty_label=_("Session and number"),
    )

    class Meta:
        model = Suggestion
        fields = ["q", "status", "session", "unit", "topic", "result", "key_supervision",
                  "overdue", "due_soon", "sort"]

    def search(self, queryset, name, value):
        """Every space-separated term must match (see suggestions.search); the suggestions
        whose number was typed come first."""
        queryset, numbers = text_search.search(queryset, value or "")
        if numbers:
            named = Case(When(number__in=numbers, then=Value(0)), default=Value(1),
                         output_field=IntegerField())
            queryset = queryset.alias(number_named=named).order_by(
                "number_named", *queryset.query.order_by
            )
        return queryset

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORTS[value]) if value in SORTS else queryset

    def by_unit(self, queryset, name, value):
        if not value:
            return queryset
        co_unit = CoHandling.objects.filter(suggestion=OuterRef("pk"), unit=value)
        return queryset.filter(Q(lead_unit=value) | Q(Exists(co_unit)))

    def by_result(self, queryset, name, value):
        """B and C items are tracked until solved, into the next year (DOMAIN.md)."""
        if not value:
            return queryset
        return queryset.filter(handling_result=value)

    def by_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = queryset.overdue()
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def by_due_soon(self, queryset, name, value):
        if value is None:
            return queryset
        soon = queryset.due_soon()
        return soon if value else queryset.exclude(pk__in=soon.values("pk"))
