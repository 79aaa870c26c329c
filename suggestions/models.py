"""Suggestions and the bodies around them: sessions, deputies, handling units, staff.

Reads that depend on who is asking go through ``Suggestion.objects.visible_to(user)`` so no
view can forget the scope.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from core.calendar import add_working_days
from core.sanitize import sanitize_html
from core.uploads import validate_seal_image

from .fields import SearchDocumentField


class CongressSession(models.Model):
    """届次/会次, e.g. 市八届人大一次会议 (1st session of the 8th municipal congress)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    term = models.PositiveSmallIntegerField(_("term (届)"))
    meeting = models.PositiveSmallIntegerField(_("session (次)"))
    year = models.PositiveSmallIntegerField(pgettext_lazy("congress session", "year"))
    opened_on = models.DateField(_("opened on"), null=True, blank=True)

    class Meta:
        ordering = ["-year", "-term", "-meeting"]
        verbose_name = _("congress session")
        verbose_name_plural = _("congress sessions")
        constraints = [
            models.UniqueConstraint(fields=["term", "meeting"], name="unique_term_meeting"),
        ]

    def __str__(self) -> str:
        return self.name


class Deputy(models.Model):
    """人大代表. Contact details never appear in published replies."""

    name = models.CharField(_("name"), max_length=50)
    work_unit = models.CharField(_("work unit"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    delegation = models.CharField(_("delegation"), max_length=100, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deputy",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("deputy")
        verbose_name_plural = _("deputies")

    def __str__(self) -> str:
        return self.name


class HandlingUnit(models.Model):
    """承办单位, e.g. 晋城市工业和信息化局."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    head_name = models.CharField(_("person in charge"), max_length=50, blank=True)
    letterhead = models.CharField(
        _("letterhead"),
        max_length=100,
        blank=True,
        help_text=_("Organisation name printed in red at the top of letters; blank for none."),
    )
    seal = models.FileField(
        _("seal image"), upload_to="seals/", blank=True, validators=[validate_seal_image],
        help_text=_("PNG with transparency."),
    )
    reply_closing = models.CharField(
        _("closing thanks"),
        max_length=200,
        blank=True,
        help_text=_("Default: 感谢您对我们工作的关心和支持，欢迎今后提出更多宝贵意见。"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("handling unit")
        verbose_name_plural = _("handling units")

    def __str__(self) -> str:
        return self.name

    @property
    def display_short_name(self) -> str:
        return self.short_name or self.name


class StaffMember(models.Model):
    """Ties a login to its role: congress office, or a unit's handler or head."""

    class Role(models.TextChoices):
        OFFICE = "office", _("congress office")
        HANDLER = "handler", _("handler")
        HEAD = "head", _("person in charge")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_member"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    unit = models.ForeignKey(
        HandlingUnit,
        verbose_name=_("handling unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    display_name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        constraints = [
            models.CheckConstraint(
                condition=Q(role="office") | Q(unit__isnull=False),
                name="unit_staff_have_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()})"


class Category(models.TextChoices):
    """办理结果 handling-result categories; which are in use is the HANDLING_CATEGORIES setting."""

    A = "A", _("A: solved or basically solved")
    B = "B", _("B: being solved or planned")
    C = "C", _("C: cannot be solved now, explained")
    D = "D", _("D: kept for reference")


def category_choices() -> list[tuple[str, str]]:
    enabled = set(settings.HANDLING_CATEGORIES)
    return [(value, label) for value, label in Category.choices if value in enabled]


class Disclosure(models.TextChoices):
    """公开属性 of a reply."""

    AGREED = "agreed", _("agreed to publish")
    ACTIVE = "active", _("published actively")
    ON_REQUEST = "on_request", _("published on request")
    WITHHELD = "withheld", _("not published")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY = "basically", _("basically satisfied")
    UNSATISFIED = "unsatisfied", _("unsatisfied")


class Topic(models.TextChoices):
    """建议类别 a suggestion is registered under."""

    ECONOMY = "economy", _("industry and economy")
    AGRICULTURE = "agriculture", _("agriculture and rural affairs")
    URBAN = "urban", _("urban construction and environment")
    EDUCATION = "education", _("education, science and culture")
    HEALTH = "health", _("health and social security")
    GOVERNANCE = "governance", _("government and legal affairs")
    OTHER = "other", _("other")


class Status(models.TextChoices):
    REGISTERED = "registered", _("registered")
    ASSIGNED = "assigned", _("assigned")
    RETURN_REQUESTED = "return_requested", _("return requested")
    HANDLING = "handling", _("in handling")
    REHANDLING = "rehandling", _("re-handling")
    REPLIED = "replied", _("replied")
    EVALUATED = "evaluated", _("evaluated")
    CLOSED = "closed", _("closed")


class DueRule(models.TextChoices):
    """What a due date runs from (suggestions.workflow computes it; core.calendar moves it off
    holidays and weekends, and again when the working calendar changes)."""

    ASSIGN = "assign", _("assignment")
    REASSIGN = "reassign", _("reassignment")
    REHANDLE = "rehandle", _("re-handling")
    EXTENSION = "extension", _("approved extension")


# Assigned and not yet replied: the reply deadline is running.
AWAITING_REPLY = frozenset(
    {Status.ASSIGNED, Status.RETURN_REQUESTED, Status.HANDLING, Status.REHANDLING}
)
REPLIED = frozenset({Status.REPLIED, Status.EVALUATED, Status.CLOSED})


class SuggestionQuerySet(models.QuerySet):
    def visible_to(self, user, *, narrow: bool = False) -> SuggestionQuerySet:
        """The suggestions ``user`` may see; everything else answers 404.

        ``narrow``: the same rows, asked in the form that suits a selection another condition
        already narrows through an index (a status: the to-do groups)."""
        from core.roles import Role, role_of

        role = role_of(user)
        if role in (Role.ADMIN, Role.OFFICE):
            return self.all()
        if role in (Role.HANDLER, Role.HEAD):
            unit = user.staff_member.unit_id
            led = Q(lead_unit_id=unit)
            others = CoHandling.objects.filter(unit_id=unit).values("suggestion_id")
        elif role == Role.DEPUTY:
            deputy = user.deputy.pk
            led = Q(lead_deputy_id=deputy)
            others = Suggestion.co_deputies.through.objects.filter(deputy_id=deputy).values(
                "suggestion_id"
            )
        else:
            return self.none()
        if narrow:
            # ``lead = N OR pk IN (hashed sub-select)``: a test on each row the other condition
            # selects; the form below would first gather every id the user may see (8,000 for
            # a busy unit) for every such query.
            return self.filter(led | Q(pk__in=others))
        # ``pk IN (SELECT led UNION SELECT the others)``: each half is an index-only scan and
        # the whole a set of ids, so a unit's or a deputy's list costs what it shows, not the
        # table (``lead = N OR EXISTS(…)`` can use no index for the OR and scans every row).
        own = Suggestion.objects.filter(led).order_by().values("pk")
        return self.filter(pk__in=own.union(others))

    def overdue(self) -> SuggestionQuerySet:
        return self.filter(overdue_q())

    def due_soon(self) -> SuggestionQuerySet:
        return self.filter(due_soon_q())

    def figures(self) -> dict:
        """The figures offices report (see ``suggestions.report``)."""
        from .report import totals

        return totals(self)


def overdue_q() -> Q:
    """Awaiting a reply and past the due date in force."""
    return Q(status__in=AWAITING_REPLY, due_on__lt=timezone.localdate())


def due_soon_horizon(today: datetime.date | None = None) -> datetime.date:
    """The last due date counted as due soon: ``REMINDER_DAYS_BEFORE`` working days ahead, the
    window the reminders use too, so the list, the to-do and the reminders agree."""
    return add_working_days(today or timezone.localdate(), settings.REMINDER_DAYS_BEFORE)


def _due_soon_label() -> str:
    days = settings.REMINDER_DAYS_BEFORE
    return ngettext("Due within %(days)d working day", "Due within %(days)d working days",
                    days) % {"days": days}


due_soon_label = lazy(_due_soon_label, str)


def due_soon_q(horizon: datetime.date | None = None) -> Q:
    """Awaiting a reply, not yet overdue, and due by ``horizon`` (``due_soon_horizon()``: pass
    it in where several conditions are built at once, to read the calendar once)."""
    today = timezone.localdate()
    return Q(status__in=AWAITING_REPLY, due_on__gte=today,
             due_on__lte=horizon or due_soon_horizon(today))


class Suggestion(models.Model):
    session = models.ForeignKey(
        CongressSession, verbose_name=pgettext_lazy("congress session", "session"), on_delete=models.PROTECT,
        related_name="suggestions",
    )
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    content = models.TextField(
        _("main content"), help_text=_("HTML from other systems is sanitized on save.")
    )
    lead_deputy = models.ForeignKey(
        Deputy, verbose_name=_("lead deputy"), on_delete=models.PROTECT,
        related_name="led_suggestions",
    )
    co_deputies = models.ManyToManyField(
        Deputy, verbose_name=_("co-signing deputies"), blank=True,
        related_name="cosigned_suggestions",
    )
    topic = models.CharField(_("category"), max_length=20, choices=Topic.choices, blank=True)
    lead_unit = models.ForeignKey(
        HandlingUnit, verbose_name=_("lead unit"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="led_suggestions",
    )
    co_units = models.ManyToManyField(
        HandlingUnit, verbose_name=_("co-handling units"), through="CoHandling", blank=True,
        related_name="co_suggestions",
    )
    submitted_on = models.DateField(_("submitted on"), null=True, blank=True)
    assigned_on = models.DateField(_("assigned on"), null=True, blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    due_extended = models.BooleanField(_("deadline extended"), default=False)
    # What due_on was computed from, so that a change of the working calendar recomputes it
    # exactly: the rule, the day it runs from and its months (none: due_basis is the day itself).
    due_rule = models.CharField(
        _("due date rule"), max_length=10, choices=DueRule.choices, blank=True, editable=False
    )
    due_basis = models.DateField(_("due date runs from"), null=True, blank=True, editable=False)
    due_months = models.PositiveSmallIntegerField(
        _("due date months"), null=True, blank=True, editable=False
    )
    key_supervision = models.BooleanField(_("key supervision"), default=False)
    disclosure = models.CharField(
        _("disclosure"), max_length=12, choices=Disclosure.choices, default=Disclosure.AGREED
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REGISTERED,
        db_index=True,
    )
    co_opinions_waived = models.BooleanField(_("co-unit opinions waived"), default=False)
    # The figures offices report, kept current by the moves in the same transaction (see
    # suggestions.workflow, replies.services, consultations.services), so that lists and
    # reports over 10^5 suggestions read columns instead of running subqueries per row.
    handling_result = models.CharField(
        _("handling result"), max_length=1, blank=True, editable=False,
        help_text=_("Category of the latest reply sent."),
    )
    rating = models.CharField(
        _("deputies' rating"), max_length=12, choices=Rating.choices, blank=True, editable=False,
        help_text=_("The rating that counts (REHANDLING_TRIGGER) of the latest reply rated."),
    )
    met = models.BooleanField(_("met face to face"), default=False, editable=False)
    replied_on = models.DateField(_("replied on"), null=True, blank=True, editable=False)
    replied_on_time = models.BooleanField(_("replied on time"), default=False, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # What the list's search looks in, as tokens (suggestions.search): title, content, number,
    # deputies, units, reply document numbers. Written by save() when it is stale and by
    # search.refresh_search(); a plain save() of an unchanged suggestion leaves it alone.
    search_document = SearchDocumentField(
        _("search document"), blank=True, default="", editable=False
    )

    objects = SuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["session", "number"]
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "number"], name="unique_number_per_session",
                violation_error_message=_("This session already has a suggestion with this number."),
            ),
        ]
        indexes = [
            # A unit's work by status, with its ids and due dates from the index alone: its
            # to-do groups (to accept, to meet, to draft, overdue…) and visible_to's own half.
            models.Index(fields=["lead_unit", "status"], include=["id", "due_on"],
                         name="suggestion_unit_status"),
            # The list's sort orders (?sort=number, ?sort=due_on) and the search by number.
            models.Index(fields=["number"], name="suggestion_number_idx"),
            models.Index(fields=["due_on"], name="suggestion_due_on_idx"),
            # The list's order (newest session first, then by number), read from the index,
            # and the sort keys of any set of ids (a unit's, a deputy's, a to-do group's)
            # without their rows.
            models.Index(fields=["-session", "number"], include=["id"], name="suggestion_list_order"),
            models.Index(fields=["id"], include=["session", "number", "due_on"],
                         name="suggestion_order_keys"),
            # visible_to: a deputy's suggestion ids from the index alone (a unit's: above).
            models.Index(fields=["lead_deputy"], include=["id"], name="suggestion_deputy_ids"),
            # The figures above the list (suggestions.report) by an index-only scan: the
            # columns they count and those the list filters by, without the wide rows.
            models.Index(
                fields=["status", "due_on"], name="suggestion_figures",
                include=["handling_result", "rating", "met", "replied_on_time", "session",
                         "lead_unit", "topic", "key_supervision", "id"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session.name}第{self.number}号建议"

    def save(self, *args, **kwargs) -> None:
        from .search import document_of, refresh_later

        self.content = sanitize_html(self.content)
        stale = getattr(self, "_search_stale", False) or self._search_key() != getattr(
            self, "_search_source", None
        )
        if self._state.adding:
            self.search_document = document_of(self)
        elif stale and not refresh_later([self.pk]):
            self.search_document = document_of(self)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "search_document"}
        elif kwargs.get("update_fields") is None and not kwargs.get("force_insert") and not args:
            # Unchanged, or made later (search.refreshed_together): leave the stored document
            # alone (search.refresh_search may have rewritten it since this instance was loaded).
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                f.attname for f in self._meta.concrete_fields
                if not f.primary_key and f.attname != "search_document" and f.attname not in deferred
            ]
        super().save(*args, **kwargs)
        self._search_stale = False
        self._search_source = self._search_key()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._search_source = instance._search_key()
        return instance

    def _search_key(self) -> tuple:
        """The own fields the search document is made of, as loaded (deferred ones: None)."""
        loaded = self.__dict__
        return tuple(loaded.get(name) for name in (
            "title", "content", "number", "session_id", "lead_deputy_id", "lead_unit_id"))

    @property
    def reference(self) -> str:
        """e.g. 市八届人大一次会议第120号建议"""
        return str(self)

    def deputies(self) -> list[Deputy]:
        return [self.lead_deputy, *self.co_deputies.order_by("name")]

    def is_overdue(self) -> bool:
        return bool(
            self.due_on and self.status in AWAITING_REPLY and self.due_on < timezone.localdate()
        )


class CoHandling(models.Model):
    """A co-handling unit (协办单位) and the written opinion it sends the lead unit."""

    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.CASCADE, related_name="co_handlings"
    )
    unit = models.ForeignKey(
        HandlingUnit, verbose_name=_("co-handling unit"), on_delete=models.PROTECT
    )
    required = models.BooleanField(_("opinion required"), default=True)
    due_on = models.DateField(_("opinion due on"), null=True, blank=True)
    # What due_on was computed from (see Suggestion.due_basis).
    due_basis = models.DateField(_("due date runs from"), null=True, blank=True, editable=False)
    due_months = models.PositiveSmallIntegerField(
        _("due date months"), null=True, blank=True, editable=False
    )
    opinion = models.TextField(_("co-handling opinion"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("co-handling")
        verbose_name_plural = _("co-handlings")
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "unit"], name="unique_co_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.suggestion} / {self.unit}"


class SuggestionLink(models.Model):
    """Two suggestions the congress office linked: similar (相似) or handled together (并案).

    One row per pair, stored with the lower id first; both suggestions show it
    (``suggestions.links.links_of``). Made and removed by the ``link`` / ``unlink`` moves.
    """

    class Kind(models.TextChoices):
        SIMILAR = "similar", _("similar")
        MERGED = "merged", _("merged handling")

    first = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SIMILAR)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("suggestion link")
        verbose_name_plural = _("suggestion links")
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="unique_suggestion_link"),
            models.CheckConstraint(condition=Q(first__lt=models.F("second")),
                                   name="suggestion_link_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} ~ {self.second_id} ({self.kind})"

    def other(self, suggestion_id: int) -> int:
        return self.second_id if self.first_id == suggestion_id else self.first_id


class Event(models.Model):
    """Immutable history: status changes, sign-offs, exports, with who, when, from, to and a note.

    ``internal`` events (e.g. PDF exports, return requests between office and unit) are left out
    of the timeline deputies see.
    """

    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    note = models.TextField(_("note"), blank=True)
    internal = models.BooleanField(_("internal"), default=False)
    object_label = models.CharField(_("object"), max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionDenied("Events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Events are immutable.")

    @property
    def actor_name(self) -> str:
        from core.roles import display_name

        return display_name(self.actor) if self.actor else ""

    @property
    def action_label(self) -> str:
        from .workflow import action_label

        return action_label(self.action)

    def status_label(self, value: str) -> str:
        return Status(value).label if value in Status.values else value

    @property
    def from_label(self) -> str:
        return self.status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return self.status_label(self.to_status)


class ExtensionRequest(models.Model):
    """The lead unit's request for a later due date, and the congress office's decision."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("awaiting decision")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")
        WITHDRAWN = "withdrawn", _("withdrawn")  # reassigned, replied or re-handled meanwhile

    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.CASCADE, related_name="extension_requests"
    )
    proposed_due = models.DateField(_("proposed due date"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    granted_due = models.DateField(_("granted due date"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The office's note on its decision is the decision's event (approve_/refuse_extension).

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(
                fields=["suggestion"], condition=Q(decision="pending"),
                name="one_pending_extension_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.suggestion} → {self.proposed_due.isoformat()}"
