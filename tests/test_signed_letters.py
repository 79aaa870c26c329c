"""Signed letters kept as signed: rendered once at sign-off (PDF/A-3b), stored, served as stored."""

import hashlib
import io
import re

import pytest
from django.core.files.storage import InMemoryStorage, storages
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from core.rules import WorkflowError
from documents import letters
from documents.models import SignedLetter
from documents.pdfcheck import fonts_of, text_of
from replies.models import Reply, ReplyStatus
from replies.services import reply_create_draft, reply_sign, reply_submit
from suggestions.models import CongressSession, Deputy, Event, HandlingUnit, Suggestion
from suggestions.workflow import transition

MEMORY = {"BACKEND": "django.core.files.storage.InMemoryStorage"}


@pytest.fixture
def memory_storage(settings):
    settings.STORAGES = {**settings.STORAGES, "default": MEMORY}
    return lambda: storages["default"]


def stored_names(storage, directory: str = "letters") -> list[str]:
    """Every file under ``directory`` of the storage."""
    folders, files = storage.listdir(directory) if storage.exists(directory) else ([], [])
    names = [f"{directory}/{name}" for name in files]
    for folder in folders:
        names += stored_names(storage, f"{directory}/{folder}")
    return names


def pending_reply(user, number: int = 401) -> Reply:
    """A reply of 晋城市工业和信息化局 awaiting sign-off, on a suggestion of its own."""
    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(), number=number, title="关于老旧小区改造的建议",
        content="<p>内容</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    transition(suggestion, name="assign", user=user("office"),
               unit=HandlingUnit.objects.get(name="晋城市工业和信息化局"))
    transition(suggestion, name="accept", user=user("staff"))
    reply = reply_create_draft(suggestion=suggestion, user=user("staff"))
    Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n一、情况\n正在推进。")
    reply = Reply.objects.get(pk=reply.pk)
    reply_submit(reply=reply, user=user("staff"))
    return Reply.objects.get(pk=reply.pk)


@pytest.fixture
def pending(memory_storage, demo, user):
    return pending_reply(user)


def download(client, reply) -> bytes:
    response = client.get(reverse("replies:pdf", args=[reply.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_signing_stores_one_file_whose_bytes_every_download_serves(pending, user, login,
                                                                   memory_storage, monkeypatch):
    before = stored_names(memory_storage())
    signed = reply_sign(reply=pending, user=user("head"))
    assert isinstance(signed, Reply) and signed.status == ReplyStatus.SIGNED  # the move's result

    letter = SignedLetter.objects.get(reply=pending)
    storage = memory_storage()
    added = sorted(set(stored_names(storage)) - set(before))
    assert added == [letter.file.name]  # exactly one file
    assert re.fullmatch(
        rf"letters/{pending.suggestion_id}/{pending.pk}-v1-{letter.sha256[:8]}\.pdf", letter.file.name)
    with storage.open(letter.file.name, "rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == letter.sha256 and letter.size == len(data)
    assert letter.pdf_variant == "pdf/a-3b" and not letter.backfilled
    assert not letter.digitally_signed and letter.signer_subject == ""
    # The stored file is the signed letter: its code and its (keyed) fingerprint are printed.
    signed = Reply.objects.get(pk=pending.pk)
    text = re.sub(r"\s+", "", text_of(data))
    assert signed.content_hash in text
    assert signed.verification_code[:4] in text

    staff = login("staff")
    assert download(staff, signed) == data
    # Fonts, templates and the renderer change after signing: the letter does not.
    from documents import pdf

    real_html = pdf.reply_html
    monkeypatch.setattr(pdf, "reply_html", lambda reply: real_html(reply).replace(
        "</head>", "<style>body { font-size: 30pt }</style></head>"))
    assert pdf.render_reply_pdf(signed) != data  # the renderer now makes other bytes
    assert download(staff, signed) == data
    assert download(login("head"), signed) == data
    assert set(stored_names(storage)) == set(before) | {letter.file.name}
    assert SignedLetter.objects.filter(reply=pending).count() == 1
    assert Event.objects.filter(suggestion=pending.suggestion, action="pdf_export").count() == 3


def test_the_stored_letter_is_pdf_a_3b(pending, user, memory_storage):
    reply_sign(reply=pending, user=user("head"))
    letter = SignedLetter.objects.get(reply=pending)
    data = letters.read_letter(letter)
    assert data.startswith(b"%PDF-1.7")
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    [intent] = root["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent.get_object()
    assert reader.trailer["/ID"]
    fonts = fonts_of(data)
    assert fonts and all(font["embedded"] for font in fonts.values())


def test_drafts_and_letters_awaiting_sign_off_are_rendered_on_the_fly(pending, login, memory_storage):
    before = stored_names(memory_storage())
    first = download(login("staff"), pending)
    assert first.startswith(b"%PDF-")
    assert not SignedLetter.objects.filter(reply=pending).exists()
    assert stored_names(memory_storage()) == before


def test_a_storage_failure_leaves_the_reply_unsigned(pending, user, login, memory_storage,
                                                     monkeypatch, settings):
    def broken(self, name, content):
        raise OSError("disk full")

    monkeypatch.setattr(InMemoryStorage, "_save", broken)
    with pytest.raises(WorkflowError, match="could not be stored"), translation.override("en"):
        reply_sign(reply=pending, user=user("head"))
    # Through the page: the reason is shown, never a 500.
    head = login("head")
    head.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the message in the source language
    response = head.post(reverse("replies:sign", args=[pending.pk]), follow=True)
    assert response.status_code == 200
    assert "could not be stored" in response.content.decode()
    reply = Reply.objects.get(pk=pending.pk)
    assert reply.status == ReplyStatus.PENDING
    assert reply.verification_code is None and reply.content_hash == "" and reply.signed_at is None
    assert not SignedLetter.objects.filter(reply=reply).exists()
    assert not Event.objects.filter(suggestion=reply.suggestion, action="reply_signed").exists()


def test_a_row_that_cannot_be_written_takes_its_file_with_it(pending, user, memory_storage,
                                                             monkeypatch):
    before = stored_names(memory_storage())

    def refuse(*args, **kwargs):
        raise RuntimeError("database refused the row")

    monkeypatch.setattr(SignedLetter.objects, "create", refuse)
    with pytest.raises(RuntimeError):
        reply_sign(reply=pending, user=user("head"))
    assert stored_names(memory_storage()) == before
    assert Reply.objects.get(pk=pending.pk).status == ReplyStatus.PENDING


def test_a_move_rolled_back_after_the_letter_was_stored_deletes_the_file(pending, user,
                                                                         memory_storage):
    before = stored_names(memory_storage())
    with pytest.raises(RuntimeError), transaction.atomic():
        reply_sign(reply=pending, user=user("head"))
        assert len(stored_names(memory_storage())) == len(before) + 1
        raise RuntimeError("something after the sign-off failed")
    assert stored_names(memory_storage()) == before
    assert Reply.objects.get(pk=pending.pk).status == ReplyStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_committed_sign_off_keeps_its_file_and_a_rolled_back_one_does_not(settings, user):
    from demo.seed import load_demo

    settings.STORAGES = {**settings.STORAGES, "default": MEMORY}
    load_demo()
    storage = storages["default"]
    kept = pending_reply(user)
    reply_sign(reply=kept, user=user("head"))  # its own transaction, committed
    letter = SignedLetter.objects.get(reply=kept)
    assert storage.exists(letter.file.name)

    rolled_back = pending_reply(user, number=402)
    before = stored_names(storage)
    with pytest.raises(RuntimeError), transaction.atomic():
        reply_sign(reply=rolled_back, user=user("head"))
        raise RuntimeError("rolled back")
    assert stored_names(storage) == before and storage.exists(letter.file.name)
    assert not SignedLetter.objects.filter(reply=rolled_back).exists()


def test_a_letter_signed_before_is_stored_once_at_its_first_download(memory_storage, demo, login,
                                                                      monkeypatch):
    # The seed letter, as if signed before letters were stored: no row, no file.
    seed = demo.replies.get()
    storage = memory_storage()
    for name in stored_names(storage):
        storage.delete(name)
    SignedLetter.objects.all().delete()

    deputy = login("deputy")
    first = download(deputy, seed)
    letter = SignedLetter.objects.get(reply=seed)
    assert letter.backfilled and stored_names(storage) == [letter.file.name]
    assert hashlib.sha256(first).hexdigest() == letter.sha256
    assert letter.file.name.startswith(f"letters/{seed.suggestion_id}/{seed.pk}-v1-")

    from documents import pdf

    monkeypatch.setattr(pdf, "reply_html", lambda reply: "<p>changed</p>")
    assert download(deputy, seed) == first
    assert download(login("staff"), seed) == first
    assert SignedLetter.objects.filter(reply=seed).count() == 1 and len(stored_names(storage)) == 1


def test_a_changed_stored_file_is_not_served(memory_storage, demo, login, caplog, settings):
    letter = SignedLetter.objects.get(reply__suggestion=demo)
    storage = memory_storage()
    data = letters.read_letter(letter)
    storage.delete(letter.file.name)
    middle = len(data) // 2
    storage.save(letter.file.name, io.BytesIO(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:]))
    staff = login("staff")
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = staff.get(reverse("replies:pdf", args=[letter.reply_id]))
    assert response.status_code == 500
    assert "damaged" in response.content.decode()
    assert any("no longer match" in record.getMessage() for record in caplog.records)


def test_the_seed_letter_is_stored_when_the_demo_signs_it(memory_storage, demo):
    letter = SignedLetter.objects.get(reply__suggestion=demo)
    assert not letter.backfilled
    assert letters.read_letter(letter).startswith(b"%PDF-1.7")


def test_the_verification_page_shows_the_stored_files_sha256(memory_storage, demo, client):
    letter = SignedLetter.objects.get(reply__suggestion=demo)
    html = client.get(reverse("documents:verify", args=[letter.reply.verification_code])).content.decode()
    assert letter.sha256 in html and "PDF/A-3B" in html
    assert 'class="verify-pades"' in html


def test_an_unknown_archive_variant_is_a_system_check_error(settings):
    settings.PDF_ARCHIVE_VARIANT = "pdf/a-9z"
    assert [m.id for m in letters.check_signing_settings()] == ["documents.E003"]
    settings.PDF_ARCHIVE_VARIANT = "pdf/a-3b"
    assert letters.check_signing_settings() == []


def test_with_no_archive_variant_the_letter_is_stored_as_plain_pdf(pending, user, settings,
                                                                   memory_storage):
    settings.PDF_ARCHIVE_VARIANT = ""
    reply_sign(reply=pending, user=user("head"))
    letter = SignedLetter.objects.get(reply=pending)
    assert letter.pdf_variant == ""
    assert "/OutputIntents" not in PdfReader(io.BytesIO(letters.read_letter(letter))).trailer["/Root"]
