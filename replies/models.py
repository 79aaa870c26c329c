"""Reply letters (答复) and the deputies' evaluations of them.

A signed reply is frozen: its letter fields can no longer change, and a changed reply is a new
version. The earlier versions stay on record.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from suggestions.models import Category, Deputy, Disclosure, HandlingUnit, Rating, Suggestion


class ReplyFrozen(Exception):
    """Raised when something tries to change the letter of a signed reply."""


class ReplyStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PENDING = "pending", _("awaiting sign-off")
    SIGNED = "signed", _("signed")
    SENT = "sent", _("sent")
    # An unsigned draft of a unit the suggestion was taken away from: kept on record.
    WITHDRAWN = "withdrawn", _("withdrawn")


class ReplyQuerySet(models.QuerySet):
    def signed(self) -> ReplyQuerySet:
        return self.filter(status__in=[ReplyStatus.SIGNED, ReplyStatus.SENT])

    def latest_signed(self) -> ReplyQuerySet:
        """Signed letters not replaced by a later signed version: what exports hand out."""
        newer = Reply.objects.signed().filter(
            suggestion_id=models.OuterRef("suggestion_id"), version__gt=models.OuterRef("version")
        )
        return self.signed().exclude(models.Exists(newer))

    def superseding(self, reply: Reply) -> Reply | None:
        """The first later version of ``reply`` that was signed, if any."""
        return self.signed().filter(
            suggestion_id=reply.suggestion_id, version__gt=reply.version
        ).order_by("version").first()

    def visible_to(self, user) -> ReplyQuerySet:
        """Drafts stay inside the issuing unit and the office; deputies and co-units see the
        reply once it is sent."""
        from core.roles import Role, role_of, user_unit_id

        scoped = self.filter(suggestion__in=Suggestion.objects.visible_to(user))
        role = role_of(user)
        if role in (Role.ADMIN, Role.OFFICE):
            return scoped
        if role in (Role.HANDLER, Role.HEAD):
            return scoped.filter(
                models.Q(issuing_unit_id=user_unit_id(user)) | models.Q(status=ReplyStatus.SENT)
            )
        return scoped.filter(status=ReplyStatus.SENT)


# The fields that make up the letter: frozen at sign-off and covered by the fingerprint.
LETTER_FIELDS = (
    "title", "doc_number", "salutation", "body", "category", "disclosure", "signer_name",
    "handler_name", "contact_phone", "issuing_unit_name", "letter_date", "copy_to",
)


class Reply(models.Model):
    suggestion = models.ForeignKey(
        Suggestion, verbose_name=_("suggestion"), on_delete=models.PROTECT,
        related_name="replies",
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    title = models.CharField(_("letter title"), max_length=200)
    doc_number = models.CharField(
        _("document number"), max_length=50, blank=True, help_text=_("e.g. 建议字〔2023〕8号")
    )
    salutation = models.CharField(_("salutation"), max_length=100)
    body = models.TextField(
        _("body"),
        help_text=_("One paragraph per line. Lines starting with 一、 or （一） become headings; "
                    "**text** is printed in bold."),
    )
    category = models.CharField(
        _("handling category"), max_length=1, choices=Category.choices, blank=True
    )
    disclosure = models.CharField(
        _("disclosure"), max_length=12, choices=Disclosure.choices, default=Disclosure.AGREED
    )
    signer_name = models.CharField(_("person in charge"), max_length=50, blank=True)
    handler_name = models.CharField(_("handler"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    issuing_unit = models.ForeignKey(
        HandlingUnit, verbose_name=_("issuing unit"), on_delete=models.PROTECT,
        related_name="replies",
    )
    issuing_unit_name = models.CharField(_("issuing unit name"), max_length=100)
    letter_date = models.DateField(_("letter date"), null=True, blank=True)
    copy_to = models.CharField(_("copy to"), max_length=300, blank=True)

    status = models.CharField(
        _("status"), max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    content_hash = models.CharField(_("fingerprint"), max_length=64, blank=True)
    verification_code = models.CharField(
        _("verification code"), max_length=20, unique=True, null=True, blank=True
    )
    lock_version = models.PositiveIntegerField(default=0)

    objects = ReplyQuerySet.as_manager()

    class Meta:
        ordering = ["suggestion", "version"]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "version"], name="unique_reply_version"),
        ]
        # The to-do lists and the rules ask "replies in these statuses (of this unit)" at
        # 10^5 suggestions: a draft to revise, a letter to sign or send (without it, a
        # sequential scan of every reply per question).
        indexes = [
            models.Index(fields=["status", "issuing_unit", "suggestion"], name="reply_status_unit"),
        ]

    def __str__(self) -> str:
        suffix = f"（第{self.version}版）" if self.version > 1 else ""
        return f"{self.title}{suffix}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            stored = Reply.objects.filter(pk=self.pk).values(*LETTER_FIELDS, "status").first()
            if stored and stored["status"] in (ReplyStatus.SIGNED, ReplyStatus.SENT):
                changed = [f for f in LETTER_FIELDS if stored[f] != getattr(self, f)]
                if changed:
                    raise ReplyFrozen(f"Reply {self.pk} is signed; changed: {', '.join(changed)}")
        super().save(*args, **kwargs)

    @property
    def is_frozen(self) -> bool:
        return self.status in (ReplyStatus.SIGNED, ReplyStatus.SENT)

    @property
    def is_editable(self) -> bool:
        return self.status == ReplyStatus.DRAFT

    def letter_content(self) -> dict:
        """Everything the fingerprint covers: the letter, and all the verification page shows."""
        suggestion = self.suggestion
        return {
            name: (getattr(self, name).isoformat() if name == "letter_date" and self.letter_date
                   else str(getattr(self, name) or ""))
            for name in LETTER_FIELDS
        } | {
            "suggestion": suggestion.reference,
            "suggestion_session": suggestion.session.name,
            "suggestion_number": suggestion.number,
            "suggestion_title": suggestion.title,
            "issuing_unit": self.issuing_unit_id,
            "version": self.version,
            "verification_code": self.verification_code or "",
        }

    def compute_hash(self) -> str:
        """HMAC-SHA256 of the letter's content, keyed by settings.VERIFICATION_KEY.

        A keyed fingerprint: whoever can write the database but does not hold the key cannot
        change a letter and make its stored fingerprint match again.
        """
        import hmac

        from django.core.exceptions import ImproperlyConfigured

        key = getattr(settings, "VERIFICATION_KEY", "")
        if not key:
            raise ImproperlyConfigured(
                "VERIFICATION_KEY is not set: signed letters can be neither fingerprinted nor "
                "verified."
            )
        canonical = json.dumps(self.letter_content(), ensure_ascii=False, sort_keys=True)
        return hmac.new(key.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()

    def pdf_filename(self) -> str:
        suffix = f"（第{self.version}版）" if self.version > 1 else ""
        return f"{self.suggestion.session.name}第{self.suggestion.number}号建议的回复{suffix}.pdf"


class Evaluation(models.Model):
    """测评: a deputy's rating of a sent reply. One per deputy per reply."""

    class Source(models.TextChoices):
        ONLINE = "online", _("online by the deputy")
        CONSULTATION = "consultation", _("recorded at a consultation")
        PAPER = "paper", _("paper form entered by the office")

    reply = models.ForeignKey(Reply, on_delete=models.PROTECT, related_name="evaluations")
    deputy = models.ForeignKey(Deputy, on_delete=models.PROTECT, related_name="evaluations")
    attitude = models.CharField(_("handling attitude"), max_length=12, choices=Rating.choices)
    result = models.CharField(_("handling result"), max_length=12, choices=Rating.choices)
    comment = models.TextField(_("comments"), blank=True)
    source = models.CharField(
        _("source"), max_length=12, choices=Source.choices, default=Source.ONLINE
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(fields=["reply", "deputy"], name="one_rating_per_deputy"),
        ]

    def __str__(self) -> str:
        return f"{self.deputy} · {self.get_result_display()}"

    @property
    def is_unsatisfied(self) -> bool:
        return Rating.UNSATISFIED in (self.attitude, self.result)
