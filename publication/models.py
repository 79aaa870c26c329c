"""What the public may read of a sent reply, and when."""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from replies.models import Reply
from suggestions.fields import SearchDocumentField
from suggestions.models import Disclosure
from suggestions.search import build_document

# 同意公开 and 主动公开 are published; 依申请公开 only on request, 不予公开 never.
PUBLISHED_DISCLOSURES = (Disclosure.AGREED, Disclosure.ACTIVE)


PUBLIC_VERSION_KEY = "public-version"


def public_version() -> str:
    """Changes whenever a publication does (kept in the cache, shared when it is Redis): the
    public pages' cached counts are keyed on it."""
    return cache.get_or_set(PUBLIC_VERSION_KEY, lambda: uuid.uuid4().hex, None)


def publications_changed() -> None:
    """Now, and again once committed: a page counted in between would keep the old count."""
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    cache.set(PUBLIC_VERSION_KEY, uuid.uuid4().hex, None)


def document_of(title: str, text: str) -> str:
    """What the public search finds a publication by: its published (redacted) words only."""
    return build_document([title, text])


class PublicationQuerySet(models.QuerySet):
    def public(self) -> PublicationQuerySet:
        """What anyone may read: not withheld, due, and not replaced by a later reply sent.

        One table, one index (at 10^5 letters a join to the replies per row costs ~0.5 s a
        page): a publication exists only for a sent reply whose disclosure allows it (made by
        the send move; a signed letter, disclosure included, cannot change), and ``replaced``
        is set when a later version of the reply is sent."""
        return self.filter(status=Publication.Status.PUBLIC, publish_on__lte=timezone.localdate(),
                           replaced=False)


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
    # A later version of the reply was sent: this letter is no longer the answer.
    replaced = models.BooleanField(_("replaced by a later reply"), default=False, editable=False)
    # The public search's tokens (as the suggestions' search makes them: see suggestions.search),
    # of the published title and text only; kept by save().
    search_document = SearchDocumentField(
        _("search document"), blank=True, default="", editable=False
    )

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_on", "-pk"]
        indexes = [
            # The public list, newest first, and its count.
            models.Index(fields=["-publish_on", "-id"], name="publication_public_list",
                         condition=models.Q(status="public", replaced=False)),
        ]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")

    def __str__(self) -> str:
        return self.public_title

    def save(self, *args, **kwargs) -> None:
        self.search_document = document_of(self.public_title, self.public_text)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_document"}
        super().save(*args, **kwargs)
        publications_changed()

    @property
    def is_public(self) -> bool:
        return Publication.objects.public().filter(pk=self.pk).exists()
