"""Every URL × every role × own/foreign object, and the status code each must answer.

The objects are the demo's suggestion No. 120 and its reply, consultation record and an
attachment: "own" for 苏红平 (deputy), 工信局 (staff, head) and its co-unit 农业农村局
(co_staff); foreign for other_staff (住建局) and other_deputy (王建国).

``test_every_url_has_a_row`` fails when a URL is added without a row here.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = ["anon", "deputy", "staff", "head", "co_staff", "office", "admin",
         "other_staff", "other_deputy"]
USERS = {"co_staff": "agri_staff"}


def codes(anon=302, deputy=200, staff=200, head=200, co_staff=200, office=200, admin=200,
          foreign=404):
    return {"anon": anon, "deputy": deputy, "staff": staff, "head": head, "co_staff": co_staff,
            "office": office, "admin": admin, "other_staff": foreign, "other_deputy": foreign}


EVERYONE = codes(foreign=200)
COORDINATOR_PAGE = codes(deputy=403, staff=403, head=403, co_staff=403)
# POSTs that a person in scope may try: refused moves come back as a message (302).
SCOPED_POST = codes(deputy=302, staff=302, head=302, co_staff=302, office=302, admin=302)

# name: (method, kwargs, expected)  — kwargs values name the demo objects below.
TABLE = {
    "home": ("GET", {}, codes(deputy=302, staff=302, head=302, co_staff=302, office=302,
                              admin=302, foreign=302)),
    "healthz": ("GET", {}, codes(anon=200, foreign=200)),
    "todo": ("GET", {}, codes(foreign=200)),
    "login": ("GET", {}, codes(anon=200, deputy=302, staff=302, head=302, co_staff=302,
                                office=302, admin=302, foreign=302)),
    "logout": ("POST", {}, codes(anon=302, deputy=302, staff=302, head=302, co_staff=302,
                                  office=302, admin=302, foreign=302)),
    "password_change": ("GET", {}, EVERYONE),
    "password_change_done": ("GET", {}, EVERYONE),
    "set_language": ("POST", {}, codes(anon=302, deputy=302, staff=302, head=302,
                                        co_staff=302, office=302, admin=302, foreign=302)),
    "admin:index": ("GET", {}, codes(deputy=302, staff=302, head=302, co_staff=302,
                                      office=302, admin=200, foreign=302)),
    "suggestions:list": ("GET", {}, EVERYONE),
    "suggestions:create": ("GET", {}, codes(deputy=403, staff=403, head=403, co_staff=403,
                                             foreign=403)),
    "suggestions:report": ("GET", {}, codes(deputy=403, staff=403, head=403, co_staff=403,
                                             foreign=403)),
    "suggestions:audit": ("GET", {}, codes(deputy=403, staff=403, head=403, co_staff=403,
                                            foreign=403)),
    "suggestions:detail": ("GET", {"pk": "suggestion"}, codes()),
    # No. 120 is evaluated: the office is sent back with a message.
    "suggestions:edit": ("GET", {"pk": "suggestion"}, codes(
        deputy=403, staff=403, head=403, co_staff=403, office=302, admin=302)),
    # No. 120 is evaluated: neither assignable nor reassignable, the office is sent back.
    "suggestions:assign": ("GET", {"pk": "suggestion"}, codes(
        deputy=403, staff=403, head=403, co_staff=403, office=302, admin=302)),
    "suggestions:extend": ("GET", {"pk": "suggestion"}, COORDINATOR_PAGE),
    "suggestions:key_supervision": ("POST", {"pk": "suggestion"}, codes(
        deputy=403, staff=403, head=403, co_staff=403, office=302, admin=302)),
    "suggestions:waive": ("POST", {"pk": "suggestion"}, codes(
        deputy=403, staff=403, head=403, co_staff=403, office=302, admin=302)),
    # Only a co-handling unit has an opinion form.
    "suggestions:co_opinion": ("GET", {"pk": "suggestion"}, codes(
        deputy=404, staff=404, head=404, co_staff=200, office=404, admin=404)),
    "suggestions:move": ("POST", {"pk": "suggestion", "name": "accept"}, SCOPED_POST),
    "consultations:create": ("GET", {"suggestion_pk": "suggestion"}, codes(
        deputy=302, co_staff=302, office=302, admin=302)),
    "consultations:detail": ("GET", {"pk": "consultation"}, codes()),
    "consultations:edit": ("GET", {"pk": "consultation"}, codes(
        deputy=302, co_staff=302, office=302, admin=302)),
    "consultations:confirm": ("POST", {"pk": "consultation"}, SCOPED_POST),
    "consultations:pdf": ("GET", {"pk": "consultation"}, codes()),
    "consultations:attachment_upload": ("POST", {"pk": "consultation"}, SCOPED_POST),
    "consultations:attachment": ("GET", {"pk": "attachment"}, codes()),
    "replies:create": ("POST", {"suggestion_pk": "suggestion"}, SCOPED_POST),
    "replies:detail": ("GET", {"pk": "reply"}, codes()),
    # The reply is signed: the editor sends everyone back to the letter.
    "replies:edit": ("GET", {"pk": "reply"}, SCOPED_POST),
    "replies:submit": ("POST", {"pk": "reply"}, SCOPED_POST),
    "replies:return": ("POST", {"pk": "reply"}, SCOPED_POST),
    "replies:sign": ("POST", {"pk": "reply"}, SCOPED_POST),
    "replies:send": ("POST", {"pk": "reply"}, SCOPED_POST),
    "replies:evaluate": ("POST", {"pk": "reply"}, SCOPED_POST),
    "replies:evaluate_paper": ("POST", {"pk": "reply"}, SCOPED_POST),
    "replies:pdf": ("GET", {"pk": "reply"}, codes()),
    # Verification is public: it is what the QR code on a printed letter opens.
    "documents:verify_form": ("GET", {}, codes(anon=200, foreign=200)),
    "documents:verify": ("GET", {"code": "code"}, codes(anon=200, foreign=200)),
    "documents:export_start": ("GET", {}, codes(deputy=403, staff=403, head=403, co_staff=403,
                                                foreign=403)),
    # The job was requested by the office user; only they and superusers see it.
    "documents:export_job": ("GET", {"pk": "job"}, codes(
        deputy=404, staff=404, head=404, co_staff=404)),
    "documents:export_download": ("GET", {"pk": "job"}, codes(
        deputy=404, staff=404, head=404, co_staff=404)),
}


def url_names(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            if inner.startswith("admin:"):
                continue  # Django's own admin enforces its own permissions
            yield from url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_url_has_a_row():
    missing = sorted(set(url_names()) - set(TABLE))
    assert not missing, f"add rows to the access table for: {missing}"


@pytest.fixture
def objects(demo, settings, tmp_path, user):
    from consultations.models import Attachment
    from documents.models import ExportJob

    settings.MEDIA_ROOT = tmp_path
    settings.EXPORT_ROOT = tmp_path
    (tmp_path / "export.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    job = ExportJob.objects.create(created_by=user("office"), status=ExportJob.Status.DONE,
                                   total=1, done=1, file_name="export.zip")
    reply = demo.replies.get()
    record = demo.consultations.get()
    attachment = Attachment(consultation=record, original_name="scan.pdf",
                            content_type="application/pdf", size=9, uploaded_by=record.created_by)
    attachment.file.save("scan.pdf", SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n"), save=False)
    attachment.save()
    return {"suggestion": demo.pk, "reply": reply.pk, "consultation": record.pk,
            "attachment": attachment.pk, "code": reply.verification_code, "job": job.pk}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(TABLE))
def test_access(name, role, objects, client, user):
    method, kwargs, expected = TABLE[name]
    if role != "anon":
        client.force_login(user(USERS.get(role, role)))
    url = reverse(name, kwargs={k: objects.get(v, v) for k, v in kwargs.items()})
    response = client.post(url) if method == "POST" else client.get(url)
    assert response.status_code == expected[role], (
        f"{method} {url} as {role}: {response.status_code}, expected {expected[role]}"
    )
