import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from consultations.models import Consultation
from replies.models import Reply, ReplyStatus
from suggestions.models import Status, Suggestion


@pytest.mark.django_db
def test_load_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("load_demo")
    call_command("load_demo")
    assert Suggestion.objects.filter(number=120).count() == 1
    assert Reply.objects.filter(suggestion__number=120).count() == 1
    assert Consultation.objects.filter(suggestion__number=120).count() == 1


@pytest.mark.django_db
def test_demo_has_the_state_the_seed_shows(settings):
    settings.DEBUG = True
    call_command("load_demo")
    suggestion = Suggestion.objects.get(number=120)
    assert suggestion.status == Status.EVALUATED
    reply = suggestion.replies.get()
    assert reply.status == ReplyStatus.SENT
    assert reply.letter_date.isoformat() == "2022-06-21"
    assert reply.signer_name == "苗学武" and reply.handler_name == "延娜"
    assert reply.title == "关于市八届人大一次会议第120号建议的回复"
    assert reply.salutation == "苏红平代表："
    record = suggestion.consultations.get()
    assert record.held_on.isoformat() == "2022-06-24" and record.place == "德源大酒店"
    assert record.deputy_opinion == "非常满意。" and record.proposed_category == "A"
    assert reply.evaluations.get().result == "satisfied"


@pytest.mark.django_db
def test_demo_users_exist_with_the_documented_password(settings):
    settings.DEBUG = True
    call_command("load_demo")
    User = get_user_model()
    for name in ["admin", "office", "staff", "head", "deputy", "other_staff", "other_deputy"]:
        assert User.objects.get(username=name).check_password("demo-pass-2022"), name
    assert User.objects.get(username="admin").is_superuser


@pytest.mark.django_db
def test_load_demo_refuses_known_password_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo")
    assert not get_user_model().objects.filter(username="admin").exists()
    call_command("load_demo", "--force")
    assert get_user_model().objects.filter(username="admin").exists()
