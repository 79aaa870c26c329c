"""Security properties: sanitizing, CSRF, login throttling, uploads, deploy settings, audit."""

import io
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from consultations.models import Attachment, Consultation
from suggestions.models import CongressSession, Deputy, Event, HandlingUnit, Suggestion

PAYLOAD = (
    '<p onclick="alert(1)">正文</p><script>alert("x")</script>'
    '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">链接</a>'
)


def test_suggestion_html_is_sanitized_on_input_and_escaped_on_output(demo, login):
    client = login("office")
    response = client.post("/suggestions/new/", {
        "session": CongressSession.objects.get().pk, "number": 300, "title": "<b>标题</b><script>x</script>",
        "content": PAYLOAD, "lead_deputy": Deputy.objects.get(name="苏红平").pk,
        "disclosure": "agreed",
    })
    assert response.status_code == 302
    suggestion = Suggestion.objects.get(number=300)
    assert "<script" not in suggestion.content and "onerror" not in suggestion.content
    assert "onclick" not in suggestion.content and "javascript:" not in suggestion.content
    assert "<p>正文</p>" in suggestion.content
    page = client.get(f"/suggestions/{suggestion.pk}/").content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert 'onerror="alert(2)"' not in page and "alert(" not in page.split("<main", 1)[1]


def test_rows_written_around_the_model_are_still_cleaned_on_output(demo, login):
    Suggestion.objects.filter(number=120).update(content=PAYLOAD)  # bypasses save()
    page = login("staff").get(f"/suggestions/{demo.pk}/").content.decode()
    assert "<script>" not in page.split("<main", 1)[1] and "onerror" not in page


def test_forms_require_csrf_token(demo, user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user("staff"))
    handling = Suggestion.objects.get(number=123)
    response = client.post(f"/consultations/new/{handling.pk}/", {"place": "x"})
    assert response.status_code == 403
    assert not Consultation.objects.filter(suggestion=handling).exists()


def test_login_is_throttled_after_repeated_failures(demo, client):
    for _ in range(django_settings.LOGIN_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "staff", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "staff", "password": "demo-pass-2022"})
    assert response.status_code == 200  # refused although the password is right
    assert "_auth_user_id" not in client.session


def test_login_works_with_the_demo_password(demo, client):
    response = client.post("/accounts/login/", {"username": "staff", "password": "demo-pass-2022"})
    assert response.status_code == 302 and response["Location"] == "/suggestions/"


def test_production_settings_pass_deploy_check():
    env = {
        **{k: v for k, v in os.environ.items()
           if not k.startswith("SECURE_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "0", "TESTING": "", "SECRET_KEY": "Kq9#pL2$vW8@zR5!mN7&" * 3,
        "ALLOWED_HOSTS": "suggestions.example.gov.cn", "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_fails_without_a_secret_key():
    env = {
        **{k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE")},
        "DEBUG": "0", "ALLOWED_HOSTS": "suggestions.example.gov.cn",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stdout + result.stderr


def test_pages_send_content_security_policy(client, db):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_healthz(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_own_404_page(demo, login):
    response = login("staff").get("/suggestions/999999/")
    assert response.status_code == 404
    assert "404" in response.content.decode() and "<main" in response.content.decode()


# --- Uploads ---

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def record(demo):
    return Consultation.objects.get(suggestion__number=120)


def upload(client, record, name, content, kind="scan"):
    return client.post(
        f"/consultations/{record.pk}/attachments/",
        {"kind": kind, "file": SimpleUploadedFile(name, content, content_type="application/pdf")},
        follow=True,
    )


def test_scan_upload_is_stored_outside_static_and_served_with_permission(record, login, settings,
                                                                       tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = upload(login("staff"), record, "签字扫描件.pdf", PDF_BYTES)
    assert response.status_code == 200
    attachment = Attachment.objects.get()
    assert attachment.content_type == "application/pdf" and attachment.size == len(PDF_BYTES)
    path = os.path.realpath(attachment.file.path)
    assert path.startswith(str(tmp_path))
    assert not path.startswith(os.path.realpath(django_settings.BASE_DIR / "static"))
    assert "签字扫描件" not in os.path.basename(path)  # stored under a random name
    url = f"/consultations/attachments/{attachment.pk}/"
    own = login("deputy").get(url)
    assert own.status_code == 200 and b"".join(own.streaming_content) == PDF_BYTES
    assert login("other_staff").get(url).status_code == 404
    assert login("other_deputy").get(url).status_code == 404
    assert Client().get(url).status_code == 302


@pytest.mark.parametrize("name,content", [
    ("scan.pdf", b"MZ\x90\x00 this is an executable"),
    ("scan.png", PDF_BYTES),  # name does not match the content
    ("scan.html", b"<html><script>alert(1)</script></html>"),
])
def test_uploads_are_checked_by_content(record, login, settings, tmp_path, name, content):
    settings.MEDIA_ROOT = tmp_path
    response = upload(login("staff"), record, name, content)
    assert response.status_code == 200
    assert not Attachment.objects.exists()
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_upload_size_limit(record, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_MAX_BYTES = 1024
    response = upload(login("staff"), record, "big.png", PNG_BYTES + b"\x00" * 2048)
    assert not Attachment.objects.exists()
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_deputy_cannot_upload(record, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload(login("deputy"), record, "scan.pdf", PDF_BYTES)
    assert not Attachment.objects.exists()


# --- Audit trail ---

def test_reassignment_sign_off_and_evaluation_are_audited(demo, login, user):
    pending = Suggestion.objects.get(number=122)  # assigned to 教育局
    zjj = HandlingUnit.objects.get(name="晋城市住房和城乡建设局")
    login("office").post(f"/suggestions/{pending.pk}/assign/", {"unit": zjj.pk, "note": "调整"})
    event = Event.objects.get(suggestion=pending, action="reassign")
    assert event.actor == user("office") and event.note == "调整"
    assert Event.objects.filter(suggestion=demo, action="reply_signed", actor=user("head")).exists()
    assert Event.objects.filter(suggestion=demo, action="evaluate").exists()


def test_pdf_downloads_are_audited(demo, login, user):
    reply = demo.replies.get()
    response = login("deputy").get(f"/replies/{reply.pk}/pdf/")
    assert response.status_code == 200
    assert Event.objects.filter(action="pdf_export", actor=user("deputy")).exists()


def test_inactive_user_sees_nothing(demo, client):
    staff = get_user_model().objects.get(username="staff")
    staff.is_active = False
    staff.save()
    client.force_login(staff)
    assert client.get(f"/suggestions/{demo.pk}/").status_code in (302, 404)


def test_pdf_download_has_safe_headers(demo, login):
    reply = demo.replies.get()
    response = login("staff").get(f"/replies/{reply.pk}/pdf/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert io.BytesIO(response.content).read(5) == b"%PDF-"


def test_server_error_page_is_our_own(rf):
    from suggestions.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "500" in response.content.decode() and "app.css" in response.content.decode()


def test_chinese_by_default_and_english_on_request(demo, login):
    client = login("staff")
    page = client.get("/suggestions/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert 'lang="zh-hans"' in page and "代表建议" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/suggestions/"})
    page = client.get("/suggestions/").content.decode()
    assert 'lang="en"' in page and "Suggestions" in page


def test_unit_seal_must_be_an_image(demo, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from suggestions.models import HandlingUnit

    unit = HandlingUnit.objects.get(name="晋城市工业和信息化局")
    url = f"/admin/suggestions/handlingunit/{unit.pk}/change/"
    data = {"name": unit.name, "short_name": unit.short_name, "contact_phone": unit.contact_phone,
            "head_name": unit.head_name, "letterhead": "", "reply_closing": unit.reply_closing}
    client = login("admin")
    bad = client.post(url, {**data, "seal": SimpleUploadedFile("seal.png", PDF_BYTES)})
    assert bad.status_code == 200  # the form comes back with an error
    unit.refresh_from_db()
    assert not unit.seal
    good = client.post(url, {**data, "seal": SimpleUploadedFile("seal.png", PNG_BYTES)})
    assert good.status_code == 302
    unit.refresh_from_db()
    assert unit.seal
