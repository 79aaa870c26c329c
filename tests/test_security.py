"""Security properties: sanitizing, CSRF, login throttling, uploads, deploy settings, audit."""

import datetime
import io
import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

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


def test_login_works_with_the_demo_password(demo, client):
    response = client.post("/accounts/login/", {"username": "staff", "password": "demo-pass-2022"})
    assert response.status_code == 302 and response["Location"] == "/todo/"


# --- Login throttling (django-axes: per username *and* client address, counted in the database) ---

PASSWORD = "right-pass-2022"
LOCKED = "该用户名在本机登录失败次数过多"


@pytest.fixture
def accounts(db):
    for name in ("clerk", "colleague", "typist1", "typist2", "typist3"):
        get_user_model().objects.create_user(name, password=PASSWORD)


def attempt(client, username, password, addr="10.0.0.1", **headers):
    client.cookies.clear()  # a fresh browser: no session from an earlier attempt
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=addr, **headers)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail_until_locked(client, username, addr="10.0.0.1", **headers):
    limit = django_settings.LOGIN_FAILURE_LIMIT
    for number in range(1, limit + 1):
        response = attempt(client, username, "wrong", addr, **headers)
        assert not logged_in(client)
        if number < limit:
            assert response.status_code == 200 and LOCKED not in response.content.decode()
    assert response.status_code == 429  # the failure that reaches the limit already says so
    assert LOCKED in response.content.decode()


def failures(**where) -> int:
    from axes.models import AccessAttempt

    return sum(AccessAttempt.objects.filter(**where).values_list("failures_since_start", flat=True))


def test_login_is_locked_after_repeated_failures_and_says_why(accounts, client):
    fail_until_locked(client, "clerk")
    counted = failures(username="clerk")
    assert counted == django_settings.LOGIN_FAILURE_LIMIT
    response = attempt(client, "clerk", PASSWORD)  # the right password, while locked
    assert response.status_code == 429 and not logged_in(client)
    html = response.content.decode()
    minutes = -(-django_settings.LOGIN_FAILURE_WINDOW // 60)
    assert LOCKED in html and f"{minutes}分钟后再试" in html and 'role="alert"' in html
    # Still the login page, with its form (same field names), not a bare error text.
    assert 'name="username"' in html and 'name="password"' in html and 'value="clerk"' in html
    assert failures(username="clerk") == counted  # refused attempts neither count nor extend


def test_lockout_ends_after_the_window(accounts, client):
    from axes.models import AccessAttempt

    fail_until_locked(client, "clerk")
    assert attempt(client, "clerk", PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - datetime.timedelta(seconds=django_settings.LOGIN_FAILURE_WINDOW + 1)
    )
    response = attempt(client, "clerk", PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_limit_follows_the_setting(accounts, client, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    assert attempt(client, "clerk", "wrong").status_code == 200
    assert attempt(client, "clerk", "wrong").status_code == 429
    assert attempt(client, "clerk", PASSWORD).status_code == 429 and not logged_in(client)


def test_user_locked_out_from_one_address_can_log_in_from_another(accounts, client):
    fail_until_locked(client, "clerk", addr="10.0.0.1")
    response = attempt(client, "clerk", PASSWORD, addr="10.0.0.2")
    assert response.status_code == 302 and logged_in(client)
    assert attempt(client, "clerk", PASSWORD, addr="10.0.0.1").status_code == 429


def test_failures_of_many_users_behind_one_address_do_not_lock_out_another(accounts, client):
    limit = django_settings.LOGIN_FAILURE_LIMIT
    for typist in ("typist1", "typist2", "typist3"):  # more failures in all than the limit
        for _ in range(limit - 1):
            assert attempt(client, typist, "wrong").status_code == 200
    fail_until_locked(client, "clerk")  # and one user locked out from the same address
    assert failures(ip_address="10.0.0.1") > 3 * limit
    response = attempt(client, "colleague", PASSWORD)
    assert response.status_code == 302 and logged_in(client)
    response = attempt(client, "typist1", PASSWORD)  # below the limit: not locked
    assert response.status_code == 302


def test_forwarded_for_is_ignored_without_a_trusted_proxy(accounts, client, settings):
    settings.TRUSTED_PROXIES = []
    limit = django_settings.LOGIN_FAILURE_LIMIT
    for number in range(limit):  # a new forged address every time does not help
        attempt(client, "clerk", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")
    response = attempt(client, "clerk", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.200")
    assert response.status_code == 429 and not logged_in(client)
    assert failures(ip_address="10.0.0.1") == limit and failures(ip_address__startswith="203.") == 0


def test_forwarded_for_from_a_trusted_proxy_gives_the_client(accounts, client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/29"]
    # The proxy appends the address it was contacted from; anything left of it was written by
    # the client and is not believed.
    fail_until_locked(client, "clerk", addr="10.0.0.1",
                      HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7")
    assert failures(ip_address="203.0.113.7") == django_settings.LOGIN_FAILURE_LIMIT
    assert failures(ip_address="10.0.0.1") == 0 and failures(ip_address="198.51.100.9") == 0
    locked = attempt(client, "clerk", PASSWORD, addr="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert locked.status_code == 429 and not logged_in(client)
    # A forged left-hand address does not get the locked-out client in either.
    forged = attempt(client, "clerk", PASSWORD, addr="10.0.0.1",
                     HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7")
    assert forged.status_code == 429 and not logged_in(client)
    # Another client behind the same proxy logs in.
    other = attempt(client, "clerk", PASSWORD, addr="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert other.status_code == 302 and logged_in(client)
    # A request that does not come from the proxy has its header ignored.
    direct = attempt(client, "clerk", PASSWORD, addr="192.0.2.50", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert direct.status_code == 302


@pytest.mark.parametrize("trusted,remote,forwarded,expected", [
    ([], "192.0.2.1", "203.0.113.7", "192.0.2.1"),
    (["10.0.0.1"], "192.0.2.1", "203.0.113.7", "192.0.2.1"),
    (["10.0.0.1"], "10.0.0.1", "203.0.113.7", "203.0.113.7"),
    (["10.0.0.1"], "10.0.0.1", "6.6.6.6, 203.0.113.7", "203.0.113.7"),
    (["10.0.0.0/24"], "10.0.0.1", "203.0.113.7, 10.0.0.2", "203.0.113.7"),  # two proxies
    (["10.0.0.1"], "10.0.0.1", "", "10.0.0.1"),
    (["10.0.0.1"], "10.0.0.1", "not-an-address", "10.0.0.1"),
    (["10.0.0.1"], "10.0.0.1", "203.0.113.7, junk, 10.0.0.1", "10.0.0.1"),
    (["2001:db8::/32"], "2001:db8::1", "2001:db9::5", "2001:db9::5"),
])
def test_client_address(rf, settings, trusted, remote, forwarded, expected):
    from suggestions.auth import client_ip

    settings.TRUSTED_PROXIES = trusted
    request = rf.post("/accounts/login/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


PRODUCTION_ENV = {
    "DEBUG": "0", "TESTING": "", "SECRET_KEY": "Kq9#pL2$vW8@zR5!mN7&" * 3,
    "VERIFICATION_KEY": "vK3!tQ8@wL5#zP1$" * 3,
    "ALLOWED_HOSTS": "suggestions.example.gov.cn", "DATABASE_URL": "sqlite:///:memory:",
}


def production_env(**overrides) -> dict:
    """The test process's environment without its own settings, plus production values."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECURE_", "AXES_")) and k not in (
               "DJANGO_ALLOW_ASYNC_UNSAFE", "TRUSTED_PROXIES", *PRODUCTION_ENV)}
    env.update(PRODUCTION_ENV)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def deploy_check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True,
    )


def production_settings(env: dict, *names: str) -> dict:
    code = ("import json, django; from django.conf import settings; django.setup(); "
            f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=django_settings.BASE_DIR,
                            env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_pass_deploy_check():
    result = deploy_check(production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_hsts_subdomains_and_preload_are_opt_in():
    names = ("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD")
    assert production_settings(production_env(), *names) == {
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
    }
    opted_in = production_env(SECURE_HSTS_INCLUDE_SUBDOMAINS="1", SECURE_HSTS_PRELOAD="1")
    assert production_settings(opted_in, *names) == {
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
    }
    result = deploy_check(opted_in)  # on, the deploy check has nothing to say either
    assert result.returncode == 0, result.stdout + result.stderr


def test_hsts_header_has_neither_subdomains_nor_preload_by_default(client, db, settings):
    if django_settings.DEBUG:
        pytest.skip("HSTS is only configured with DEBUG off")
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS is False and settings.SECURE_HSTS_PRELOAD is False
    response = client.get("/healthz", secure=True)
    assert response["Strict-Transport-Security"] == f"max-age={settings.SECURE_HSTS_SECONDS}"


def test_deploy_check_fails_without_a_verification_key():
    result = deploy_check(production_env(VERIFICATION_KEY=None))
    assert result.returncode != 0 and "documents.E002" in result.stdout + result.stderr
    assert "VERIFICATION_KEY" in result.stdout + result.stderr


def test_deploy_check_fails_without_a_secret_key():
    result = deploy_check(production_env(SECRET_KEY=None, TESTING=None))
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
