"""One-time form tokens: a create form submitted twice (a double click, a retried request)
creates one object, and the second submission is sent where the first one went. The working
calendar's days and years (``core.calendar``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SubmittedForm(models.Model):
    token = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    result_url = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "submitted form"

    def __str__(self) -> str:
        return str(self.token)


class CalendarDay(models.Model):
    """A day that is not what its weekday says: a public holiday (off, even on a weekday) or a
    make-up working day (调休, a weekend day that is worked). Every other day is a working day
    from Monday to Friday. See ``core.calendar``."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday (day off)")
        WORKDAY = "workday", _("make-up working day (调休)")

    class Source(models.TextChoices):
        PACKAGE = "package", _("chinese-calendar package")
        MANUAL = "manual", _("entered by hand")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.CharField(
        _("note"), max_length=100, blank=True,
        help_text=_("The holiday it belongs to, e.g. 国庆节; deadlines' explanations quote it."),
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.MANUAL,
        help_text=_("Days entered by hand are kept when the package is synced."),
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # What a change moves from (core.calendar recomputes the deadlines on both days).
        instance._original = (instance.__dict__.get("date"), instance.__dict__.get("kind"))
        return instance


class CalendarYear(models.Model):
    """Whether a year's holidays and make-up working days are all in the calendar. A year
    that is not complete counts weekends (and the days entered so far) only."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    complete = models.BooleanField(
        _("complete"), default=False,
        help_text=_("Every holiday and make-up working day of the year is entered."),
    )
    source = models.CharField(
        _("source"), max_length=10, choices=CalendarDay.Source.choices,
        default=CalendarDay.Source.MANUAL,
    )
    note = models.CharField(
        _("note"), max_length=200, blank=True,
        help_text=_("e.g. the State Council's notice the days were taken from."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")

    def __str__(self) -> str:
        return str(self.year)
