"""The working calendar in the admin: days the package does not know yet are entered here, and
every change recomputes the open deadlines that depend on it (``core.calendar``)."""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from . import calendar
from .models import CalendarDay, CalendarYear


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "kind", "note", "source"]
    list_filter = ["kind", "source"]
    search_fields = ["note"]
    date_hierarchy = "date"
    fields = ["date", "kind", "note", "source"]
    readonly_fields = ["source"]

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        return calendar.weekday_name(obj.date)

    def save_model(self, request, obj, form, change):
        obj.source = CalendarDay.Source.MANUAL  # a hand-made change survives the next sync
        with calendar.changes(actor=request.user):
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        with calendar.changes(actor=request.user):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with calendar.changes(actor=request.user):
            for obj in queryset:  # one signal for all, with every date
                obj.delete()


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "complete", "holidays", "workdays", "source", "note", "updated_at"]
    list_filter = ["complete", "source"]
    fields = ["year", "complete", "note", "source"]
    readonly_fields = ["source"]

    @admin.display(description=_("holidays"))
    def holidays(self, obj: CalendarYear) -> int:
        return self._counts(obj).get(CalendarDay.Kind.HOLIDAY, 0)

    @admin.display(description=_("make-up working days"))
    def workdays(self, obj: CalendarYear) -> int:
        return self._counts(obj).get(CalendarDay.Kind.WORKDAY, 0)

    def _counts(self, obj: CalendarYear) -> dict:
        cached = getattr(obj, "_day_counts", None)
        if cached is None:
            rows = CalendarDay.objects.filter(date__year=obj.year).aggregate(
                holiday=Count("pk", filter=Q(kind=CalendarDay.Kind.HOLIDAY)),
                workday=Count("pk", filter=Q(kind=CalendarDay.Kind.WORKDAY)),
            )
            cached = obj._day_counts = rows
        return cached

    def save_model(self, request, obj, form, change):
        if not change:
            obj.source = CalendarDay.Source.MANUAL
        super().save_model(request, obj, form, change)
