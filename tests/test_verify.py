"""Public verification of a signed letter: what its QR code opens."""

import pytest
from django.urls import reverse

from replies.models import Reply


@pytest.fixture
def reply(demo):
    return demo.replies.get()


def test_genuine_letter_shows_its_identity_and_fingerprint(client, reply):
    response = client.get(reverse("documents:verify", args=[reply.verification_code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "verify-genuine" in html and "verify-tampered" not in html
    assert response.context["genuine"] is True
    for shown in ["市八届人大一次会议第120号建议", reply.suggestion.title,
                  "关于市八届人大一次会议第120号建议的回复", "苗学武", "2022年6月21日",
                  "晋城市工业和信息化局", reply.content_hash]:
        assert shown in html, shown
    assert reply.content_hash == reply.compute_hash()


def test_verification_shows_no_contact_details(client, reply):
    html = client.get(reverse("documents:verify", args=[reply.verification_code])).content.decode()
    deputy = reply.suggestion.lead_deputy
    assert deputy.phone not in html
    assert deputy.work_unit not in html
    assert reply.contact_phone not in html


def test_code_as_printed_with_dashes_and_in_lower_case_is_accepted(client, reply):
    code = reply.verification_code
    printed = f"{code[:4]}-{code[4:8]}-{code[8:]}".lower()
    response = client.get(reverse("documents:verify", args=[printed]))
    assert response.status_code == 200 and response.context["genuine"] is True


def test_tampered_letter_says_the_content_does_not_match(client, reply):
    Reply.objects.filter(pk=reply.pk).update(body=reply.body.replace("2940", "9940"))
    response = client.get(reverse("documents:verify", args=[reply.verification_code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "verify-tampered" in html and "verify-genuine" not in html
    assert response.context["genuine"] is False
    assert reply.content_hash in html  # the fingerprint taken at signing
    assert response.context["recomputed_hash"] != reply.content_hash


def test_unknown_code_says_so_with_a_404(client, demo):
    response = client.get(reverse("documents:verify", args=["ZZZZ9999ZZZZ"]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "verify-unknown" in html and "ZZZZ9999ZZZZ" in html


def test_unsigned_reply_cannot_be_verified(client, demo, user):
    from replies.services import reply_create_draft
    from suggestions.models import Suggestion

    draft = reply_create_draft(suggestion=Suggestion.objects.get(number=123), user=user("staff"))
    Reply.objects.filter(pk=draft.pk).update(verification_code="DRAFT0000001")
    response = client.get(reverse("documents:verify", args=["DRAFT0000001"]))
    assert response.status_code == 404


def test_form_sends_the_code_to_its_page(client, reply):
    assert client.get(reverse("documents:verify_form")).status_code == 200
    response = client.get(reverse("documents:verify_form"), {"code": " abcd-efgh-jkmn "})
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:verify", args=["ABCDEFGHJKMN"])
    empty = client.get(reverse("documents:verify_form"), {"code": ""})
    assert empty.status_code == 200 and 'role="alert"' in empty.content.decode()


def test_letter_qr_points_at_the_public_verification_page(reply, settings):
    from documents.pdf import reply_context

    settings.PUBLIC_BASE_URL = "https://jyjb.example.gov.cn/"
    verification = reply_context(reply)["verification"]
    assert verification["url"] == (
        f"https://jyjb.example.gov.cn/verify/{reply.verification_code}/"
    )
    assert verification["qr"].startswith("data:image/png;base64,")


# --- The fingerprint is keyed (HMAC-SHA256 with VERIFICATION_KEY) and covers what the page shows ---

def verdict(client, reply) -> bool:
    response = client.get(reverse("documents:verify", args=[reply.verification_code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert ("verify-genuine" in html) is response.context["genuine"]
    assert ("verify-tampered" in html) is not response.context["genuine"]
    return response.context["genuine"]


def plain_sha256(reply) -> str:
    import hashlib
    import json

    canonical = json.dumps(reply.letter_content(), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_fingerprint_is_not_a_plain_hash_of_the_content(reply):
    assert len(reply.content_hash) == 64
    assert reply.content_hash != plain_sha256(reply)


def test_changed_letter_with_a_recomputed_plain_sha256_does_not_match(client, reply):
    Reply.objects.filter(pk=reply.pk).update(body=reply.body.replace("2940", "9940"))
    forged = Reply.objects.get(pk=reply.pk)
    assert forged.body != reply.body
    Reply.objects.filter(pk=reply.pk).update(content_hash=plain_sha256(forged))
    assert verdict(client, reply) is False


def test_changing_the_suggestion_title_after_signing_does_not_match(client, reply):
    from suggestions.models import Suggestion

    assert verdict(client, reply) is True
    Suggestion.objects.filter(pk=reply.suggestion_id).update(title="关于另一件事的建议")
    assert verdict(client, reply) is False


def test_a_different_verification_key_does_not_match(client, reply, settings):
    signing_key = settings.VERIFICATION_KEY
    settings.VERIFICATION_KEY = "another-bureaus-key-" * 3
    assert verdict(client, reply) is False
    settings.VERIFICATION_KEY = signing_key
    assert verdict(client, reply) is True


def test_fingerprint_covers_every_field_the_page_shows(reply):
    import datetime

    from suggestions.models import CongressSession, Suggestion

    signed = reply.compute_hash()
    assert signed == reply.content_hash
    changes = [
        lambda r: setattr(r.suggestion, "title", r.suggestion.title + "！"),
        lambda r: setattr(r.suggestion, "number", r.suggestion.number + 1),
        lambda r: setattr(r.suggestion.session, "name", "市八届人大二次会议"),
        lambda r: setattr(r, "title", r.title + "（修改）"),
        lambda r: setattr(r, "issuing_unit_name", "晋城市住房和城乡建设局"),
        lambda r: setattr(r, "signer_name", "韩立新"),
        lambda r: setattr(r, "letter_date", r.letter_date + datetime.timedelta(days=1)),
        lambda r: setattr(r, "version", r.version + 1),
    ]
    for change in changes:
        fresh = Reply.objects.select_related("suggestion__session").get(pk=reply.pk)
        change(fresh)
        assert fresh.compute_hash() != signed
    assert Suggestion.objects.get(pk=reply.suggestion_id).title == reply.suggestion.title
    assert CongressSession.objects.filter(name="市八届人大二次会议").count() == 0


def test_without_a_verification_key_nothing_is_fingerprinted(reply, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.VERIFICATION_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="VERIFICATION_KEY"):
        reply.compute_hash()


@pytest.mark.parametrize("key,debug,ids", [
    ("", False, ["documents.E002"]),
    ("", True, ["documents.E002"]),
    ("dev-only-insecure-verification-key", False, ["documents.E002"]),
    ("dev-only-insecure-verification-key", True, []),
    ("same-as-the-secret-key-" * 3, False, ["documents.W003"]),
    ("a-key-of-its-own-" * 3, False, []),
])
def test_verification_key_check(settings, key, debug, ids):
    from documents.checks import check_verification_key

    settings.DEBUG, settings.TESTING = debug, False
    settings.SECRET_KEY = "same-as-the-secret-key-" * 3
    settings.VERIFICATION_KEY = key
    assert [message.id for message in check_verification_key()] == ids
