"""Consultation records (面商记录表): each contact with a deputy about a suggestion."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from suggestions.models import Category, Deputy, Rating, Suggestion


class Method(models.TextChoices):
    FACE_TO_FACE = "face", _("face to face")
    PHONE = "phone", _("phone")
    VIDEO = "video", _("video call")
    VISIT = "visit", _("visit")
    MEETING = "meeting", _("meeting")


class Signature(models.TextChoices):
    PENDING = "pending", _("not signed yet")
    PAPER = "paper", _("signed on paper, scan uploaded")
    ONLINE = "online", _("confirmed online by the deputy")


class ConsultationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ConsultationQuerySet:
        """Units and the office see every record of a visible suggestion; a deputy sees the
        records of their own meetings (a record carries the deputy's phone)."""
        from core.roles import Role, role_of

        scoped = self.filter(suggestion__in=Suggestion.objects.visible_to(user))
        if role_of(user) == Role.DEPUTY:
            return scoped.filter(deputy=user.deputy)
        return scoped


class Consultation(models.Model):
    suggestion = models.ForeignKey(
        Suggestion, verbose_name=_("suggestion"), on_delete=models.PROTECT,
        related_name="consultations",
    )
    deputy = models.ForeignKey(
        Deputy, verbose_name=_("deputy"), on_delete=models.PROTECT, related_name="consultations"
    )
    method = models.CharField(
        _("method"), max_length=10, choices=Method.choices, default=Method.FACE_TO_FACE
    )
    held_on = models.DateField(_("date"))
    held_at = models.TimeField(_("time"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    attendees = models.CharField(
        _("bureau attendees"), max_length=200, help_text=_("Names of the staff who met the deputy.")
    )
    attendee_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    content_summary = models.TextField(
        _("main content of the suggestion"), blank=True,
        help_text=_("As written on the record; defaults to the suggestion's content."),
    )
    reply_points = models.TextField(_("key points of the reply"), blank=True)
    proposed_category = models.CharField(
        _("handling category"), max_length=1, choices=Category.choices, blank=True
    )
    deputy_opinion = models.TextField(_("deputy's opinions and requests"), blank=True)
    satisfaction = models.CharField(
        _("deputy's satisfaction"), max_length=12, choices=Rating.choices, blank=True
    )
    signature = models.CharField(
        _("signature"), max_length=10, choices=Signature.choices, default=Signature.PENDING
    )
    signed_name = models.CharField(_("signed by"), max_length=50, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic locking: a save must name the version it was edited from.
    lock_version = models.PositiveIntegerField(default=0)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["held_on", "pk"]
        verbose_name = _("consultation record")
        verbose_name_plural = _("consultation records")

    def __str__(self) -> str:
        return f"{self.suggestion} · {self.held_on:%Y-%m-%d} {self.get_method_display()}"

    @property
    def is_signed(self) -> bool:
        return self.signature != Signature.PENDING


def attachment_path(instance: Attachment, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    # Never trust the uploaded name on disk: a random name, the checked extension.
    return f"consultations/{instance.consultation_id}/{uuid.uuid4().hex}{PurePath(filename).suffix}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        SCAN = "scan", _("signed record scan")
        OTHER = "other", _("other attachment")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SCAN)
    file = models.FileField(_("file"), upload_to=attachment_path)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name
