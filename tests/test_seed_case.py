"""Suggestion No. 120 from intake to a signed, sent reply, through HTTP as the people do it."""

import io
import re

import pytest
from pypdf import PdfReader

from demo.seed import SEED_CONTENT, SEED_REPLY_POINTS, SEED_TITLE, seed_reply_body
from suggestions.models import CongressSession, Deputy, HandlingUnit, Status, Suggestion


@pytest.fixture
def fresh_world(demo):
    """The demo's people and units, but suggestion No. 120 registered in a new session."""
    return CongressSession.objects.create(name="市八届人大二次会议", term=8, meeting=2, year=2023)


def post_ok(client, url, data=None):
    response = client.post(url, data or {})
    assert response.status_code == 302, (url, response.status_code,
                                         response.content.decode()[:2000])
    return response


def test_seed_case_from_intake_to_signed_sent_reply(fresh_world, login):
    session = fresh_world
    deputy = Deputy.objects.get(name="苏红平")
    gxj = HandlingUnit.objects.get(name="晋城市工业和信息化局")
    co = [HandlingUnit.objects.get(name="晋城市农业农村局"), HandlingUnit.objects.get(name="晋城市教育局")]

    office = login("office")
    post_ok(office, "/suggestions/new/", {
        "session": session.pk, "number": 120, "title": SEED_TITLE, "content": SEED_CONTENT,
        "lead_deputy": deputy.pk, "topic": "economy", "submitted_on": "2023-03-10",
        "disclosure": "agreed",
    })
    suggestion = Suggestion.objects.get(session=session, number=120)
    assert suggestion.status == Status.REGISTERED
    post_ok(office, f"/suggestions/{suggestion.pk}/assign/",
            {"unit": gxj.pk, "co_units": [u.pk for u in co]})

    staff = login("staff")
    post_ok(staff, f"/suggestions/{suggestion.pk}/do/accept/")

    for username in ["agri_staff", "edu_staff"]:
        post_ok(login(username), f"/suggestions/{suggestion.pk}/co-opinion/",
                {"opinion": "同意主办单位意见。"})

    staff = login("staff")
    post_ok(staff, f"/consultations/new/{suggestion.pk}/", {
        "deputy": deputy.pk, "method": "face", "held_on": "2023-06-24", "place": "德源大酒店",
        "attendees": "卢建超 郝娜", "attendee_phone": "2218762",
        "reply_points": SEED_REPLY_POINTS, "proposed_category": "A",
        "deputy_opinion": "非常满意。", "satisfaction": "satisfied",
        "signature": "paper", "signed_name": "苏红平",
    })

    post_ok(staff, f"/replies/new/{suggestion.pk}/")
    reply = suggestion.replies.get()
    # The draft starts from the unit's template, as the seed letter is written.
    assert reply.title == "关于市八届人大二次会议第120号建议的回复"
    assert reply.salutation == "苏红平代表："
    assert reply.body.startswith(
        f"您提出的《{SEED_TITLE}》已收悉。经与晋城市农业农村局、晋城市教育局会商研究，现答复如下："
    )
    assert reply.body.rstrip().endswith("欢迎今后提出更多宝贵意见。")
    assert reply.signer_name == "苗学武" and reply.handler_name == "延娜"
    assert reply.category == "A"  # from the consultation's proposed category

    edit = staff.get(f"/replies/{reply.pk}/edit/")
    assert edit.status_code == 200
    form = edit.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["body"] = seed_reply_body()
    data["submit"] = "1"
    post_ok(staff, f"/replies/{reply.pk}/edit/", data)
    reply.refresh_from_db()
    assert reply.status == "pending"

    # Only the head signs.
    staff.post(f"/replies/{reply.pk}/sign/")
    reply.refresh_from_db()
    assert reply.status == "pending"
    head = login("head")
    post_ok(head, f"/replies/{reply.pk}/sign/")
    reply.refresh_from_db()
    assert reply.status == "signed" and reply.signer_name == "苗学武"
    assert reply.letter_date is not None and len(reply.content_hash) == 64

    post_ok(login("staff"), f"/replies/{reply.pk}/send/")
    suggestion.refresh_from_db()
    reply.refresh_from_db()
    assert reply.status == "sent" and suggestion.status == Status.REPLIED

    page = login("staff").get(f"/suggestions/{suggestion.pk}/").content.decode()
    pdf_links = re.findall(r'href="([^"]*pdf[^"]*)"', page)
    assert f"/replies/{reply.pk}/pdf/" in pdf_links
    assert any("/consultations/" in link for link in pdf_links)

    response = login("deputy").get(f"/replies/{reply.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = re.sub(r"\s+", "", text)
    positions = []
    for paragraph in seed_reply_body().splitlines():
        needle = re.sub(r"\s+", "", paragraph).replace("**", "")[:30]
        positions.append(flat.find(needle))
        assert positions[-1] >= 0, needle
    assert positions == sorted(positions), "paragraphs out of order"
    assert "苏红平代表" in flat and "苗学武" in flat and "延娜" in flat

    events = [e.action for e in suggestion.events.order_by("at", "pk")]
    for action in ["register", "assign", "accept", "consultation", "reply_signed", "reply"]:
        assert action in events
