"""Signed letters kept as signed: rendered once at sign-off, stored, served as stored.

At sign-off (an effect the documents app adds to the reply's "sign" move, after the
verification code and the keyed fingerprint are set) the letter is rendered once, as the
archival PDF variant WeasyPrint writes (``PDF_ARCHIVE_VARIANT``, PDF/A-3b by default),
digitally signed (PAdES baseline B, pyHanko) when the unit's certificate is configured, and
saved in the default storage under ``letters/<suggestion>/<reply>-v<version>-<sha8>.pdf``. A
:class:`~documents.models.SignedLetter` row records the file, the SHA-256 of its bytes, its
size, variant and signature. Every later download serves exactly those bytes.

Storage writes are not transactional, so the order is: render, write the file, then the row;
a failed write fails the sign-off (nothing is signed), a failed row deletes the file, and a
transaction that rolls back after that deletes it too (:func:`delete_on_rollback`).

Letters signed before this existed have no stored file: the first download renders and
stores one (:func:`letter_for`, ``backfilled``), and from then on it is served as stored.

Verification of an uploaded copy (:class:`DigestUploadHandler`, :func:`find_by_digest`): the
upload is hashed chunk by chunk as it arrives, never written anywhere, and is genuine when
its SHA-256 is that of a stored letter.
"""

from __future__ import annotations

import copy
import hashlib
import io
import logging
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.rules import WorkflowError
from core.uploads import SIGNATURES
from replies.models import Reply, ReplyStatus

from .models import SignedLetter

logger = logging.getLogger(__name__)

PDF_MAGIC = SIGNATURES["application/pdf"][0]
SIGNED = (ReplyStatus.SIGNED, ReplyStatus.SENT)


class LetterError(Exception):
    """The stored letter cannot be served as it was issued (missing or changed bytes)."""


class SigningError(Exception):
    """The PAdES signature could not be made (settings, certificate, key, pyHanko)."""


# --- Rendering ------------------------------------------------------------------------------

def archive_variant() -> str:
    """WeasyPrint's PDF variant for stored letters ("" or None: plain PDF)."""
    return getattr(settings, "PDF_ARCHIVE_VARIANT", "pdf/a-3b") or ""


def is_signed(reply: Reply) -> bool:
    return reply.status in SIGNED and bool(reply.verification_code)


def render_archival(reply: Reply) -> bytes:
    """The signed letter as the archival PDF variant, with its code, QR and fingerprint.

    At sign-off the effect runs before the move sets the status, so the letter is drawn from
    a copy that already says "signed" (the caller's instance is left as it is).
    """
    from .pdf import get_renderer, reply_html

    drawn = copy.copy(reply)
    drawn.status = ReplyStatus.SIGNED if reply.status not in SIGNED else reply.status
    return get_renderer().render(reply_html(drawn), "letter", pdf_variant=archive_variant() or None)


# --- PAdES (optional: PDF_SIGNING_CERT and PDF_SIGNING_KEY) ---------------------------------

def signing_configured() -> bool:
    return bool(getattr(settings, "PDF_SIGNING_CERT", "") or getattr(settings, "PDF_SIGNING_KEY", ""))


def load_signer():
    """pyHanko's signer for the unit's key and certificate (and its CA chain, if given)."""
    cert = getattr(settings, "PDF_SIGNING_CERT", "")
    key = getattr(settings, "PDF_SIGNING_KEY", "")
    chain = tuple(getattr(settings, "PDF_SIGNING_CA_CHAIN", ()))
    if not (cert and key):
        raise SigningError("PDF_SIGNING_CERT and PDF_SIGNING_KEY must be set together.")
    for path in (cert, key, *chain):
        if not Path(path).is_file():
            raise SigningError(f"Signing file not found: {path}")
    try:
        from pyhanko.sign import signers
    except ImportError as error:
        raise SigningError(
            "pyHanko is not installed: pip install 'deputy-suggestions[sign]'."
        ) from error
    passphrase = getattr(settings, "PDF_SIGNING_KEY_PASSPHRASE", "")
    try:
        signer = signers.SimpleSigner.load(
            key, cert, ca_chain_files=chain or None,
            key_passphrase=passphrase.encode("utf-8") if passphrase else None,
        )
    except Exception as error:  # pyHanko/cryptography raise many kinds on a bad key or cert
        raise SigningError(f"Cannot load the signing key or certificate: {error}") from error
    if signer is None:  # pyHanko logs the reason and returns None
        raise SigningError("Cannot load the signing key or certificate (wrong passphrase?).")
    return signer


def certificate_subject(signer) -> str:
    """The signer certificate's subject as RFC 4514 writes it: CN=…,O=…,C=CN."""
    from cryptography import x509

    return x509.load_der_x509_certificate(signer.signing_cert.dump()).subject.rfc4514_string()


def _align_producer(writer) -> None:
    """PDF/A: the Info dictionary's Producer must equal the XMP metadata's, which pyHanko sets
    to its own name; it leaves an Info Producer that already is that name as it is."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.metadata.model import VENDOR

    try:
        old = writer.prev.trailer_view["/Info"]
    except KeyError:
        return
    info = generic.DictionaryObject(dict(old.items()))
    info[generic.NameObject("/Producer")] = generic.TextStringObject(VENDOR)
    writer.set_info(info)


def pades_sign(data: bytes, signer=None) -> tuple[bytes, str]:
    """Sign ``data`` (PAdES baseline B: ETSI.CAdES.detached, SHA-256, no time stamp) in an
    incremental update, so the PDF/A file before it is left byte for byte as it was.

    With an RSA key the file stays PDF 1.7, as PDF/A-3 requires; pyHanko marks an ECDSA
    signature as the ISO 32002 extension of PDF 2.0."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signer or load_signer()
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        _align_producer(writer)
        meta = signers.PdfSignatureMetadata(
            field_name="Signature1", md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES, reason="负责人签发",
        )
        signed = signers.sign_pdf(writer, meta, signer=signer)
    except Exception as error:
        raise SigningError(f"pyHanko could not sign the letter: {error}") from error
    return signed.getvalue(), certificate_subject(signer)


# --- Storing --------------------------------------------------------------------------------

@dataclass
class Rendered:
    data: bytes
    variant: str
    signer_subject: str = ""
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.data).hexdigest()


def render_for_storage(reply: Reply) -> Rendered:
    data = render_archival(reply)
    subject = ""
    if signing_configured():
        data, subject = pades_sign(data)
    return Rendered(data, archive_variant(), subject)


def letter_name(reply: Reply, sha256: str) -> str:
    return f"letters/{reply.suggestion_id}/{reply.pk}-v{reply.version}-{sha256[:8]}.pdf"


def letter_storage():
    """The default storage (MEDIA_ROOT, or the bucket with STORAGE_BACKEND=s3)."""
    return storages["default"]


def store(reply: Reply, *, backfilled: bool = False) -> SignedLetter:
    """Render ``reply`` once, write the file, then its row; raise WorkflowError, leaving
    nothing behind, if any step fails. Call inside a transaction (a move, or letter_for)."""
    try:
        rendered = render_for_storage(reply)
    except SigningError as error:
        logger.error("Reply %s: PAdES signing failed: %s", reply.pk, error)
        raise WorkflowError(_(
            "The letter could not be digitally signed with the unit's certificate, so it was "
            "not signed off. Tell the administrator (PDF signing settings)."
        )) from error
    except Exception as error:
        logger.exception("Reply %s: the signed letter could not be rendered", reply.pk)
        raise WorkflowError(_(
            "The signed letter could not be produced, so it was not signed off. Try again; "
            "if it fails again, tell the administrator."
        )) from error
    storage = letter_storage()
    try:
        name = storage.save(letter_name(reply, rendered.sha256), ContentFile(rendered.data))
    except Exception as error:
        logger.exception("Reply %s: the signed letter could not be stored", reply.pk)
        raise WorkflowError(_(
            "The signed letter could not be stored, so it was not signed off. Try again; "
            "if it fails again, tell the administrator."
        )) from error
    try:
        with transaction.atomic():
            letter = SignedLetter.objects.create(
                reply=reply, file=name, sha256=rendered.sha256, size=len(rendered.data),
                pdf_variant=rendered.variant, digitally_signed=bool(rendered.signer_subject),
                signer_subject=rendered.signer_subject[:400], backfilled=backfilled,
            )
    except BaseException:
        _delete_quietly(storage, name)
        raise
    delete_on_rollback(storage, name)
    return letter


def store_signed_letter(reply: Reply, user, params: dict) -> None:
    """Effect of the reply's "sign" move (added in documents.apps): keep the letter as signed.

    Returns nothing, so the move still returns the reply."""
    store(reply)


def letter_for(reply: Reply) -> SignedLetter | None:
    """The stored letter of a signed reply; a letter signed before letters were stored is
    rendered and stored now, once (its first download). None for unsigned replies."""
    if not is_signed(reply):
        return None
    letter = SignedLetter.objects.filter(reply_id=reply.pk).first()
    if letter is not None:
        return letter
    try:
        with transaction.atomic():
            locked = (Reply.objects.select_for_update()
                      .select_related("suggestion__session", "issuing_unit").get(pk=reply.pk))
            letter = SignedLetter.objects.filter(reply_id=reply.pk).first()
            return letter or store(locked, backfilled=True)
    except IntegrityError:  # another request stored it meanwhile (SQLite has no row locks)
        return SignedLetter.objects.get(reply_id=reply.pk)


def read_letter(letter: SignedLetter) -> bytes:
    """The stored bytes, checked against the SHA-256 recorded when they were stored."""
    try:
        with letter_storage().open(letter.file.name, "rb") as handle:
            data = handle.read()
    except (OSError, ValueError) as error:
        raise LetterError(f"{letter.file.name}: cannot be read ({error})") from error
    if hashlib.sha256(data).hexdigest() != letter.sha256:
        raise LetterError(f"{letter.file.name}: its bytes no longer match the recorded SHA-256")
    return data


# --- Files of a rolled-back transaction -----------------------------------------------------

class _Pending:
    """Held only by the on-commit callback below: freed when the callback has run or when a
    rollback discards it."""


def delete_on_rollback(storage, name: str, using: str | None = None) -> None:
    """Delete ``storage``'s file ``name`` if the current transaction (or the savepoint it was
    written in) rolls back.

    Django has on-commit hooks but none on rollback. A rollback discards the transaction's
    pending on-commit callbacks, so the file's fate is tied to one of them: a callback that
    marks the file as committed, and holds the only reference to a token whose finalizer
    deletes the file unless it was marked. Commit: marked, then freed, nothing deleted.
    Rollback: discarded unmarked, freed, the file is deleted.
    """
    state = {"committed": False}
    token = _Pending()

    def committed(token=token) -> None:
        state["committed"] = True

    weakref.finalize(token, _delete_unless_committed, storage, name, state)
    transaction.on_commit(committed, using=using)


def _delete_unless_committed(storage, name: str, state: dict) -> None:
    if not state["committed"]:
        _delete_quietly(storage, name)


def _delete_quietly(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # noqa: BLE001  (cleanup of an orphan: log, never mask the real error)
        logger.warning("Could not delete the orphaned letter file %s", name, exc_info=True)


# --- Verification of an uploaded copy -------------------------------------------------------

def upload_limit() -> int:
    return int(getattr(settings, "VERIFY_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


@dataclass
class HashedUpload:
    """What is kept of an uploaded file: its name, size, first bytes and SHA-256."""

    name: str
    size: int
    head: bytes
    sha256: str

    def close(self) -> None:  # the request closes its files when it ends
        pass


class DigestUploadHandler(FileUploadHandler):
    """Hashes the form's ``file`` field as it arrives, keeping only its first bytes: nothing
    is written to memory in full, nor to disk. More than the limit stops the upload."""

    FIELD = "file"
    HEAD = 16

    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = upload_limit() if limit is None else limit
        self.too_large = False
        self.seen = False
        self._digest = None
        self._head = b""
        self._size = 0

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != self.FIELD or self.seen:
            raise SkipFile()  # one file, in the one field
        self.seen = True
        self._digest, self._head, self._size = hashlib.sha256(), b"", 0

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        if len(self._head) < self.HEAD:
            self._head += raw_data[: self.HEAD - len(self._head)]
        self._digest.update(raw_data)
        return None  # consumed: no other handler gets the data

    def file_complete(self, file_size):
        return HashedUpload(self.file_name or "", self._size, self._head, self._digest.hexdigest())


def looks_like_pdf(upload: HashedUpload) -> bool:
    return upload.head.startswith(PDF_MAGIC)


def find_by_digest(sha256: str) -> SignedLetter | None:
    return (SignedLetter.objects.filter(sha256=sha256)
            .select_related("reply__suggestion__session", "reply__issuing_unit").first())


# --- System check ---------------------------------------------------------------------------

@checks.register(checks.Tags.security)
def check_signing_settings(app_configs=None, **kwargs):
    """PDF_ARCHIVE_VARIANT is one WeasyPrint knows; the PAdES certificate and key load."""
    messages = []
    variant = archive_variant()
    if variant:
        from weasyprint.pdf import VARIANTS

        if variant not in VARIANTS:
            messages.append(checks.Error(
                f"PDF_ARCHIVE_VARIANT {variant!r} is not a PDF variant WeasyPrint writes.",
                hint="Use pdf/a-3b (the default), another of weasyprint.pdf.VARIANTS, or empty.",
                id="documents.E003",
            ))
    if signing_configured():
        try:
            load_signer()
        except SigningError as error:
            messages.append(checks.Error(
                f"Signed letters cannot be digitally signed: {error}",
                hint=("Set PDF_SIGNING_CERT and PDF_SIGNING_KEY to readable PEM/DER files (and "
                      "PDF_SIGNING_KEY_PASSPHRASE for an encrypted key), install the 'sign' "
                      "extra, or unset both to store letters unsigned."),
                id="documents.E004",
            ))
    return messages
