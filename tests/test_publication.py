"""Published replies (公开): who sees what, without contact details, and the office's controls."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from documents.pdfcheck import text_of
from publication.models import Publication
from replies.models import Reply
from replies.services import reply_create_draft, reply_send, reply_sign, reply_submit
from suggestions.models import Event, Suggestion

MOBILE = "13935685333"  # the seed deputy's mobile number


def public_pages(client: Client, publication: Publication) -> str:
    """Everything public about a publication: the list, its page and its PDF."""
    listing = client.get("/public/").content.decode()
    page = client.get(f"/public/{publication.pk}/")
    pdf = client.get(f"/public/{publication.pk}/pdf/")
    texts = [listing]
    if page.status_code == 200:
        texts.append(page.content.decode())
    if pdf.status_code == 200:
        texts.append(text_of(pdf.content))
    return "\n".join(texts)


def send_letter(user, number=123, body_extra="", **fields) -> Reply:
    suggestion = Suggestion.objects.get(number=number)
    reply = reply_create_draft(suggestion=suggestion, user=user("staff"))
    Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n一、办理情况\n" + body_extra, **fields)
    reply_submit(reply=reply, user=user("staff"))
    reply_sign(reply=reply, user=user("head"))
    reply_send(reply=reply, user=user("staff"))
    return Reply.objects.get(pk=reply.pk)


def test_the_seed_reply_is_published_when_sent(demo, client):
    publication = Publication.objects.get(reply__suggestion=demo)
    assert publication.publish_on == datetime.date(2022, 6, 21)
    listing = client.get("/public/")
    assert listing.status_code == 200
    assert [p.pk for p in listing.context["page"]] == [publication.pk]
    page = client.get(f"/public/{publication.pk}/")
    assert page.status_code == 200 and "关于市八届人大一次会议第120号建议的回复" in page.content.decode()
    assert client.get(f"/public/{publication.pk}/pdf/")["Content-Type"] == "application/pdf"


def test_contact_details_never_appear_on_public_pages(demo, client, user):
    reply = send_letter(user, body_extra=f"如有疑问请致电{MOBILE}，或发邮件至 yanna@example.org。"
                        "申请人身份证号140502199001011234。", contact_phone=MOBILE)
    publication = reply.publication
    everything = public_pages(client, publication)
    assert "如有疑问请致电" in everything  # the letter is there…
    for secret in (MOBILE, "yanna@example.org", "140502199001011234"):
        assert secret not in everything  # …without the contact details
    # The unit's published office phone stays.
    demo_page = client.get(f"/public/{demo.replies.get().publication.pk}/").content.decode()
    assert "2218762" in demo_page
    # Nor can a search find a letter by a removed number.
    assert list(client.get("/public/", {"q": MOBILE}).context["page"]) == []


@pytest.mark.parametrize("disclosure", ["withheld", "on_request"])
def test_a_reply_not_for_publication_is_absent_everywhere_public(demo, client, user, disclosure):
    reply = send_letter(user, body_extra="不公开的答复内容。", disclosure=disclosure)
    assert not Publication.objects.filter(reply=reply).exists()
    assert "不公开的答复内容" not in client.get("/public/", {"q": "不公开"}).content.decode()
    assert list(client.get("/public/", {"number": 123}).context["page"]) == []


def test_the_office_withholds_with_a_reason_and_can_publish_again(demo, client, login):
    publication = Publication.objects.get(reply__suggestion=demo)
    office = login("office")
    office.post(f"/public/{publication.pk}/withhold/", {"note": "涉及企业商业秘密"})
    publication.refresh_from_db()
    assert publication.status == "withheld" and publication.withheld_reason == "涉及企业商业秘密"
    anonymous = Client()
    assert anonymous.get(f"/public/{publication.pk}/").status_code == 404
    assert anonymous.get(f"/public/{publication.pk}/pdf/").status_code == 404
    assert list(anonymous.get("/public/").context["page"]) == []
    event = Event.objects.get(action="publication_withhold")
    assert event.note == "涉及企业商业秘密" and event.actor.username == "office"
    office.post(f"/public/{publication.pk}/republish/")
    assert anonymous.get(f"/public/{publication.pk}/").status_code == 200
    # The list's (cached) count follows at once.
    assert [p.pk for p in anonymous.get("/public/").context["page"]] == [publication.pk]


def test_withholding_needs_a_reason_and_the_office(demo, login):
    publication = Publication.objects.get(reply__suggestion=demo)
    response = login("office").post(f"/public/{publication.pk}/withhold/", {"note": ""}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    response = login("staff").post(f"/public/{publication.pk}/withhold/", {"note": "不想公开"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    publication.refresh_from_db()
    assert publication.status == "public"
    assert Client().post(f"/public/{publication.pk}/withhold/", {"note": "x"}).status_code == 302
    publication.refresh_from_db()
    assert publication.status == "public"


def test_the_office_removes_a_passage_before_publication(demo, client, login):
    publication = Publication.objects.get(reply__suggestion=demo)
    passage = demo.replies.get().body.splitlines()[2][:12]
    login("office").post(f"/public/{publication.pk}/redact/", {"passage": passage})
    publication.refresh_from_db()
    assert publication.redactions == [passage]
    assert passage not in public_pages(client, publication)
    response = login("office").post(f"/public/{publication.pk}/redact/", {"passage": "信中没有的话"},
                                    follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_publication_waits_the_configured_working_days(demo, client, user, settings):
    settings.PUBLISH_AFTER_WORKING_DAYS = 5
    reply = send_letter(user, body_extra="稍后公开。")
    assert reply.publication.publish_on > timezone.localdate()
    assert client.get(f"/public/{reply.publication.pk}/").status_code == 404
    Publication.objects.filter(pk=reply.publication.pk).update(publish_on=timezone.localdate())
    assert client.get(f"/public/{reply.publication.pk}/").status_code == 200


def test_a_replaced_reply_is_no_longer_published(demo, client, user):
    from replies.services import reply_evaluate

    first = demo.replies.get()
    Suggestion.objects.filter(pk=demo.pk).update(status="replied")
    first.evaluations.all().delete()
    reply_evaluate(reply=first, user=user("deputy"), deputy=demo.lead_deputy,
                   attitude="satisfied", result="unsatisfied")
    second = send_letter(user, number=120, body_extra="第二次答复。")
    assert client.get(f"/public/{first.publication.pk}/").status_code == 404
    assert client.get(f"/public/{second.publication.pk}/").status_code == 200


def test_the_public_search_finds_published_words_and_nothing_removed(demo, client, login, user):
    reply = send_letter(user, body_extra="新建萤火虫观察站二百个，覆盖城区灯塔公园。")
    found = lambda q: [p.pk for p in client.get("/public/", {"q": q}).context["page"]]  # noqa: E731
    publication = reply.publication
    # Two-character words, several terms (every one must match), and a word of the title.
    assert found("灯塔") == [publication.pk]
    assert found("萤火 公园") == [publication.pk]
    assert found("萤火 火车") == []
    assert publication.pk in found("回复")
    # A passage the office removes can no longer be found, though the rest still can.
    login("office").post(f"/public/{publication.pk}/redact/", {"passage": "覆盖城区灯塔公园"})
    assert found("灯塔") == []
    assert found("萤火") == [publication.pk]
