"""/verify/ takes an uploaded PDF and says whether it is byte for byte a letter on record."""

import os

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from documents import letters
from documents.models import SignedLetter
from replies.models import Reply
from replies.services import reply_create_draft, reply_send, reply_sign, reply_submit
from suggestions.models import CongressSession, Deputy, HandlingUnit, Status, Suggestion
from suggestions.workflow import transition

MEMORY = {"BACKEND": "django.core.files.storage.InMemoryStorage"}
URL = "/verify/"


@pytest.fixture
def client(client, settings):
    # Pages are in Chinese by default; the messages are checked in the source language.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def memory_storage(settings):
    settings.STORAGES = {**settings.STORAGES, "default": MEMORY}


@pytest.fixture
def seed_letter(memory_storage, demo) -> SignedLetter:
    """The seed case's letter, stored when load_demo signed it."""
    return SignedLetter.objects.select_related("reply").get(reply__suggestion=demo)


def upload(client, data: bytes, name: str = "回复.pdf", **extra):
    assert reverse("documents:verify_form") == URL
    return client.post(URL, {"file": SimpleUploadedFile(name, data, "application/pdf")}, **extra)


def changed(data: bytes, at: int | None = None) -> bytes:
    at = len(data) // 2 if at is None else at
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_the_stored_file_is_genuine_with_the_letters_details(client, seed_letter):
    response = upload(client, letters.read_letter(seed_letter))
    assert response.status_code == 200
    html = response.content.decode()
    assert "verify-genuine" in html and "verify-not-genuine" not in html
    assert response.context["letter"] == seed_letter
    reply = seed_letter.reply
    for shown in ["市八届人大一次会议第120号建议", reply.suggestion.title, reply.title,
                  "晋城市工业和信息化局", "2022年6月21日", "苗学武", seed_letter.sha256,
                  reverse("documents:verify", args=[reply.verification_code])]:
        assert shown in html, shown
    assert '<dd class="verify-version">1</dd>' in html
    assert response.context["superseded_by"] is None and "verify-superseded" not in html


def test_a_one_byte_change_is_not_genuine(client, seed_letter):
    data = letters.read_letter(seed_letter)
    for at in (len(data) // 2, len(data) - 10, 20):
        response = upload(client, changed(data, at))
        assert response.status_code == 200
        html = response.content.decode()
        assert "verify-not-genuine" in html and "verify-genuine" not in html
        assert response.context["letter"] is None
        assert "was changed after it was issued" in html


def test_a_pdf_that_was_never_issued_is_not_on_record(client, seed_letter):
    from documents.pdf import render_reply_pdf

    # The same letter, rendered again: the same text, other bytes, so not the issued file.
    again = render_reply_pdf(seed_letter.reply)
    response = upload(client, again)
    assert response.status_code == 200 and response.context["letter"] is None
    assert "verify-not-genuine" in response.content.decode()
    minimal = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert "verify-not-genuine" in upload(client, minimal).content.decode()


def test_a_superseded_version_says_which_version_replaced_it(client, memory_storage, demo, user):
    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(), number=401, title="关于老旧小区改造的建议",
        content="<p>内容</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    transition(suggestion, name="assign", user=user("office"),
               unit=HandlingUnit.objects.get(name="晋城市工业和信息化局"))
    transition(suggestion, name="accept", user=user("staff"))

    def sent(doc_number: str) -> Reply:
        reply = reply_create_draft(suggestion=suggestion, user=user("staff"))
        Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n一、情况\n正在推进。",
                                                 doc_number=doc_number)
        reply = Reply.objects.get(pk=reply.pk)
        reply_submit(reply=reply, user=user("staff"))
        reply_sign(reply=reply, user=user("head"))
        reply_send(reply=reply, user=user("staff"))
        return Reply.objects.get(pk=reply.pk)

    first = sent("工信建字〔2026〕1号")
    from replies.services import reply_evaluate

    reply_evaluate(reply=first, user=user("deputy"), deputy=suggestion.lead_deputy,
                   attitude="satisfied", result="unsatisfied")
    assert Suggestion.objects.get(pk=suggestion.pk).status == Status.REHANDLING
    first_file = letters.read_letter(first.signed_letter)
    assert upload(client, first_file).context["superseded_by"] is None
    second = sent("工信建字〔2026〕2号")

    response = upload(client, first_file)
    html = response.content.decode()
    assert response.context["letter"].reply == first and "verify-genuine" in html
    assert response.context["superseded_by"] == second
    assert "verify-superseded" in html and "version 2" in html
    latest = upload(client, letters.read_letter(second.signed_letter))
    assert latest.context["letter"].reply == second and latest.context["superseded_by"] is None
    assert '<dd class="verify-version">2</dd>' in latest.content.decode()


def files_under(*directories) -> list[str]:
    return [os.path.join(root, name) for directory in directories
            for root, _, names in os.walk(directory) for name in names]


def test_a_file_over_the_limit_is_refused_and_nothing_is_kept(client, seed_letter, settings,
                                                              tmp_path):
    settings.VERIFY_UPLOAD_MAX_BYTES = 100_000
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")
    os.makedirs(settings.FILE_UPLOAD_TEMP_DIR)
    on_disk = files_under(settings.MEDIA_ROOT, settings.FILE_UPLOAD_TEMP_DIR)
    in_storage = storages["default"].listdir("letters")
    big = b"%PDF-1.7\n" + os.urandom(150_000)
    # Within the multipart allowance: read, counted, and stopped past the limit.
    response = upload(client, big)
    assert response.status_code == 413
    html = response.content.decode()
    assert "too large" in html and "97.7" in html and "verify-upload-error" in html
    # Declared far over the limit: refused on the Content-Length alone.
    huge = b"%PDF-1.7\n" + b"0" * 400_000
    response = upload(client, huge)
    assert response.status_code == 413 and "too large" in response.content.decode()
    assert files_under(settings.MEDIA_ROOT, settings.FILE_UPLOAD_TEMP_DIR) == on_disk
    assert storages["default"].listdir("letters") == in_storage


def test_the_declared_length_alone_refuses_before_the_body_is_read(client, seed_letter, settings):
    settings.VERIFY_UPLOAD_MAX_BYTES = 1000
    response = client.post(URL, b"", content_type="multipart/form-data; boundary=x",
                           CONTENT_LENGTH=str(10 * 1024 * 1024))
    assert response.status_code == 413


def test_an_upload_at_the_default_limit_is_hashed_in_memory_not_on_disk(client, seed_letter,
                                                                          settings, tmp_path):
    # Past FILE_UPLOAD_MAX_MEMORY_SIZE, Django would otherwise spool it to a temporary file.
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    assert settings.VERIFY_UPLOAD_MAX_BYTES == 10 * 1024 * 1024
    data = b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024)
    response = upload(client, data)
    assert response.status_code == 200 and response.context["letter"] is None
    assert response.context["upload"].size == len(data)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("data,name,message", [
    (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "letter.pdf", "not a PDF"),
    (b"<html><body>PDF</body></html>", "letter.pdf", "not a PDF"),
    (b"", "letter.pdf", "The file is empty"),
])
def test_a_file_that_is_not_a_pdf_is_refused(client, seed_letter, data, name, message):
    response = upload(client, data, name)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_no_file_is_refused_with_a_message(client, seed_letter):
    response = client.post(URL, {"other": "x"})
    assert response.status_code == 400 and "Choose the PDF file" in response.content.decode()
    response = client.post(URL, {"other": SimpleUploadedFile("x.pdf", b"%PDF-1.7 x")})
    assert response.status_code == 400


@pytest.mark.parametrize("body,content_type", [
    (b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF",
     "multipart/form-data; boundary=x"),
    (b"garbage", "multipart/form-data"),
    (b"garbage", "multipart/form-data; boundary="),
    (b"\xff\xfe\x00junk", "application/octet-stream"),
    (b"file=%PDF-1.7", "application/x-www-form-urlencoded"),
])
def test_junk_is_a_clear_refusal_never_a_500(client, seed_letter, body, content_type):
    response = client.post(URL, body, content_type=content_type)
    assert response.status_code == 400, response.status_code


def test_csrf_is_checked_and_no_login_is_needed(seed_letter):
    browser = Client(enforce_csrf_checks=True)
    data = letters.read_letter(seed_letter)
    assert upload(browser, data).status_code == 403
    page = browser.get(URL)
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    token = page.cookies["csrftoken"].value
    response = browser.post(URL, {"csrfmiddlewaretoken": token,
                                  "file": SimpleUploadedFile("a.pdf", data, "application/pdf")})
    assert response.status_code == 200 and "verify-genuine" in response.content.decode()


def test_the_uploaded_name_is_shown_escaped(client, seed_letter):
    response = upload(client, b"%PDF-1.7\nnot a letter", name='<img src=x onerror=alert(1)>.pdf')
    html = response.content.decode()
    assert "<img src=x" not in html and "&lt;img" in html


def test_the_code_form_still_works(client, seed_letter):
    code = seed_letter.reply.verification_code
    response = client.get(URL, {"code": code.lower()})
    assert response.status_code == 302 and response["Location"] == f"/verify/{code}/"
