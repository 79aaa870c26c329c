"""Every URL × every role: the status code each GET must answer, and for every POST that makes
a move, what the move did.

GETs use the demo's suggestion No. 120 and its reply, consultation record and an attachment:
"own" for 苏红平 (deputy), 工信局 (staff, head) and its co-unit 农业农村局 (co_staff); foreign
for other_staff (住建局) and other_deputy (王建国).

POSTs (``SCENARIOS``) each get an object in a status where the move is possible for the right
role (a freshly assigned suggestion for accept, a pending reply for sign…), so every role and
scope check is exercised: the own unit may, a foreign unit gets 404 (scoped queryset), a
co-unit and the deputy are refused, the office may where the office may. An allowed POST is
asserted done (the state changed); a refused one must leave the state as it was AND say why
(the refusal message, read after following the redirect).

``test_every_url_has_a_row`` fails when a URL is added without a row here.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation
from test_rules_world import (
    assigned,
    deputy,
    handling,
    not_allowed,
    pending,
    record,
    registered,
    sent,
    signed,
    state,
    unit,
    user,
)

ROLES = ["anon", "deputy", "staff", "head", "co_staff", "office", "admin",
         "other_staff", "other_deputy"]
USERS = {"co_staff": "agri_staff"}


def codes(anon=302, deputy=200, staff=200, head=200, co_staff=200, office=200, admin=200,
          foreign=404):
    return {"anon": anon, "deputy": deputy, "staff": staff, "head": head, "co_staff": co_staff,
            "office": office, "admin": admin, "other_staff": foreign, "other_deputy": foreign}


EVERYONE = codes(foreign=200)
COORDINATOR_PAGE = codes(deputy=403, staff=403, head=403, co_staff=403)

# name: (method, kwargs, expected)  — kwargs values name the demo objects below.
TABLE = {
    "home": ("GET", {}, codes(deputy=302, staff=302, head=302, co_staff=302, office=302,
                              admin=302, foreign=302)),
    "healthz": ("GET", {}, codes(anon=200, foreign=200)),
    "todo": ("GET", {}, codes(foreign=200)),
    # Linking similar suggestions is the office's (tests/test_similar.py asserts outcomes).
    "suggestions:link": ("POST", {"pk": "suggestion"}, codes(
        deputy=302, staff=302, head=302, co_staff=302, office=302, admin=302)),
    "suggestions:unlink": ("POST", {"pk": "suggestion", "link_pk": 999999}, codes(
        deputy=302, staff=302, head=302, co_staff=302, office=302, admin=302)),
    "dashboard": ("GET", {}, {**codes(deputy=403, foreign=200), "other_deputy": 403}),
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
    # Whoever reads the list downloads its ledger, of what they may see (tests/test_ledger.py).
    "suggestions:ledger_xlsx": ("GET", {}, EVERYONE),
    "suggestions:ledger_csv": ("GET", {}, EVERYONE),
    "suggestions:import": ("GET", {}, codes(deputy=403, staff=403, head=403, co_staff=403,
                                             foreign=403)),
    "suggestions:import_template": ("GET", {}, codes(deputy=403, staff=403, head=403,
                                                      co_staff=403, foreign=403)),
    "suggestions:detail": ("GET", {"pk": "suggestion"}, codes()),
    # No. 120 is evaluated: the office is sent back with a message.
    "suggestions:edit": ("GET", {"pk": "suggestion"}, codes(
        deputy=403, staff=403, head=403, co_staff=403, office=302, admin=302)),
    # No. 120 is evaluated: neither assignable nor reassignable, the office is sent back.
    "suggestions:assign": ("GET", {"pk": "suggestion"}, codes(
        deputy=403, staff=403, head=403, co_staff=403, office=302, admin=302)),
    "suggestions:extend": ("GET", {"pk": "suggestion"}, COORDINATOR_PAGE),
    # Only a co-handling unit has an opinion form.
    "suggestions:co_opinion": ("GET", {"pk": "suggestion"}, codes(
        deputy=404, staff=404, head=404, co_staff=200, office=404, admin=404)),
    "consultations:create": ("GET", {"suggestion_pk": "suggestion"}, codes(
        deputy=302, co_staff=302, office=302, admin=302)),
    "consultations:detail": ("GET", {"pk": "consultation"}, codes()),
    "consultations:edit": ("GET", {"pk": "consultation"}, codes(
        deputy=302, co_staff=302, office=302, admin=302)),
    "consultations:pdf": ("GET", {"pk": "consultation"}, codes()),
    "consultations:attachment": ("GET", {"pk": "attachment"}, codes()),
    "replies:detail": ("GET", {"pk": "reply"}, codes()),
    # The reply is signed: the editor sends everyone back to the letter.
    "replies:edit": ("GET", {"pk": "reply"}, codes(
        deputy=302, staff=302, head=302, co_staff=302, office=302, admin=302)),
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
    # Published replies are for everyone, logged in or not.
    "public:list": ("GET", {}, codes(anon=200, foreign=200)),
    "public:detail": ("GET", {"pk": "publication"}, codes(anon=200, foreign=200)),
    "public:pdf": ("GET", {"pk": "publication"}, codes(anon=200, foreign=200)),
    # The office's controls: refused with a message for others (tests/test_publication.py
    # asserts what each did); a foreign unit or deputy cannot reach the letter.
    "public:withhold": ("POST", {"pk": "publication"}, codes(
        deputy=302, staff=302, head=302, co_staff=302, office=302, admin=302)),
    "public:republish": ("POST", {"pk": "publication"}, codes(
        deputy=302, staff=302, head=302, co_staff=302, office=302, admin=302)),
    "public:redact": ("POST", {"pk": "publication"}, codes(
        deputy=302, staff=302, head=302, co_staff=302, office=302, admin=302)),
    # Everyone's own inbox; marking all read goes back to it.
    "notifications:inbox": ("GET", {}, EVERYONE),
    "notifications:mark_all_read": ("POST", {}, codes(
        anon=302, deputy=302, staff=302, head=302, co_staff=302, office=302, admin=302,
        foreign=302)),
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
    missing = sorted(set(url_names()) - set(TABLE) - {s.url for s in SCENARIOS.values()})
    assert not missing, f"add rows to the access table for: {missing}"


@pytest.fixture
def objects(demo, settings, tmp_path, user):
    from consultations.models import Attachment
    from documents.models import ExportJob

    # MEDIA_ROOT is already the test's own (conftest), and the seed letter was stored there
    # when the demo signed it: moving it now would lose the letter.
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
            "attachment": attachment.pk, "code": reply.verification_code, "job": job.pk,
            "publication": reply.publication.pk}


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


# --- POSTs that make a move: what each role's POST did ------------------------------------------

DONE = "done"  # 302, the move was made: ``Scenario.done`` holds on the object
LOGIN = "login"  # anonymous: sent to the login page


@dataclass(frozen=True)
class Refused:
    """302 back to a page that shows ``reason(obj)`` as an error; the state is unchanged."""

    reason: Callable


def by_rule(text):
    """A refusal text declared by a rule (a Scope's or a Move's), or by a view."""
    return Refused(lambda obj: str(text))


def not_allowed_to(name):
    return Refused(lambda obj: not_allowed(obj, name))


def lead_unit_only():
    from suggestions.workflow import LEAD_UNIT

    return by_rule(LEAD_UNIT.refusal)


def record_unit_only():
    from consultations.services import RECORD_UNIT

    return by_rule(RECORD_UNIT.refusal)


def outcomes(*, deputy, staff, head, co_staff, office, admin=None, other_staff=404,
             other_deputy=404):
    return {"anon": LOGIN, "deputy": deputy, "staff": staff, "head": head, "co_staff": co_staff,
            "office": office, "admin": office if admin is None else admin,
            "other_staff": other_staff, "other_deputy": other_deputy}


@dataclass(frozen=True)
class Scenario:
    url: str
    make: Callable  # () -> (object whose state is checked, URL kwargs)
    done: Callable  # (object re-read) -> bool: the move was made
    expected: dict
    data: Callable = field(default=lambda obj: {})


def suggestion_kwargs(obj):
    return obj, {"pk": obj.pk}


def refetch(obj):
    return type(obj)._default_manager.get(pk=obj.pk)


def returned():
    suggestion = assigned()
    from core import rules

    rules.run(suggestion, "request_return", user=user("staff"), note="不属于本单位职责")
    return suggestion


def replied():
    return sent().suggestion


def attachment_data(obj):
    return {"kind": "scan", "file": SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%scan\n")}


def record_form(obj):
    return {
        "deputy": deputy("苏红平").pk, "method": "face", "held_on": "2026-11-20",
        "place": "市工信局会议室", "attendees": "延娜", "attendee_phone": "2218762",
        "reply_points": "拟协调。", "proposed_category": "B", "deputy_opinion": "",
        "satisfaction": "", "signature": "pending", "signed_name": "",
    }


SCENARIOS = {
    "accept": Scenario(
        "suggestions:move", lambda: (s := assigned(), {"pk": s.pk, "name": "accept"}),
        lambda s: s.status == "handling" and s.accepted_on is not None,
        outcomes(deputy=not_allowed_to("accept"), staff=DONE, head=DONE,
                 co_staff=lead_unit_only(), office=not_allowed_to("accept")),
    ),
    "request_return": Scenario(
        "suggestions:move", lambda: (s := assigned(), {"pk": s.pk, "name": "request_return"}),
        lambda s: s.status == "return_requested",
        outcomes(deputy=not_allowed_to("request_return"), staff=DONE, head=DONE,
                 co_staff=lead_unit_only(), office=not_allowed_to("request_return")),
        data=lambda obj: {"note": "不属于本单位职责"},
    ),
    "reject_return": Scenario(
        "suggestions:move", lambda: (s := returned(), {"pk": s.pk, "name": "reject_return"}),
        lambda s: s.status == "assigned",
        outcomes(deputy=not_allowed_to("reject_return"), staff=not_allowed_to("reject_return"),
                 head=not_allowed_to("reject_return"), co_staff=not_allowed_to("reject_return"),
                 office=DONE),
        data=lambda obj: {"note": "职责明确，仍由本单位办理"},
    ),
    "close": Scenario(
        "suggestions:move", lambda: (s := replied(), {"pk": s.pk, "name": "close"}),
        lambda s: s.status == "closed",
        outcomes(deputy=not_allowed_to("close"), staff=not_allowed_to("close"),
                 head=not_allowed_to("close"), co_staff=not_allowed_to("close"), office=DONE),
    ),
    "key_supervision": Scenario(
        "suggestions:key_supervision", lambda: suggestion_kwargs(assigned()),
        lambda s: s.key_supervision,
        outcomes(deputy=403, staff=403, head=403, co_staff=403, office=DONE),
        data=lambda obj: {"on": "1"},
    ),
    "waive": Scenario(
        "suggestions:waive", lambda: suggestion_kwargs(assigned()),
        lambda s: s.co_opinions_waived,
        outcomes(deputy=403, staff=403, head=403, co_staff=403, office=DONE),
        data=lambda obj: {"note": "协办单位已口头答复"},
    ),
    "assign": Scenario(
        # A registered suggestion has no unit yet: no unit sees it.
        "suggestions:assign", lambda: suggestion_kwargs(registered()),
        lambda s: s.status == "assigned" and s.lead_unit == unit("gxj"),
        outcomes(deputy=403, staff=404, head=404, co_staff=404, office=DONE),
        data=lambda obj: {"unit": unit("gxj").pk, "co_units": [unit("nync").pk]},
    ),
    "extend": Scenario(
        "suggestions:extend", lambda: suggestion_kwargs(assigned()),
        lambda s: s.due_extended,
        outcomes(deputy=403, staff=403, head=403, co_staff=403, office=DONE),
        data=lambda obj: {"new_due": (obj.due_on + datetime.timedelta(days=30)).isoformat(),
                          "note": "市政府批准延期"},
    ),
    "co_opinion": Scenario(
        # Only a co-handling unit has the form; everyone else gets 404 from the view.
        "suggestions:co_opinion", lambda: suggestion_kwargs(handling(opinions_in=False)),
        lambda s: s.co_handlings.get().submitted_at is not None,
        outcomes(deputy=404, staff=404, head=404, co_staff=DONE, office=404),
        data=lambda obj: {"opinion": "同意主办单位意见。"},
    ),
    "log_consultation": Scenario(
        "consultations:create", lambda: (s := handling(), {"suggestion_pk": s.pk}),
        lambda s: s.consultations.count() == 1,
        outcomes(deputy=not_allowed_to("log_consultation"), staff=DONE, head=DONE,
                 co_staff=lead_unit_only(), office=not_allowed_to("log_consultation")),
        data=record_form,
    ),
    "confirm": Scenario(
        "consultations:confirm", lambda: suggestion_kwargs(record()),
        lambda r: r.signature == "online",
        outcomes(deputy=DONE, staff=not_allowed_to("confirm"), head=not_allowed_to("confirm"),
                 co_staff=not_allowed_to("confirm"), office=not_allowed_to("confirm")),
        data=lambda obj: {"agree": "on", "opinion": "同意。"},
    ),
    "attach": Scenario(
        "consultations:attachment_upload", lambda: suggestion_kwargs(record()),
        lambda r: r.attachments.count() == 1 and r.signature == "paper",
        outcomes(deputy=not_allowed_to("attach"), staff=DONE, head=DONE,
                 co_staff=record_unit_only(), office=not_allowed_to("attach")),
        data=attachment_data,
    ),
    "draft_reply": Scenario(
        "replies:create", lambda: (s := handling(), {"suggestion_pk": s.pk}),
        lambda s: s.replies.filter(status="draft").count() == 1,
        outcomes(deputy=not_allowed_to("draft_reply"), staff=DONE, head=DONE,
                 co_staff=lead_unit_only(), office=not_allowed_to("draft_reply")),
    ),
    # Unsent replies stay inside the issuing unit and the office: 404 for co-unit and deputy.
    "submit": Scenario(
        "replies:submit", lambda: suggestion_kwargs(_draft()),
        lambda r: r.status == "pending",
        outcomes(deputy=404, staff=DONE, head=DONE, co_staff=404,
                 office=not_allowed_to("submit")),
    ),
    "return": Scenario(
        "replies:return", lambda: suggestion_kwargs(pending()),
        lambda r: r.status == "draft",
        outcomes(deputy=404, staff=not_allowed_to("return"), head=DONE, co_staff=404,
                 office=not_allowed_to("return")),
        data=lambda obj: {"note": "请补充数据来源"},
    ),
    "sign": Scenario(
        "replies:sign", lambda: suggestion_kwargs(pending()),
        lambda r: r.status == "signed" and r.signed_at is not None,
        outcomes(deputy=404, staff=not_allowed_to("sign"), head=DONE, co_staff=404,
                 office=not_allowed_to("sign")),
    ),
    "send": Scenario(
        "replies:send", lambda: suggestion_kwargs(signed()),
        lambda r: r.status == "sent" and r.suggestion.status == "replied",
        outcomes(deputy=404, staff=DONE, head=DONE, co_staff=404, office=DONE),
    ),
    "rate": Scenario(
        "replies:evaluate", lambda: suggestion_kwargs(sent()),
        lambda r: r.evaluations.filter(deputy__name="苏红平").exists(),
        outcomes(deputy=DONE, staff=by_rule("Only deputies evaluate replies online."),
                 head=by_rule("Only deputies evaluate replies online."),
                 co_staff=by_rule("Only deputies evaluate replies online."),
                 office=by_rule("Only deputies evaluate replies online.")),
        data=lambda obj: {"attitude": "satisfied", "result": "satisfied"},
    ),
    "rate_paper": Scenario(
        "replies:evaluate_paper", lambda: suggestion_kwargs(sent()),
        lambda r: r.evaluations.filter(deputy__name="苏红平", source="paper").exists(),
        outcomes(deputy=by_rule("Only the congress office records paper evaluations."),
                 staff=by_rule("Only the congress office records paper evaluations."),
                 head=by_rule("Only the congress office records paper evaluations."),
                 co_staff=by_rule("Only the congress office records paper evaluations."),
                 office=DONE),
        data=lambda obj: {"deputy": deputy("苏红平").pk, "attitude": "satisfied",
                          "result": "basically"},
    ),
}


def _draft():
    from test_rules_world import draft

    return draft()


def test_every_scenario_offers_each_outcome():
    """No scenario is all-refused: each has a role that makes the move and one that may not."""
    for name, scenario in SCENARIOS.items():
        values = list(scenario.expected.values())
        assert DONE in values, name
        assert any(v != DONE for v in values), name


def _messages(response):
    return [(m.level_tag, str(m)) for m in response.context["messages"]] if response.context else []


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_post(name, role, demo, client, settings, tmp_path):
    scenario = SCENARIOS[name]
    settings.MEDIA_ROOT = tmp_path
    obj, kwargs = scenario.make()
    if role != "anon":
        client.force_login(user(USERS.get(role, role)))
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    before = state(obj)
    url = reverse(scenario.url, kwargs=kwargs)
    response = client.post(url, scenario.data(obj), follow=True)
    expected = scenario.expected[role]
    where = f"POST {url} ({name}) as {role}"
    with translation.override("en"):
        if expected == DONE:
            assert response.redirect_chain and response.redirect_chain[0][1] == 302, where
            errors = [text for level, text in _messages(response) if level == "error"]
            assert not errors, f"{where}: {errors}"
            assert state(obj) != before, f"{where}: nothing changed"
            assert scenario.done(refetch(obj)), f"{where}: not done"
            return
        assert state(obj) == before, f"{where}: changed the state but should be refused"
        assert not scenario.done(refetch(obj)), where
        if expected == LOGIN:
            assert response.redirect_chain[0][0].startswith(reverse("login")), where
        elif isinstance(expected, Refused):
            assert response.redirect_chain and response.redirect_chain[0][1] == 302, where
            assert ("error", expected.reason(obj)) in _messages(response), (
                f"{where}: {_messages(response)}, expected {expected.reason(obj)!r}"
            )
        else:
            assert not response.redirect_chain, where
            assert response.status_code == expected, f"{where}: {response.status_code}"
