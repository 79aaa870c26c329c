"""``visible_to`` for each role, on suggestions, replies and consultation records, and who a
user is (``core.roles``). Exact sets on the demo plus a few objects, so that a widened or
narrowed scope turns a test red.

Demo: 120 (工信局 leads, 农业农村局 and 教育局 co-handle; 苏红平's, evaluated), 121 (住建局;
王建国's), 122 (教育局; 李秀梅's, co-signed by 苏红平), 123 (工信局; 苏红平's, 李秀梅 co-signs),
124 (registered, no unit; 李秀梅's).
"""

import pytest
from test_rules_world import deputy, deputy_login, draft, no_role_user, record, sent, unit, user

from consultations.models import Consultation
from core.roles import Role, display_name, is_coordinator, is_unit_staff, role_of, user_unit_id
from replies.models import Reply
from suggestions.models import CoHandling, Suggestion

ALL = {120, 121, 122, 123, 124}
SUGGESTIONS = {
    "admin": ALL, "office": ALL,
    "staff": {120, 123}, "head": {120, 123},
    "agri_staff": {120}, "edu_staff": {120, 122},
    "other_staff": {121}, "other_head": {121},
    "deputy": {120, 122, 123}, "other_deputy": {121},
}


def numbers(queryset):
    return {s.number for s in queryset}


@pytest.mark.parametrize("username", sorted(SUGGESTIONS))
@pytest.mark.parametrize("narrow", [False, True])
def test_suggestions_visible_to_each_role(demo, username, narrow):
    found = Suggestion.objects.visible_to(user(username), narrow=narrow)
    assert numbers(found) == SUGGESTIONS[username]


def test_nobody_else_sees_a_suggestion(demo):
    assert not Suggestion.objects.visible_to(user("anonymous")).exists()
    assert not Suggestion.objects.visible_to(no_role_user()).exists()
    assert not Suggestion.objects.visible_to(no_role_user(), narrow=True).exists()
    inactive = user("office")
    inactive.is_active = False
    assert not Suggestion.objects.visible_to(inactive).exists()


def test_a_unit_sees_what_it_co_handles_and_a_deputy_what_they_co_sign(demo):
    CoHandling.objects.create(suggestion=Suggestion.objects.get(number=121), unit=unit("gxj"))
    assert numbers(Suggestion.objects.visible_to(user("staff"))) == {120, 121, 123}
    assert numbers(Suggestion.objects.visible_to(user("other_staff"))) == {121}
    li = deputy_login("李秀梅")
    assert numbers(Suggestion.objects.visible_to(li)) == {122, 123, 124}


def test_visible_to_keeps_the_queryset_it_is_given(demo):
    handling = Suggestion.objects.filter(status="handling")
    assert numbers(handling.visible_to(user("staff"))) == {123}
    assert numbers(handling.visible_to(user("office"))) == {121, 123}


@pytest.fixture
def letters(demo):
    """Drafts and sent letters of several units: 120's sent letter (工信局) is in the demo."""
    from test_rules_world import handling

    return {
        "gxj_draft": draft(Suggestion.objects.get(number=123)),
        "zjj_sent": sent(handling(lead_unit="zjj", co_units=(), lead="王建国")),
        "zjj_draft_cosigned_by_su": draft(handling(lead_unit="zjj", co_units=("gxj",),
                                                   lead="王建国", co_deputies=["苏红平"])),
        "seed": demo.replies.get(),
    }


REPLIES = {
    "admin": {"gxj_draft", "zjj_sent", "zjj_draft_cosigned_by_su", "seed"},
    "office": {"gxj_draft", "zjj_sent", "zjj_draft_cosigned_by_su", "seed"},
    # The unit's own letters, and sent letters of what it co-handles; no other unit's draft.
    "staff": {"gxj_draft", "seed"},
    "head": {"gxj_draft", "seed"},
    "agri_staff": {"seed"}, "edu_staff": {"seed"},
    "other_staff": {"zjj_sent", "zjj_draft_cosigned_by_su"},
    "other_head": {"zjj_sent", "zjj_draft_cosigned_by_su"},
    # Deputies: sent letters of their own suggestions only.
    "deputy": {"seed"}, "other_deputy": {"zjj_sent"},
}


@pytest.mark.parametrize("username", sorted(REPLIES))
def test_replies_visible_to_each_role(letters, username):
    names = {pk: name for name, pk in ((n, r.pk) for n, r in letters.items())}
    visible = {names[r.pk] for r in Reply.objects.visible_to(user(username))}
    assert visible == REPLIES[username]


def test_nobody_else_sees_a_reply(letters):
    assert not Reply.objects.visible_to(user("anonymous")).exists()
    assert not Reply.objects.visible_to(no_role_user()).exists()


def test_a_co_unit_sees_another_units_sent_letter_but_not_its_draft(letters):
    """gxj co-handles zjj's suggestion: the draft is zjj's own business until it is sent."""
    cosigned = letters["zjj_draft_cosigned_by_su"]
    assert not Reply.objects.visible_to(user("staff")).filter(pk=cosigned.pk).exists()
    assert Suggestion.objects.visible_to(user("staff")).filter(pk=cosigned.suggestion_id).exists()
    from core import rules

    rules.run(cosigned, "submit", user=user("other_staff"))
    rules.run(cosigned, "sign", user=user("other_head"))
    assert not Reply.objects.visible_to(user("deputy")).filter(pk=cosigned.pk).exists()
    rules.run(cosigned, "send", user=user("other_staff"))
    assert Reply.objects.visible_to(user("staff")).filter(pk=cosigned.pk).exists()
    assert Reply.objects.visible_to(user("deputy")).filter(pk=cosigned.pk).exists()


@pytest.fixture
def records(demo):
    handling_123 = Suggestion.objects.get(number=123)
    return {
        "seed": demo.consultations.get(),  # 120, with 苏红平
        "su_123": record(handling_123),
        "li_123": record(handling_123, for_deputy="李秀梅"),
        "wang_121": record(Suggestion.objects.get(number=121), for_deputy="王建国"),
    }


RECORDS = {
    "admin": {"seed", "su_123", "li_123", "wang_121"},
    "office": {"seed", "su_123", "li_123", "wang_121"},
    # Units: every record of a suggestion they see (lead or co-unit).
    "staff": {"seed", "su_123", "li_123"}, "head": {"seed", "su_123", "li_123"},
    "agri_staff": {"seed"}, "edu_staff": {"seed"},
    "other_staff": {"wang_121"}, "other_head": {"wang_121"},
    # Deputies: the records of their own meetings only (a record carries the deputy's phone).
    "deputy": {"seed", "su_123"}, "other_deputy": {"wang_121"},
}


@pytest.mark.parametrize("username", sorted(RECORDS))
def test_records_visible_to_each_role(records, username):
    names = {r.pk: name for name, r in records.items()}
    visible = {names[r.pk] for r in Consultation.objects.visible_to(user(username))}
    assert visible == RECORDS[username]


def test_a_deputy_does_not_see_their_record_on_another_deputys_suggestion(records):
    """The record names 苏红平, but the suggestion (121) is not theirs."""
    theirs = record(Suggestion.objects.get(number=121), for_deputy="苏红平")
    assert not Consultation.objects.visible_to(user("deputy")).filter(pk=theirs.pk).exists()
    li = deputy_login("李秀梅")
    assert {r.pk for r in Consultation.objects.visible_to(li)} == {records["li_123"].pk}
    assert not Consultation.objects.visible_to(user("anonymous")).exists()
    assert not Consultation.objects.visible_to(no_role_user()).exists()


# --- core.roles ---

ROLES = {"admin": Role.ADMIN, "office": Role.OFFICE, "staff": Role.HANDLER, "head": Role.HEAD,
         "agri_staff": Role.HANDLER, "other_head": Role.HEAD, "deputy": Role.DEPUTY,
         "other_deputy": Role.DEPUTY}


@pytest.mark.parametrize("username", sorted(ROLES))
def test_role_of(demo, username):
    person = user(username)
    assert role_of(person) == ROLES[username]
    assert is_coordinator(person) == (ROLES[username] in (Role.ADMIN, Role.OFFICE))
    assert is_unit_staff(person) == (ROLES[username] in (Role.HANDLER, Role.HEAD))
    member = getattr(person, "staff_member", None)
    assert user_unit_id(person) == (member.unit_id if member else None)


def test_role_of_nobody(demo):
    for nobody in (None, user("anonymous"), no_role_user()):
        assert role_of(nobody) == Role.NONE
        assert not is_coordinator(nobody) and not is_unit_staff(nobody)
    office = user("office")
    office.is_active = False
    assert role_of(office) == Role.NONE
    # A superuser who is also a unit's staff member is the administrator.
    head = user("head")
    head.is_superuser = True
    assert role_of(head) == Role.ADMIN


def test_the_role_is_asked_once_per_user_object(demo, django_assert_num_queries):
    staff = user("staff")
    assert role_of(staff) == Role.HANDLER
    staff.staff_member.role = "head"  # a cached answer does not follow
    with django_assert_num_queries(0):
        assert role_of(staff) == Role.HANDLER


def test_user_unit_and_display_name(demo):
    assert user_unit_id(user("staff")) == unit("gxj").pk
    assert user_unit_id(user("office")) is None
    assert user_unit_id(user("deputy")) is None
    assert display_name(user("staff")) == "延娜"
    assert display_name(user("deputy")) == deputy("苏红平").name
    admin = user("admin")
    assert display_name(admin) == "admin"
    admin.first_name, admin.last_name = "敏", "王"
    assert display_name(admin) == admin.get_full_name()
