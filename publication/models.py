"""What the public may read of a sent reply, and when."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from replies.models import Reply, ReplyStatus
from suggestions.fields import SearchDocumentField
from suggestions.models import Disclosure
from suggestions.search import build_document

# 同意公开 and 主动公开 are published; 依申请公开 only on request, 不予公开 never.
PUBLISHED_DISCLOSURES = (Disclosure.AGREED, Disclosure.ACTIVE)


def document_of(title: str, text: str) -> str:
    """What the public search finds a publication by: its published (redacted) words only."""
    return build_document([title, text])


class PublicationQuerySet(models.QuerySet):
    def public(self) -> PublicationQuerySet:
        """What anyone may read: not withheld, due, of a sent reply that allows publication
        and that no later reply sent replaced."""
        newer = Reply.objects.filter(
            suggestion_id=models.OuterRef("reply__suggestion_id"),
            version__gt=models.OuterRef("reply__version"), status=ReplyStatus.SENT,
        )
        return self.filter(
            status=Publication.Status.PUBLIC, publish_on__lte=timezone.localdate(),
            reply__status=ReplyStatus.SENT, reply__disclosure__in=PUBLISHED_DISCLOSURES,
        ).exclude(models.Exists(newer))


class Publication(models.Model):
    class Status(models.TextChoices):
        PUBLIC = "public", _("to be published")
        WITHHELD = "withheld", _("withheld by the office")

    reply = models.OneToOneField(Reply, on_delete=models.PROTECT, related_name="publication")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PUBLIC)
    publish_on = models.DateField(_("published on"), db_index=True)
    withheld_reason = models.TextField(_("reason for withholding"), blank=True)
    # Passages the office removed, on top of the contact details removed by pattern.
    redactions = models.JSONField(_("passages removed"), default=list, blank=True)
    # The letter as the public reads it (redacted): pages and search use only this text, so
    # no search can find what was removed.
    public_title = models.CharField(_("title"), max_length=300)
    public_text = models.TextField(_("text"))
    updated_at = models.DateTimeField(auto_now=True)
    # The public search's tokens (as the suggestions' search makes them: see suggestions.search),
    # of the published title and text only; kept by save().
    search_document = SearchDocumentField(
        _("search document"), blank=True, default="", editable=False
    )

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_on", "-pk"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")

    def __str__(self) -> str:
        return self.public_title

    def save(self, *args, **kwargs) -> None:
        self.search_document = document_of(self.public_title, self.public_text)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_document"}
        super().save(*args, **kwargs)

    @property
    def is_public(self) -> bool:
        return Publication.objects.public().filter(pk=self.pk).exists()
