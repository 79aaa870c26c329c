"""Bulk exports of reply letters, run in the background by the task worker."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    # The suggestion list's filters (its query string) at the time of the request.
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("letters"), default=0)
    done = models.PositiveIntegerField(_("exported"), default=0)
    # The zip's name in storages["exports"] (under EXPORT_ROOT, or in a bucket).
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(_("size"), default=0)
    error = models.TextField(_("error"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} · {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0


class SignedLetter(models.Model):
    """The PDF of a signed reply letter, rendered once at sign-off and kept as it was issued.

    Every later download of that version serves these bytes, whatever fonts, templates or
    settings change afterwards (documents.letters). ``sha256`` is the digest of the stored
    bytes: the verification page shows it, and an uploaded copy is genuine when its digest
    is one of these.
    """

    reply = models.OneToOneField(
        "replies.Reply", verbose_name=_("reply"), on_delete=models.PROTECT,
        related_name="signed_letter",
    )
    # The file's name in the default storage: letters/<suggestion>/<reply>-v<version>-<sha8>.pdf
    file = models.FileField(_("file"), upload_to="letters/", max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("size"))
    # WeasyPrint's archival variant it was rendered as (e.g. "pdf/a-3b"); "" for plain PDF.
    pdf_variant = models.CharField(_("PDF variant"), max_length=16, blank=True)
    # A PAdES digital signature with the unit's certificate (PDF_SIGNING_CERT), if configured.
    digitally_signed = models.BooleanField(_("digitally signed"), default=False)
    signer_subject = models.CharField(_("certificate subject"), max_length=400, blank=True)
    # Stored at its first download, after this feature came in, rather than at sign-off.
    backfilled = models.BooleanField(_("stored after signing"), default=False)
    created_at = models.DateTimeField(_("stored at"), auto_now_add=True)

    class Meta:
        verbose_name = _("signed letter")
        verbose_name_plural = _("signed letters")

    def __str__(self) -> str:
        return self.file.name
