"""PAdES: with the unit's certificate configured, the stored letter is digitally signed."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from core.rules import WorkflowError
from demo.management.commands.make_demo_certificate import CERT_NAME, KEY_NAME
from documents import letters
from documents.models import SignedLetter
from replies.models import Reply, ReplyStatus
from replies.services import reply_create_draft, reply_sign, reply_submit
from suggestions.models import Suggestion

MEMORY = {"BACKEND": "django.core.files.storage.InMemoryStorage"}


@pytest.fixture
def certificate(tmp_path, settings):
    """A throwaway demo key and self-signed certificate, made as `make run` makes its own."""
    out = io.StringIO()
    call_command("make_demo_certificate", out=str(tmp_path / "cert"), stdout=out)
    cert, key = tmp_path / "cert" / CERT_NAME, tmp_path / "cert" / KEY_NAME
    assert f"PDF_SIGNING_CERT={cert}" in out.getvalue()
    settings.PDF_SIGNING_CERT, settings.PDF_SIGNING_KEY = str(cert), str(key)
    return cert


@pytest.fixture
def pending(settings, demo, user):
    settings.STORAGES = {**settings.STORAGES, "default": MEMORY}
    reply = reply_create_draft(suggestion=Suggestion.objects.get(number=123), user=user("staff"))
    Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n一、情况\n已协调金融机构。")
    reply = Reply.objects.get(pk=reply.pk)
    reply_submit(reply=reply, user=user("staff"))
    return Reply.objects.get(pk=reply.pk)


def trusting(cert) -> ValidationContext:
    return ValidationContext(trust_roots=[load_cert_from_pemder(str(cert))])


def validate(data: bytes, cert):
    [signature] = PdfFileReader(io.BytesIO(data)).embedded_signatures
    return signature, validate_pdf_signature(signature, trusting(cert))


def sign(pending, user, certificate) -> tuple[SignedLetter, bytes]:
    reply_sign(reply=pending, user=user("head"))
    letter = SignedLetter.objects.get(reply=pending)
    return letter, letters.read_letter(letter)


def test_the_stored_letter_carries_a_valid_pades_signature(pending, user, certificate):
    letter, data = sign(pending, user, certificate)
    assert letter.digitally_signed
    assert letter.signer_subject.startswith("CN=晋城市工业和信息化局（演示证书）")
    signature, status = validate(data, certificate)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert status.coverage.name == "ENTIRE_FILE"
    # The letter itself is what was signed: its text, code and fingerprint.
    from documents.pdfcheck import text_of

    reply = Reply.objects.get(pk=pending.pk)
    assert reply.content_hash in re.sub(r"\s+", "", text_of(data))


def test_a_changed_byte_breaks_the_signature(pending, user, certificate):
    _, data = sign(pending, user, certificate)
    # A byte of the signed range (the header's binary comment): the file still parses.
    at = data.index(b"\n", 0) + 2
    tampered = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
    assert tampered != data
    _, status = validate(tampered, certificate)
    assert not status.intact and not status.bottom_line
    # Another certificate's holder is not trusted with it either.
    other = certificate.parent.parent / "other"
    call_command("make_demo_certificate", out=str(other), stdout=io.StringIO())
    _, untrusted = validate(data, other / CERT_NAME)
    assert untrusted.intact and not untrusted.trusted


def test_the_signed_file_stays_pdf_a_as_far_as_pyhanko_allows(pending, user, certificate):
    _, data = sign(pending, user, certificate)
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert data.startswith(b"%PDF-1.7") and "/Version" not in root  # no PDF 2.0 marker
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    # PDF/A: the Info dictionary's Producer is the XMP one.
    producer = re.search(r'pdf:Producer="([^"]+)"|<pdf:Producer>([^<]+)<', xmp)
    assert producer and reader.trailer["/Info"]["/Producer"] == (producer[1] or producer[2])
    # The signature's widget is invisible and printable (PDF/A wants the print flag).
    [widget] = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    assert widget["/FT"] == "/Sig" and int(widget["/F"]) & 4
    assert [float(x) for x in widget["/Rect"]] == [0, 0, 0, 0]


def test_the_verification_page_shows_the_signature(pending, user, certificate, client):
    letter, _ = sign(pending, user, certificate)
    code = Reply.objects.get(pk=pending.pk).verification_code
    html = client.get(reverse("documents:verify", args=[code])).content.decode()
    assert "PAdES" in html and "晋城市工业和信息化局（演示证书）" in html and letter.sha256 in html


def test_an_encrypted_key_needs_its_passphrase(pending, user, settings, tmp_path):
    call_command("make_demo_certificate", out=str(tmp_path), passphrase="口令-2026",
                 stdout=io.StringIO())
    assert b"ENCRYPTED" in (tmp_path / KEY_NAME).read_bytes()
    settings.PDF_SIGNING_CERT = str(tmp_path / CERT_NAME)
    settings.PDF_SIGNING_KEY = str(tmp_path / KEY_NAME)
    settings.PDF_SIGNING_KEY_PASSPHRASE = "wrong"
    assert [m.id for m in letters.check_signing_settings()] == ["documents.E004"]
    with pytest.raises(WorkflowError, match="digitally signed"), translation.override("en"):
        reply_sign(reply=pending, user=user("head"))
    reply = Reply.objects.get(pk=pending.pk)
    assert reply.status == ReplyStatus.PENDING and not SignedLetter.objects.filter(reply=reply).exists()

    settings.PDF_SIGNING_KEY_PASSPHRASE = "口令-2026"
    assert letters.check_signing_settings() == []
    letter, data = sign(pending, user, tmp_path / CERT_NAME)
    assert letter.digitally_signed and validate(data, tmp_path / CERT_NAME)[1].bottom_line


def test_half_a_configuration_is_a_system_check_error(settings, tmp_path):
    settings.PDF_SIGNING_CERT = str(tmp_path / "missing.pem")
    settings.PDF_SIGNING_KEY = ""
    assert [m.id for m in letters.check_signing_settings()] == ["documents.E004"]
    settings.PDF_SIGNING_CERT = ""
    assert letters.check_signing_settings() == []


def test_the_demo_certificate_is_made_once(tmp_path):
    call_command("make_demo_certificate", out=str(tmp_path), stdout=io.StringIO())
    first = (tmp_path / CERT_NAME).read_bytes()
    assert (tmp_path / KEY_NAME).stat().st_mode & 0o077 == 0  # the key is the owner's only
    out = io.StringIO()
    call_command("make_demo_certificate", out=str(tmp_path), stdout=out)
    assert (tmp_path / CERT_NAME).read_bytes() == first and "kept" in out.getvalue()
    call_command("make_demo_certificate", out=str(tmp_path), force=True, stdout=io.StringIO())
    assert (tmp_path / CERT_NAME).read_bytes() != first
