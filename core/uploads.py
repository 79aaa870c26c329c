"""Upload checks: the type is decided by the file's content, not by its name or the browser."""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# content type: (leading bytes, allowed extensions)
SIGNATURES = {
    "application/pdf": (b"%PDF-", {".pdf"}),
    "image/png": (b"\x89PNG\r\n\x1a\n", {".png"}),
    "image/jpeg": (b"\xff\xd8\xff", {".jpg", ".jpeg"}),
}


def sniff(upload: UploadedFile) -> str:
    """Return the checked content type of ``upload`` or raise ValidationError."""
    if upload.size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(settings.UPLOAD_MAX_BYTES)}
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    suffix = PurePath(upload.name or "").suffix.lower()
    for content_type, (magic, suffixes) in SIGNATURES.items():
        if head.startswith(magic):
            if suffix not in suffixes:
                raise ValidationError(
                    _("The file's name does not match its content (%(type)s).")
                    % {"type": content_type}
                )
            return content_type
    raise ValidationError(_("Only PDF, PNG and JPEG files can be uploaded."))


def validate_seal_image(upload) -> None:
    """Model-field validator for a unit's seal: a PNG or JPEG image, checked by content."""
    if sniff(upload) not in ("image/png", "image/jpeg"):
        raise ValidationError(_("The seal must be a PNG or JPEG image."))
