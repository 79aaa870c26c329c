import django_filters
from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from .models import CoHandling, CongressSession, HandlingUnit, Status, Suggestion, Topic
from .report import category_heading


def yes_no():
    return forms.Select(choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))])


class SuggestionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
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
        label=_("Due within 15 days"), method="by_due_soon", widget=yes_no()
    )

    class Meta:
        model = Suggestion
        fields = ["q", "status", "session", "unit", "topic", "result", "key_supervision",
                  "overdue", "due_soon"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q(title__icontains=value) | Q(content__icontains=value) | Q(
            lead_deputy__name__icontains=value
        )
        if value.isdigit():
            condition |= Q(number=int(value))
        return queryset.filter(condition)

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
