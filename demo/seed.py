"""Demo data: the seed case (suggestion No. 120) as the seed shows it, plus users for each role.

Everything is keyed on natural keys so that loading twice changes nothing. The seed case goes
through the same services a person would use, so its history is the real one.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction

from core import rules
from suggestions.models import CongressSession, Deputy, HandlingUnit, StaffMember, Status, Suggestion
from suggestions.workflow import record_event, transition

DEMO_PASSWORD = "demo-pass-2022"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DATA = Path(__file__).resolve().parent / "demo_data"

SEED_TITLE = "关于应加强加速 5G 新型基建发展，加快 5G+ 相关应用推广的建议"
SEED_CONTENT = (
    "<p>政府应加大宣传力度和投入力度与 5G 运营商开展合作，提速 5G 新基建建设，普及 5G 知识，"
    "深入研究 5G 在智慧农业、智慧工业、智慧教育、智慧工厂等领域的相关应用，支持 5G+ 相关应用"
    "在民营企业中的发展。</p>"
)
SEED_REPLY_POINTS = (
    "截至 2022 年 5 月底，全市累计建成开通 5G 基站 2940 个。聚焦重点应用场景，基础电信企业、"
    "信息服务企业联合行业管理部门、行业重点企业，培育了一批可供行业复制推广的示范项目。下一步将"
    "深入推进 5G 网络覆盖，强化 5G 应用供需对接，在重点行业开展 5G 应用深度合作，培育标杆应用，"
    "对 5G 技术、应用、成效进行广泛宣传推广，做好国家、省级 5G 融合试点示范项目遴选工作。"
)


def seed_reply_body() -> str:
    return (DATA / "reply_120.txt").read_text(encoding="utf-8").strip()


def _at(day: str, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


def _user(username: str, *, superuser: bool = False, password: str = DEMO_PASSWORD):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_password(password)
        user.is_staff = user.is_superuser = superuser
        user.save()
    if not user.email:  # notifications by e-mail can be tried with the file/console backend
        user.email = f"{username}@example.org"
        user.save(update_fields=["email"])
    return user


def _staff(username: str, *, role: str, name: str, unit=None, phone: str = ""):
    user = _user(username)
    StaffMember.objects.update_or_create(
        user=user, defaults={"role": role, "display_name": name, "unit": unit, "phone": phone}
    )
    return user


@transaction.atomic
def load_demo() -> dict[str, int]:
    session, _ = CongressSession.objects.get_or_create(
        name="市八届人大一次会议", defaults={"term": 8, "meeting": 1, "year": 2022}
    )
    gxj, _ = HandlingUnit.objects.get_or_create(
        name="晋城市工业和信息化局",
        defaults={"short_name": "晋城市工信局", "contact_phone": "2218762", "head_name": "苗学武",
                  "reply_closing": "感谢您对我们工作的关心和支持，欢迎今后提出更多宝贵意见。"},
    )
    nync, _ = HandlingUnit.objects.get_or_create(
        name="晋城市农业农村局", defaults={"short_name": "市农业农村局"}
    )
    jyj, _ = HandlingUnit.objects.get_or_create(name="晋城市教育局", defaults={"short_name": "市教育局"})
    zjj, _ = HandlingUnit.objects.get_or_create(
        name="晋城市住房和城乡建设局",
        defaults={"short_name": "市住建局", "contact_phone": "2025678", "head_name": "韩立新"},
    )

    _user("admin", superuser=True)
    office = _staff("office", role=StaffMember.Role.OFFICE, name="王敏（代表工委）")
    staff = _staff("staff", role=StaffMember.Role.HANDLER, name="延娜", unit=gxj, phone="2218762")
    head = _staff("head", role=StaffMember.Role.HEAD, name="苗学武", unit=gxj, phone="2218762")
    _staff("other_staff", role=StaffMember.Role.HANDLER, name="赵磊", unit=zjj, phone="2025678")
    _staff("other_head", role=StaffMember.Role.HEAD, name="韩立新", unit=zjj, phone="2025678")
    co_staff = [
        _staff("agri_staff", role=StaffMember.Role.HANDLER, name="张伟", unit=nync),
        _staff("edu_staff", role=StaffMember.Role.HANDLER, name="刘芳", unit=jyj),
    ]

    su, _ = Deputy.objects.get_or_create(
        name="苏红平", defaults={"work_unit": "山西红萍服饰有限公司", "phone": "13935685333"}
    )
    if su.user_id is None:
        su.user = _user("deputy")
        su.save()
    wang, _ = Deputy.objects.get_or_create(
        name="王建国", defaults={"work_unit": "晋城市城区北街街道", "phone": "13803560121"}
    )
    if wang.user_id is None:
        wang.user = _user("other_deputy")
        wang.save()
    li, _ = Deputy.objects.get_or_create(
        name="李秀梅", defaults={"work_unit": "晋城市第一中学", "phone": "13835600456"}
    )

    created = 0
    if not Suggestion.objects.filter(session=session, number=120).exists():
        _seed_case(session, su, gxj, [nync, jyj], office=office, staff=staff, head=head,
                   co_staff=co_staff)
        created += 1
    others = [
        (121, "关于加快老旧小区加装电梯工作的建议", wang, [], zjj, "handling", "urban"),
        (122, "关于中小学课后服务提质增效的建议", li, [su], jyj, "assigned", "education"),
        (123, "关于支持专精特新中小企业融资的建议", su, [li], gxj, "handling", "economy"),
        (124, "关于完善农村生活污水治理的建议", li, [], None, "registered", "agriculture"),
    ]
    for number, title, lead, co, unit, target, topic in others:
        if Suggestion.objects.filter(session=session, number=number).exists():
            continue
        suggestion = Suggestion.objects.create(
            session=session, number=number, title=title, lead_deputy=lead, topic=topic,
            content=f"<p>{title.removeprefix('关于').removesuffix('的建议')}，建议有关部门研究落实。</p>",
            submitted_on=datetime.date(2026, 9, 20),
        )
        suggestion.co_deputies.set(co)
        record_event(suggestion, actor=office, action="register")
        if unit is not None:
            transition(suggestion, name="assign", user=office, unit=unit)
        if target == "handling":
            handler = staff if unit == gxj else _user("other_staff")
            transition(suggestion, name="accept", user=handler)
        created += 1
    return {"suggestions_created": created}


def _seed_case(session, deputy, unit, co_units, *, office, staff, head, co_staff) -> Suggestion:
    """No. 120 as the seed shows it: reply signed and sent on 2022-06-21, then delivered at
    the face-to-face meeting of 2022-06-24, where the deputy wrote 非常满意 and signed."""
    from consultations.models import Method, Signature
    from consultations.services import consultation_create
    from replies.models import Evaluation
    from replies.services import reply_create_draft, reply_evaluate, reply_send, reply_sign, reply_submit

    suggestion = Suggestion.objects.create(
        session=session, number=120, title=SEED_TITLE, content=SEED_CONTENT,
        lead_deputy=deputy, topic="economy", submitted_on=datetime.date(2022, 3, 10),
    )
    record_event(suggestion, actor=office, action="register", at=_at("2022-03-10"))
    transition(suggestion, name="assign", user=office, unit=unit, co_units=co_units,
               on=datetime.date(2022, 3, 25), at=_at("2022-03-25"))
    transition(suggestion, name="accept", user=staff, on=datetime.date(2022, 3, 28),
               at=_at("2022-03-28"))
    suggestion.refresh_from_db()
    opinions = [
        "将指导各县（市、区）农业农村部门推进 5G 在智慧农业中的示范应用。",
        "将结合智慧校园建设，推动 5G 在教育教学中的应用。",
    ]
    for _co, user, opinion in zip(suggestion.co_handlings.order_by("pk"), co_staff, opinions, strict=True):
        rules.run(suggestion, "co_opinion", user=user, opinion=opinion, at=_at("2022-04-20"))

    reply = reply_create_draft(suggestion=suggestion, user=staff, at=_at("2022-06-10"))
    reply.body = seed_reply_body()
    reply.category = "A"
    reply.handler_name, reply.contact_phone = "延娜", "2218762"
    reply.letter_date = datetime.date(2022, 6, 21)
    reply.save()
    reply_submit(reply=reply, user=staff, at=_at("2022-06-17"))
    reply_sign(reply=reply, user=head, at=_at("2022-06-21", 9))
    reply_send(reply=reply, user=staff, at=_at("2022-06-21", 15))

    record = consultation_create(suggestion=suggestion, user=staff, data={
        "deputy": deputy, "method": Method.FACE_TO_FACE, "held_on": datetime.date(2022, 6, 24),
        "place": "德源大酒店", "attendees": "卢建超 郝娜", "attendee_phone": "2218762",
        "content_summary": (
            "政府应加大宣传力度和投入力度与 5G 运营商开展合作，提速 5G 新基建建设，普及 5G 知识，"
            "深入研究 5G 在智慧农业、智慧工业、智慧教育、智慧工厂等领域的相关应用，支持 5G+ 相关"
            "应用在民营企业中的发展。"
        ),
        "reply_points": SEED_REPLY_POINTS, "proposed_category": "A",
        "deputy_opinion": "非常满意。", "satisfaction": "satisfied",
        "signature": Signature.PAPER, "signed_name": "苏红平",
    }, at=_at("2022-06-24", 14))
    # The deputy's words at the meeting (非常满意) are the evaluation; the rated level is 满意.
    reply_evaluate(
        reply=reply, user=office, deputy=deputy, attitude="satisfied",
        result="satisfied", comment="非常满意。（面商时签字确认）",
        source=Evaluation.Source.CONSULTATION, at=_at("2022-06-24", 16),
    )
    suggestion.refresh_from_db()
    assert suggestion.status == Status.EVALUATED, suggestion.status
    assert record.pk
    return suggestion
