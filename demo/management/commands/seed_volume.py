"""Volume data for load and scale tests: ``python manage.py seed_volume --suggestions 100000``.

Realistic, clearly marked data in the configured database: five sessions named 【压测】…, 40
handling units named 【压测】… (with short names and document-number abbreviations), 500
deputies named 压测代表N, users named ``bench_*`` (no usable password), and N suggestions in
every status with co-signers, co-handling units and their opinions, consultations, reply
letters (drafts, signed, sent, with numbers like 晋市工信建字〔2024〕17号 and a fingerprint),
ratings and the event log, in the proportions a city congress sees over five years.

The figure columns the moves keep on the suggestion (``handling_result``, ``rating``,
``met``, ``replied_on``, ``replied_on_time``) are set as the workflow would have set them.
Rows are written in batches (PostgreSQL: COPY; other databases: bulk_create), not through the
workflow one suggestion at a time: 100,000 suggestions take a few minutes, not hours.

Refuses unless DEBUG or TESTING is on, or ``--force`` is given; refuses when volume data is
already there unless ``--reset`` (which deletes the marked suggestions and everything hanging
off them, and keeps the marked sessions, units, deputies and users for reuse).
"""

from __future__ import annotations

import datetime
import io
import random
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

MARK = "【压测】"
USER_PREFIX = "bench_"
SESSIONS = [  # (meeting, year): the sessions of one term, the last one current
    (1, 2022), (2, 2023), (3, 2024), (4, 2025), (5, 2026),
]
TERM = 99  # (term, meeting) is unique: a term number no real congress uses
CN_NUMBERS = "一二三四五六七八九十"

# name, short name, document-number abbreviation (晋市{abbr}建字〔年〕N号), topics it handles
UNITS = [
    ("晋城市工业和信息化局", "工信局", "工信", "economy"),
    ("晋城市住房和城乡建设局", "住建局", "住建", "urban"),
    ("晋城市教育局", "教育局", "教", "education"),
    ("晋城市农业农村局", "农业农村局", "农", "agriculture"),
    ("晋城市交通运输局", "交通局", "交", "urban"),
    ("晋城市公安局", "公安局", "公", "governance urban"),
    ("晋城市卫生健康委员会", "卫健委", "卫健", "health"),
    ("晋城市人力资源和社会保障局", "人社局", "人社", "health economy"),
    ("晋城市民政局", "民政局", "民", "health governance"),
    ("晋城市财政局", "财政局", "财", "economy governance"),
    ("晋城市规划和自然资源局", "自然资源局", "自然资源", "urban agriculture"),
    ("晋城市生态环境局", "生态环境局", "环", "urban agriculture"),
    ("晋城市水务局", "水务局", "水", "agriculture urban"),
    ("晋城市文化和旅游局", "文旅局", "文旅", "education economy"),
    ("晋城市商务局", "商务局", "商", "economy"),
    ("晋城市市场监督管理局", "市场监管局", "市监", "economy health"),
    ("晋城市发展和改革委员会", "发改委", "发改", "economy"),
    ("晋城市城市管理局", "城管局", "城管", "urban"),
    ("晋城市应急管理局", "应急局", "应急", "governance"),
    ("晋城市医疗保障局", "医保局", "医保", "health"),
    ("晋城市林业局", "林业局", "林", "agriculture"),
    ("晋城市体育局", "体育局", "体", "education"),
    ("晋城市退役军人事务局", "退役军人局", "退役", "health"),
    ("晋城市审计局", "审计局", "审计", "governance"),
    ("晋城市统计局", "统计局", "统", "governance"),
    ("晋城市司法局", "司法局", "司", "governance"),
    ("晋城市行政审批服务管理局", "审批局", "审批", "governance economy"),
    ("晋城市能源局", "能源局", "能", "economy"),
    ("晋城市科学技术局", "科技局", "科", "economy education"),
    ("晋城市地方金融监督管理局", "金融局", "金融", "economy"),
    ("晋城市国有资产监督管理委员会", "国资委", "国资", "economy"),
    ("晋城市乡村振兴局", "乡村振兴局", "振兴", "agriculture"),
    ("晋城市信访局", "信访局", "信访", "governance"),
    ("晋城市住房公积金管理中心", "公积金中心", "积金", "urban health"),
    ("国网晋城供电公司", "供电公司", "电", "urban"),
    ("晋城市气象局", "气象局", "气", "agriculture"),
    ("国家税务总局晋城市税务局", "税务局", "税", "economy"),
    ("晋城市邮政管理局", "邮政局", "邮", "economy"),
    ("晋城市消防救援支队", "消防支队", "消", "governance urban"),
    ("晋城市数据局", "数据局", "数", "economy governance"),
]
TOPIC_WEIGHTS = {
    "urban": 25, "economy": 20, "agriculture": 15, "health": 15, "education": 13,
    "governance": 8, "other": 4,
}
SUBJECTS = {
    "urban": [
        "城区停车设施建设", "医院周边停车难问题治理", "老旧小区加装电梯", "老旧小区改造",
        "城区道路交通拥堵治理", "公共交通线网优化", "城市内涝防治", "背街小巷环境整治",
        "城区供热管网改造", "新能源汽车充电桩建设", "共享单车规范管理", "城市公园绿地建设",
        "建筑垃圾规范处置", "物业服务监管", "城区夜间照明设施",
    ],
    "economy": [
        "5G 新型基础设施建设", "专精特新中小企业融资", "民营经济高质量发展", "营商环境优化",
        "煤炭产业转型升级", "数字经济发展", "光机电产业集群培育", "招商引资政策落实",
        "夜间经济发展", "小微企业减税降费", "企业用工保障", "文旅消费提振",
    ],
    "agriculture": [
        "农村生活污水治理", "高标准农田建设", "农产品冷链物流", "农村人居环境整治",
        "乡村特色产业发展", "农田水利设施维护", "农村饮水安全", "畜禽养殖废弃物利用",
        "蚕桑产业振兴", "农村寄递物流体系",
    ],
    "education": [
        "中小学课后服务提质增效", "学前教育普惠发展", "乡村教师队伍建设", "校园周边交通安全",
        "职业教育产教融合", "中小学心理健康教育", "全民健身场地建设", "公共图书馆服务",
        "非物质文化遗产保护", "校外培训规范管理",
    ],
    "health": [
        "基层医疗服务能力提升", "居家养老服务体系", "医保异地结算便利化", "儿童医疗资源配置",
        "社区卫生服务中心建设", "灵活就业人员社会保障", "困难群众救助", "退役军人就业服务",
        "精神卫生服务体系", "医院预约挂号服务",
    ],
    "governance": [
        "基层治理网格化", "政务服务一网通办", "安全生产监管", "法律援助服务",
        "矛盾纠纷多元化解", "消防安全隐患排查", "电动自行车安全管理", "信访工作法治化",
    ],
    "other": [
        "地方志编纂工作", "气象灾害预警", "邮政快递网点布局", "统计数据共享",
    ],
}
VERBS = ["加强", "加快", "进一步完善", "推进", "支持", "规范", "优化", "切实做好", "持续推动"]
BACKGROUND = [
    "近年来，我市在{s}方面做了大量工作，取得了一定成效，但与群众期盼相比仍有差距。",
    "{s}事关群众切身利益，是代表在调研中群众反映较多的问题。",
    "随着城镇化进程加快，{s}的问题日益突出，群众意见较大。",
    "经过走访调研，代表发现{s}仍存在一些短板和薄弱环节。",
]
PROBLEMS = [
    "统筹规划不够，各部门之间协调配合有待加强；",
    "资金投入不足，相关项目推进缓慢；",
    "政策宣传不到位，群众知晓率不高；",
    "部分设施建设标准偏低，后期管护责任不明确；",
    "基层人员力量薄弱，专业化水平有待提高；",
    "监管手段单一，长效机制尚未建立；",
    "信息化建设滞后，数据共享程度不高；",
]
PROPOSALS = [
    "建议有关部门加强统筹协调，制定专项工作方案，明确时间表和路线图。",
    "建议加大财政资金投入，积极争取上级项目和资金支持。",
    "建议建立健全长效管护机制，压实各方责任。",
    "建议加强政策宣传解读，提高群众知晓率和参与度。",
    "建议借鉴先进地区经验，探索适合我市实际的工作模式。",
    "建议将相关工作纳入年度目标责任考核，定期督促检查。",
]
REPLY_POINTS = [
    "已将建议纳入年度重点工作，制定专项方案推进落实。",
    "已协调相关部门召开专题会议，明确了责任分工和完成时限。",
    "目前已完成前期调研，下一步将分步实施。",
    "受资金和政策条件限制，暂时难以全部解决，已向代表作出解释说明。",
]
WORK_UNITS = [
    "晋城市{}有限公司", "{}县人民政府", "晋城市第{}中学", "{}镇人民政府", "晋城市{}医院",
    "{}村村民委员会", "晋城市{}商会", "山西{}集团有限公司",
]
PLACES = ["单位会议室", "代表联络站", "代表工作单位", "项目现场", "德源大酒店", "市民之家"]
LOCALITIES = [
    "城区", "泽州县", "高平市", "阳城县", "陵川县", "沁水县", "西街街道", "东街街道", "南街街道",
    "北街街道", "钟家庄街道", "矿区街道", "北石店镇", "巴公镇", "北义城镇", "金村镇", "南村镇",
    "大东沟镇", "川底乡", "周村镇", "高都镇", "犁川镇", "晋庙铺镇", "柳树口镇", "山河镇",
    "李寨乡", "下村镇", "大阳镇", "陟椒乡", "东四义乡", "米山镇", "三甲镇", "寺庄镇", "河西镇",
    "马村镇", "野川镇", "北诗镇", "原村乡", "建宁乡", "永录乡", "凤城镇", "北留镇", "润城镇",
    "町店镇", "芹池镇", "次营镇", "横河镇", "蟒河镇", "东冶镇", "崇文镇", "礼义镇", "附城镇",
    "西河乡", "平城镇", "杨村镇", "潞城镇", "龙港镇", "中村镇", "郑庄镇", "端氏镇", "嘉峰镇",
    "郑村镇", "柿庄镇", "土沃乡", "张村乡", "苏庄乡", "胡底乡", "固县乡", "十里乡",
]
SPOTS = [
    "凤台街", "泽州路", "红星街", "文昌街", "黄华街", "书院街", "景西路", "中原街", "新市街",
    "白水街", "建设路", "兰花路", "太行路", "迎宾街", "开发区", "工业园区", "老城区", "火车站周边",
    "人民医院周边", "第一中学周边", "农贸市场", "汽车站", "高铁站", "丹河沿岸", "沁河沿岸",
]
FACTS = [
    "据调查，{place}现有相关设施{n}处，但覆盖不足，约{k}个小区（村）尚未配套。",
    "{place}{spot}一带常住人口约{k}万人，群众对此反映强烈，{year}年以来相关诉求达{n}件。",
    "截至{year}年底，{place}已投入资金{k}00余万元，完成项目{n}个，但缺口仍然较大。",
    "以{place}为例，{spot}区域问题尤为集中，高峰时段影响群众{n}余户。",
]
PLACE_NAMES = ["泽州", "高平", "阳城", "陵川", "沁水", "城区"]
DELEGATIONS = ["城区", "泽州县", "高平市", "阳城县", "陵川县", "沁水县"]
METHOD_WORDS = {"face": "面对面", "phone": "电话", "video": "视频", "visit": "走访", "meeting": "座谈"}
RATING_WORDS = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}
DOC_CATEGORIES = [("A", 55), ("B", 30), ("C", 12), ("D", 3)]
# Status shares (percent) per session, oldest first: old sessions are mostly closed.
STATUS_MIX = [
    {"closed": 80, "evaluated": 14, "replied": 4, "handling": 1, "rehandling": 1},
    {"closed": 75, "evaluated": 17, "replied": 5, "handling": 2, "rehandling": 1},
    {"closed": 65, "evaluated": 22, "replied": 8, "handling": 3, "rehandling": 2},
    {"closed": 40, "evaluated": 33, "replied": 15, "handling": 7, "rehandling": 3, "assigned": 2},
    {"registered": 5, "assigned": 8, "return_requested": 1, "handling": 40, "rehandling": 2,
     "replied": 20, "evaluated": 20, "closed": 4},
]
SHANGHAI = ZoneInfo(getattr(settings, "TIME_ZONE", "Asia/Shanghai") or "Asia/Shanghai")


def add_months(day: datetime.date, months: int) -> datetime.date:
    from suggestions.workflow import add_months as workflow_add_months

    return workflow_add_months(day, months)


def volume_suggestions():
    from suggestions.models import Suggestion

    return Suggestion.objects.filter(session__name__startswith=MARK)


def volume_count() -> int:
    return volume_suggestions().count()


def allowed_here(force: bool) -> bool:
    return bool(force or settings.DEBUG or getattr(settings, "TESTING", False))


# --- Writing rows -------------------------------------------------------------------------------

class Table:
    """The rows of one model for one batch, in the model's column order (unknown columns get
    their default), with primary keys allocated here."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        with connection.cursor() as cursor:
            present = {
                column.name for column in
                connection.introspection.get_table_description(cursor, model._meta.db_table)
            }
        # The table's columns as they are in the database (a model field whose migration is
        # not applied yet is left out; generated columns compute themselves).
        self.fields = [
            f for f in model._meta.concrete_fields
            if f.column in present and not getattr(f, "generated", False)
        ]
        self.names = [f.attname for f in self.fields]
        self.defaults = {
            f.attname: (None if f.null else f.get_default()) for f in self.fields
        }
        self.rows: list[dict] = []
        self.next_id = (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1
        self.written = 0

    def add(self, **values) -> int:
        values.setdefault("id", self.next_id)
        self.next_id = max(self.next_id, values["id"] + 1)
        self.rows.append(values)
        return values["id"]


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text


def flush(table: Table) -> None:
    if not table.rows:
        return
    defaults, names = table.defaults, table.names
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        for row in table.rows:
            buffer.write("\t".join(_copy_text(row.get(name, defaults[name])) for name in names))
            buffer.write("\n")
        buffer.seek(0)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in table.fields)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {quote(table.model._meta.db_table)} ({columns}) FROM STDIN", buffer
            )
    else:
        objects = [table.model(**{name: row.get(name, defaults[name]) for name in names})
                   for row in table.rows]
        table.model.objects.bulk_create(objects, batch_size=500)
    table.written += len(table.rows)
    table.rows = []


def reset_sequences(tables: list[Table]) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            name = table.model._meta.db_table
            pk = table.model._meta.pk.column
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                f"GREATEST((SELECT MAX({connection.ops.quote_name(pk)}) FROM "
                f"{connection.ops.quote_name(name)}), 1))",
                [name, pk],
            )


def purge(model: type[models.Model], subquery: str, params: list, seen: tuple = (),
          tables: set | None = None) -> int:
    """Delete the rows of ``model`` whose pk is in ``subquery``, and first every row of any
    model that points at them (so new tables of other apps are handled too)."""
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    if tables is None:
        tables = set(connection.introspection.table_names())
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        child = rel.related_model
        if child in seen or child is model or child._meta.db_table not in tables:
            continue
        child_sub = (
            f"SELECT {quote(child._meta.pk.column)} FROM {quote(child._meta.db_table)} "
            f"WHERE {quote(rel.field.column)} IN ({subquery})"
        )
        purge(child, child_sub, params, (*seen, model), tables)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({subquery})", params)
        return cursor.rowcount


def delete_volume() -> int:
    from suggestions.models import CongressSession, Suggestion

    sessions = list(CongressSession.objects.filter(name__startswith=MARK).values_list("pk", flat=True))
    if not sessions:
        return 0
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(sessions))
    subquery = (
        f"SELECT {quote('id')} FROM {quote(Suggestion._meta.db_table)} "
        f"WHERE {quote('session_id')} IN ({marks})"
    )
    with transaction.atomic():
        return purge(Suggestion, subquery, list(sessions))


# --- The people and bodies ------------------------------------------------------------------------

@dataclass
class World:
    sessions: list  # CongressSession, oldest first
    units: list  # HandlingUnit, in UNITS order
    abbreviations: dict  # unit id -> abbreviation
    unit_topics: dict  # topic -> [unit index]
    deputies: list  # Deputy
    deputy_users: dict  # deputy id -> user id
    office: object
    admin: object
    staff: dict  # unit id -> (handler user, head user)
    heads: dict = field(default_factory=dict)  # unit id -> head display name


def _ensure_users(usernames: dict[str, dict]) -> dict:
    """username -> user, created in one go (unusable passwords: these are test logins)."""
    User = get_user_model()
    existing = {u.username: u for u in User.objects.filter(username__in=list(usernames))}
    missing = [
        User(username=name, password=make_password(None), **extra)
        for name, extra in usernames.items() if name not in existing
    ]
    if missing:
        User.objects.bulk_create(missing, batch_size=500)
        existing = {u.username: u for u in User.objects.filter(username__in=list(usernames))}
    return existing


def ensure_world(rng: random.Random) -> World:
    from suggestions.models import CongressSession, Deputy, HandlingUnit, StaffMember

    sessions = []
    for meeting, year in SESSIONS:
        session, _ = CongressSession.objects.get_or_create(
            term=TERM, meeting=meeting,
            defaults={"name": f"{MARK}市九届人大{CN_NUMBERS[meeting - 1]}次会议", "year": year,
                      "opened_on": datetime.date(year, 1, 18)},
        )
        sessions.append(session)
    units, abbreviations, unit_topics = [], {}, {}
    for index, (name, short, abbr, topics) in enumerate(UNITS):
        unit, _ = HandlingUnit.objects.get_or_create(
            name=f"{MARK}{name}",
            defaults={"short_name": short, "contact_phone": f"0356-20{index:02d}{index * 37 % 100:02d}",
                      "head_name": f"压测负责人{index + 1:02d}"},
        )
        units.append(unit)
        abbreviations[unit.pk] = abbr
        for topic in topics.split():
            unit_topics.setdefault(topic, []).append(index)
    unit_topics["other"] = list(range(len(units)))

    names = [f"压测代表{n}" for n in range(1, 501)]
    deputies = {d.name: d for d in Deputy.objects.filter(name__in=names)}
    new = []
    for n, name in enumerate(names, start=1):
        if name not in deputies:
            pattern = WORK_UNITS[n % len(WORK_UNITS)]
            new.append(Deputy(
                name=name, work_unit=pattern.format(PLACE_NAMES[n % 6]), phone=f"139{n:08d}",
                delegation=DELEGATIONS[n % 6],
            ))
    if new:
        Deputy.objects.bulk_create(new)
        deputies = {d.name: d for d in Deputy.objects.filter(name__in=names)}
    deputies = [deputies[name] for name in names]

    wanted = {f"{USER_PREFIX}office": {}, f"{USER_PREFIX}admin": {"is_staff": True, "is_superuser": True}}
    for index in range(len(units)):
        wanted[f"{USER_PREFIX}u{index + 1:02d}_staff"] = {}
        wanted[f"{USER_PREFIX}u{index + 1:02d}_head"] = {}
    for n in range(1, len(deputies) + 1):
        wanted[f"{USER_PREFIX}d{n:03d}"] = {}
    users = _ensure_users(wanted)

    members = {m.user_id for m in StaffMember.objects.filter(user__username__startswith=USER_PREFIX)}
    new_members = []
    office, admin = users[f"{USER_PREFIX}office"], users[f"{USER_PREFIX}admin"]
    if office.pk not in members:
        new_members.append(StaffMember(user=office, role=StaffMember.Role.OFFICE,
                                       display_name="压测代表工委"))
    staff = {}
    for index, unit in enumerate(units):
        handler = users[f"{USER_PREFIX}u{index + 1:02d}_staff"]
        head = users[f"{USER_PREFIX}u{index + 1:02d}_head"]
        staff[unit.pk] = (handler, head)
        for user, role, label in ((handler, StaffMember.Role.HANDLER, "压测经办人"),
                                  (head, StaffMember.Role.HEAD, "压测负责人")):
            if user.pk not in members:
                new_members.append(StaffMember(
                    user=user, role=role, unit=unit, display_name=f"{label}{index + 1:02d}",
                    phone=f"20{index:02d}{rng.randrange(100, 999)}",
                ))
    if new_members:
        StaffMember.objects.bulk_create(new_members)
    deputy_users = {}
    for n, deputy in enumerate(deputies, start=1):
        user = users[f"{USER_PREFIX}d{n:03d}"]
        if deputy.user_id is None:
            Deputy.objects.filter(pk=deputy.pk).update(user=user)
            deputy.user_id = user.pk
        deputy_users[deputy.pk] = deputy.user_id
    return World(
        sessions=sessions, units=units, abbreviations=abbreviations, unit_topics=unit_topics,
        deputies=deputies, deputy_users=deputy_users, office=office, admin=admin, staff=staff,
        heads={unit.pk: f"压测负责人{index + 1:02d}" for index, unit in enumerate(units)},
    )


# --- The suggestions -----------------------------------------------------------------------------

def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _at(day: datetime.date, rng: random.Random, start: int = 8, end: int = 18) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, rng.randrange(start, end),
                             rng.randrange(60), rng.randrange(60), tzinfo=SHANGHAI)


def _between(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    if last <= first:
        return first
    return first + datetime.timedelta(days=rng.randrange((last - first).days + 1))


class Generator:
    def __init__(self, world: World, rng: random.Random, today: datetime.date):
        from consultations.models import Consultation
        from replies.models import Evaluation, Reply
        from suggestions.models import CoHandling, Event, Suggestion

        self.world, self.rng, self.today = world, rng, today
        self.suggestions = Table(Suggestion)
        self.co_deputies = Table(Suggestion.co_deputies.through)
        self.co_handlings = Table(CoHandling)
        self.consultations = Table(Consultation)
        self.replies = Table(Reply)
        self.evaluations = Table(Evaluation)
        self.events = Table(Event)
        self.first_suggestion_id = self.suggestions.next_id
        self.tables = [self.suggestions, self.co_deputies, self.co_handlings, self.consultations,
                       self.replies, self.evaluations, self.events]
        self.doc_numbers: dict[tuple[int, int], int] = {}
        # Some deputies file many more suggestions than others.
        weights = [1 / (rank ** 0.3) for rank in range(1, len(world.deputies) + 1)]
        rng.shuffle(weights)
        self.deputy_weights = weights
        # A few big units and many small ones, as in a real city.
        self.unit_weights = [1 / (rank ** 0.7) for rank in range(1, len(world.units) + 1)]
        self.categories = [(c, w) for c, w in DOC_CATEGORIES if c in settings.HANDLING_CATEGORIES] or [
            (settings.HANDLING_CATEGORIES[0], 1)]

    # Texts

    def title_and_content(self, topic: str) -> tuple[str, str]:
        rng = self.rng
        subject = rng.choice(SUBJECTS[topic])
        # Real suggestions name where: a county, a town, a street (and so differ in wording).
        place = rng.choice(LOCALITIES)
        title = rng.choices([
            f"关于{rng.choice(VERBS)}{place}{subject}的建议",
            f"关于{place}{rng.choice(SPOTS)}{subject}问题的建议",
            f"关于{rng.choice(VERBS)}{subject}的建议",
        ], weights=[50, 20, 30])[0]
        paragraphs = [rng.choice(BACKGROUND).format(s=subject), rng.choice(FACTS).format(
            place=place, n=rng.randrange(3, 400), k=rng.randrange(2, 60),
            year=rng.choice(SESSIONS)[1], spot=rng.choice(SPOTS),
        )]
        problems = rng.sample(PROBLEMS, rng.randrange(2, 4))
        if topic == "urban" and rng.random() < 0.15:
            problems.append("交通拥堵、停车难等问题在高峰时段较为突出；")
        paragraphs.append("当前存在的主要问题：" + "".join(problems).rstrip("；") + "。")
        paragraphs += rng.sample(PROPOSALS, rng.randrange(2, 4))
        content = "".join(f"<p>{p}</p>" for p in paragraphs)
        return title, content

    def doc_number(self, unit_id: int, year: int) -> str:
        key = (unit_id, year)
        self.doc_numbers[key] = self.doc_numbers.get(key, 0) + 1
        return f"晋市{self.world.abbreviations[unit_id]}建字〔{year}〕{self.doc_numbers[key]}号"

    def event(self, suggestion_id: int, at, action: str, actor, *, from_status: str = "",
              to_status: str = "", note: str = "", internal: bool = False, label: str = "") -> None:
        actor_id = actor if isinstance(actor, int) or actor is None else actor.pk
        self.events.add(suggestion_id=suggestion_id, actor_id=actor_id, at=at,
                        action=action, from_status=from_status, to_status=to_status, note=note,
                        internal=internal, object_label=label[:200])

    # One suggestion and everything hanging off it

    def suggestion(self, session, number: int, status: str) -> None:
        rng, world, today = self.rng, self.world, self.today
        topic = _weighted(rng, TOPIC_WEIGHTS.items())
        title, content = self.title_and_content(topic)
        lead = rng.choices(world.deputies, weights=self.deputy_weights)[0]
        others = [d for d in rng.choices(world.deputies, weights=self.deputy_weights,
                                         k=_weighted(rng, [(0, 50), (1, 30), (2, 14), (3, 6)]))
                  if d.pk != lead.pk]
        co_deputies = list({d.pk: d for d in others}.values())
        current = session is world.sessions[-1]
        opened = session.opened_on
        submitted = opened + datetime.timedelta(days=rng.randrange(0, 6))
        row = dict(
            session_id=session.pk, number=number, title=title, content=content,
            lead_deputy_id=lead.pk, topic=topic, submitted_on=submitted,
            key_supervision=rng.random() < 0.01, disclosure="agreed", status=status,
            co_opinions_waived=False, handling_result="", rating="", met=False, replied_on=None,
            replied_on_time=False, lead_unit_id=None, assigned_on=None, accepted_on=None,
            due_on=None, due_extended=False,
        )
        sid = self.suggestions.add(**row)
        row = self.suggestions.rows[-1]
        for deputy in co_deputies:
            self.co_deputies.add(suggestion_id=sid, deputy_id=deputy.pk)
        office = world.office
        created = _at(submitted, rng)
        row["created_at"] = created
        last = created
        self.event(sid, created, "register", office)
        if status == "registered":
            row["updated_at"] = last
            return

        pool = world.unit_topics.get(topic) or world.unit_topics["other"]
        unit_index = rng.choices(pool, weights=[self.unit_weights[i] for i in pool])[0]
        unit = world.units[unit_index]
        handler, head = world.staff[unit.pk]
        if current and status in ("assigned", "return_requested", "handling"):
            assigned = today - datetime.timedelta(days=rng.randrange(3, 150))
        elif current and status == "rehandling":
            assigned = today - datetime.timedelta(days=rng.randrange(120, 200))
        else:
            assigned = submitted + datetime.timedelta(days=rng.randrange(7, 30))
        due = add_months(assigned, settings.REPLY_DUE_MONTHS)
        row.update(lead_unit_id=unit.pk, assigned_on=assigned, due_on=due, due_rule="assign",
                   due_basis=assigned, due_months=settings.REPLY_DUE_MONTHS)
        last = _at(assigned, rng)
        self.event(sid, last, "assign", office, from_status="registered", to_status="assigned",
                   label=unit.name)
        co_units = []
        if rng.random() < 0.25:
            choices = [i for i in pool if i != unit_index]
            choices = choices or [i for i in range(len(world.units)) if i != unit_index]
            picked = rng.sample(choices, min(len(choices), rng.choice((1, 1, 2))))
            co_units = [world.units[i] for i in picked]
        co_rows = []
        for co in co_units:
            self.co_handlings.add(
                suggestion_id=sid, unit_id=co.pk, required=True,
                due_on=add_months(assigned, settings.CO_OPINION_DUE_MONTHS), opinion="",
                due_basis=assigned, due_months=settings.CO_OPINION_DUE_MONTHS,
                submitted_at=None, submitted_by_id=None,
            )
            co_rows.append(self.co_handlings.rows[-1])
        if status == "assigned":
            row["updated_at"] = last
            return
        if status == "return_requested":
            last = _at(assigned + datetime.timedelta(days=rng.randrange(1, 6)), rng)
            self.event(sid, last, "request_return", handler, from_status="assigned",
                       to_status="return_requested", note="该建议内容不属于我单位职责范围，申请退回。")
            row["updated_at"] = last
            return

        accepted = assigned + datetime.timedelta(days=rng.randrange(1, 7))
        row["accepted_on"] = accepted
        last = _at(accepted, rng)
        self.event(sid, last, "accept", handler, from_status="assigned", to_status="handling")
        replied_states = ("replied", "evaluated", "closed", "rehandling")
        # Co-units' opinions: in before the reply; still awaited for some in handling.
        for co, co_row in zip(co_units, co_rows, strict=True):
            if status in replied_states or rng.random() < 0.6:
                day = min(accepted + datetime.timedelta(days=rng.randrange(5, 30)), today)
                at = _at(day, rng)
                co_user = world.staff[co.pk][0]
                co_row.update(opinion=f"{co.short_name}将结合职责，配合做好相关工作。",
                              submitted_at=at, submitted_by_id=co_user.pk)
                self.event(sid, at, "co_opinion", co_user, label=co.name)
                last = max(last, at)
        if status in replied_states:
            answer = min(assigned + datetime.timedelta(days=int(rng.triangular(25, 110, 70))),
                         today - datetime.timedelta(days=1))
            if current and status in ("replied", "evaluated"):
                answer = _between(rng, accepted + datetime.timedelta(days=10),
                                  today - datetime.timedelta(days=1))
        else:
            answer = None
        # Consultations: most units meet the deputy (面商) before or when delivering the reply.
        deputies = [lead, *co_deputies]
        met = False
        roll = rng.random()
        count = 0 if roll < 0.15 else (1 if roll < 0.85 else 2)
        if status == "handling" and rng.random() < 0.4:
            count = 0
        for _ in range(count):
            end = answer + datetime.timedelta(days=5) if answer else today
            day = _between(rng, accepted + datetime.timedelta(days=3), min(end, today))
            method = _weighted(rng, [("face", 70), ("phone", 18), ("visit", 7), ("meeting", 5)])
            met = met or method == "face"
            place = rng.choice(PLACES) if method != "phone" else ""
            signed = rng.random() < 0.8
            at = _at(day, rng)
            self.consultations.add(
                suggestion_id=sid, deputy_id=lead.pk, method=method, held_on=day,
                held_at=datetime.time(rng.randrange(9, 17), rng.choice((0, 30))), place=place,
                attendees=f"压测经办人{unit_index + 1:02d}",
                attendee_phone=f"20{unit_index:02d}{rng.randrange(100, 999)}",
                content_summary=title.removeprefix("关于").removesuffix("的建议") + "。",
                reply_points=rng.choice(REPLY_POINTS), proposed_category=_weighted(rng, self.categories),
                deputy_opinion="满意。" if signed else "", satisfaction="satisfied" if signed else "",
                signature="paper" if signed else "pending", signed_name=lead.name if signed else "",
                confirmed_at=None, created_by_id=handler.pk, created_at=at, updated_at=at,
                lock_version=0,
            )
            self.event(sid, at, "consultation", handler,
                       note=f"{day:%Y-%m-%d} {METHOD_WORDS[method]} {place}".strip())
            last = max(last, at)
        row["met"] = met

        if status == "handling":
            if rng.random() < 0.45:
                kind = _weighted(rng, [("draft", 60), ("pending", 25), ("signed", 15)])
                day = _between(rng, accepted, today)
                last = max(last, self.reply(sid, session, number, title, unit, deputies, handler, head,
                                            day, day, version=1, status=kind))
            if rng.random() < 0.04 and not row["due_extended"]:
                new_due = add_months(assigned, settings.REPLY_MAX_EXTENDED_MONTHS)
                at = _at(min(due, today), rng)
                self.event(sid, at, "extend", office, label=f"{due} → {new_due}",
                           note="情况复杂，经批准延期答复。")
                row.update(due_on=new_due, due_extended=True, due_rule="extension",
                           due_basis=new_due, due_months=None)
                last = max(last, at)
            row["updated_at"] = last
            return

        # A reply was sent; ratings; maybe re-handling and a second version.
        category = _weighted(rng, self.categories)
        sent_at = self.reply_sent(sid, session, number, title, unit, deputies, handler, head,
                                  answer, version=1, category=category, from_status="handling")
        row.update(handling_result=category, replied_on=answer, replied_on_time=answer <= row["due_on"])
        last = max(last, sent_at)
        reply_id = self.replies.rows[-1]["id"]
        second_round = status == "rehandling" or (status in ("evaluated", "closed") and rng.random() < 0.04)
        if status == "replied" or (status == "closed" and rng.random() < 0.1 and not second_round):
            if status == "closed":
                at = _at(min(answer + datetime.timedelta(days=rng.randrange(20, 90)), today), rng)
                self.event(sid, at, "close", office, from_status="replied", to_status="closed")
                last = max(last, at)
            row["updated_at"] = last
            return
        rated_on = min(answer + datetime.timedelta(days=rng.randrange(3, 40)), today)
        if second_round:
            at = self.rate(sid, reply_id, row, lead, co_deputies, rated_on, unsatisfied=True)
            self.event(sid, at, "rehandle", office, from_status="replied", to_status="rehandling",
                       note=f"{lead.name}：办理态度 满意，办理结果 不满意")
            row.update(due_on=add_months(rated_on, settings.REHANDLING_DUE_MONTHS),
                       due_rule="rehandle", due_basis=rated_on,
                       due_months=settings.REHANDLING_DUE_MONTHS)
            last = max(last, at)
            if status == "rehandling":
                if rng.random() < 0.5:
                    last = max(last, self.reply(sid, session, number, title, unit, deputies, handler,
                                                head, rated_on, rated_on, version=2, status="draft"))
                row["updated_at"] = last
                return
            answer = min(rated_on + datetime.timedelta(days=rng.randrange(10, 35)), today)
            category = _weighted(rng, self.categories[:2])
            sent_at = self.reply_sent(sid, session, number, title, unit, deputies, handler, head,
                                      answer, version=2, category=category, from_status="rehandling")
            row.update(handling_result=category, replied_on=answer)
            if answer <= row["due_on"]:
                row["replied_on_time"] = True
            reply_id = self.replies.rows[-1]["id"]
            rated_on = min(answer + datetime.timedelta(days=rng.randrange(3, 30)), today)
            last = max(last, sent_at)
        at = self.rate(sid, reply_id, row, lead, co_deputies, rated_on, unsatisfied=False)
        self.event(sid, at, "evaluate", world.deputy_users.get(lead.pk),
                   from_status="replied", to_status="evaluated",
                   note=f"{lead.name}：办理态度 满意，办理结果 {RATING_WORDS[row['rating']]}")
        last = max(last, at)
        if status == "closed":
            at = _at(min(rated_on + datetime.timedelta(days=rng.randrange(10, 60)), today), rng)
            self.event(sid, at, "close", office, from_status="evaluated", to_status="closed")
            last = max(last, at)
        row["updated_at"] = last

    def reply(self, sid, session, number, title, unit, deputies, handler, head, drafted, letter_day,
              *, version: int, status: str, category: str = "") -> datetime.datetime:
        """A reply letter that is not (yet) sent: draft, awaiting sign-off or signed."""
        rng = self.rng
        at = _at(drafted, rng)
        fields = self._letter(sid, session, number, title, unit, deputies, handler, version, category)
        fields.update(status=status, created_at=at, updated_at=at, created_by_id=handler.pk)
        self.event(sid, at, "reply_created", handler, internal=True, label=fields["title"])
        if status in ("pending", "signed"):
            fields["submitted_at"] = at
            self.event(sid, at, "reply_submitted", handler, internal=True, label=fields["title"])
        if status == "signed":
            fields.update(self._signature(sid, session, number, title, unit, head, letter_day, fields))
            self.event(sid, fields["signed_at"], "reply_signed", head, label=fields["title"],
                       note=f"由{fields['signer_name']}签发")
        self.replies.add(**fields)
        return fields.get("signed_at") or at

    def reply_sent(self, sid, session, number, title, unit, deputies, handler, head, day, *,
                   version: int, category: str, from_status: str) -> datetime.datetime:
        rng = self.rng
        drafted = day - datetime.timedelta(days=rng.randrange(2, 10))
        fields = self._letter(sid, session, number, title, unit, deputies, handler, version, category)
        created = _at(drafted, rng)
        fields.update(status="sent", created_at=created, submitted_at=created, created_by_id=handler.pk,
                      doc_number=self.doc_number(unit.pk, day.year))
        fields.update(self._signature(sid, session, number, title, unit, head, day, fields))
        sent_at = fields["signed_at"] + datetime.timedelta(hours=rng.randrange(1, 6))
        fields.update(sent_at=sent_at, updated_at=sent_at)
        self.event(sid, created, "reply_created", handler, internal=True, label=fields["title"])
        self.event(sid, created, "reply_submitted", handler, internal=True, label=fields["title"])
        self.event(sid, fields["signed_at"], "reply_signed", head, label=fields["title"],
                   note=f"由{fields['signer_name']}签发")
        label = fields["title"] + (f"（第{version}版）" if version > 1 else "")
        self.event(sid, sent_at, "reply", handler, from_status=from_status, to_status="replied",
                   note=label, label=label)
        self.replies.add(**fields)
        return sent_at

    def _letter(self, sid, session, number, title, unit, deputies, handler, version, category) -> dict:
        from replies.services import DEFAULT_CLOSING, salutation_for

        rng = self.rng
        you = "您" if len(deputies) == 1 else "你们"
        body = "\n".join([
            f"{you}提出的《{title}》已收悉。经认真研究，现答复如下：",
            "一、基本情况",
            f"近年来，{unit.name.removeprefix(MARK)}高度重视相关工作，" + rng.choice(REPLY_POINTS),
            "二、下一步工作",
            "（一）加强统筹协调。" + rng.choice(PROPOSALS).replace("建议", "我们将"),
            "（二）加大投入力度。" + rng.choice(PROPOSALS).replace("建议", "我们将"),
            (unit.reply_closing or DEFAULT_CLOSING).replace("您", you),
        ])
        return dict(
            suggestion_id=sid, version=version, title=f"关于{session.name}第{number}号建议的回复",
            doc_number="", salutation=salutation_for(deputies), body=body, category=category,
            disclosure="agreed", signer_name=self.world.heads[unit.pk],
            handler_name=f"压测经办人{self.world.units.index(unit) + 1:02d}",
            contact_phone=unit.contact_phone,
            issuing_unit_id=unit.pk, issuing_unit_name=unit.name, letter_date=None, copy_to="",
            submitted_at=None, signed_at=None, signed_by_id=None, sent_at=None, content_hash="",
            verification_code=None, lock_version=0,
        )

    def _signature(self, sid, session, number, title, unit, head, day, fields) -> dict:
        from replies.models import Reply
        from suggestions.models import Suggestion

        rng = self.rng
        signed_at = _at(day, rng, 8, 11)
        # The id the reply is about to get: unique, and never a real code (those have no 0).
        values = dict(letter_date=day, signed_at=signed_at, signed_by_id=head.pk,
                      signer_name=self.world.heads[unit.pk],
                      verification_code=f"V0{self.replies.next_id:010d}")
        letter = Reply(**({k: v for k, v in fields.items() if k in self.replies.names} | values))
        letter.issuing_unit_id = unit.pk
        letter.suggestion = Suggestion(id=sid, session=session, number=number, title=title)
        values["content_hash"] = letter.compute_hash()
        return values

    def rate(self, sid, reply_id, row, lead, co_deputies, day, *, unsatisfied: bool) -> datetime.datetime:
        """The lead deputy (and some co-signers) rate the reply; the rating that counts is
        ``deciding_rating``'s, as the workflow keeps it."""
        from suggestions.workflow import deciding_rating

        rng = self.rng
        at = _at(day, rng)
        ratings = []
        raters = [lead] + [d for d in co_deputies if rng.random() < 0.4]
        for deputy in raters:
            if deputy is lead:
                result = ("unsatisfied" if unsatisfied
                          else _weighted(rng, [("satisfied", 82), ("basically", 18)]))
            else:
                result = _weighted(rng, [("satisfied", 85), ("basically", 15)])
            source = _weighted(rng, [("online", 60), ("consultation", 25), ("paper", 15)])
            user_id = self.world.deputy_users.get(deputy.pk) if source == "online" else self.world.office.pk
            self.evaluations.add(reply_id=reply_id, deputy_id=deputy.pk, attitude="satisfied",
                                 result=result, comment="", source=source, recorded_by_id=user_id,
                                 created_at=at)
            ratings.append((deputy.pk, result))
        row["rating"] = deciding_rating(ratings, lead.pk)
        if not unsatisfied and row["rating"] == "unsatisfied":
            row["rating"] = "basically"
        return at


def refresh_derived(first_id: int, next_id: int, log) -> None:
    """What other apps derive from a suggestion when it is saved (COPY bypasses ``save()``):
    the search document."""
    from suggestions.search import refresh_search

    started = time.perf_counter()
    ids = list(range(first_id, next_id))
    for start in range(0, len(ids), 10_000):
        refresh_search(ids[start:start + 10_000])
        log(f"  search documents: {min(start + 10_000, len(ids)):,} / {len(ids):,} "
            f"({time.perf_counter() - started:.0f} s)")


def publish_sent(first_id: int, next_id: int, log, batch: int = 2000) -> int:
    """Sent replies that allow it are published when they are sent (an effect of the send
    move, which COPY bypasses): their publications, redacted and searchable as the move makes
    them."""
    from publication.models import PUBLISHED_DISCLOSURES, Publication, document_of
    from publication.services import refresh_text
    from replies.models import Reply

    started = time.perf_counter()
    sent = (
        Reply.objects.filter(suggestion_id__gte=first_id, suggestion_id__lt=next_id, status="sent",
                             disclosure__in=PUBLISHED_DISCLOSURES, publication__isnull=True)
        .only("pk", "title", "doc_number", "salutation", "body", "signer_name", "handler_name",
              "contact_phone", "issuing_unit_name", "letter_date", "copy_to", "category",
              "disclosure", "sent_at")
        .order_by("pk")
    )
    rows, written = [], 0
    for reply in sent.iterator(chunk_size=batch):
        publication = Publication(reply=reply, publish_on=timezone.localtime(reply.sent_at).date())
        refresh_text(publication)
        publication.search_document = document_of(publication.public_title, publication.public_text)
        rows.append(publication)
        if len(rows) >= batch:
            written += len(Publication.objects.bulk_create(rows))
            rows = []
    written += len(Publication.objects.bulk_create(rows))
    # A reply re-handled and sent again replaces the letter sent before it.
    newer = Reply.objects.filter(suggestion_id=OuterRef("reply__suggestion_id"),
                                 version__gt=OuterRef("reply__version"), status="sent")
    Publication.objects.filter(reply__suggestion_id__gte=first_id,
                               reply__suggestion_id__lt=next_id).filter(Exists(newer)).update(
        replaced=True)
    log(f"  publications: {written:,} ({time.perf_counter() - started:.0f} s)")
    return written


def statuses_for(rng: random.Random, session_index: int, count: int) -> list[str]:
    mix = STATUS_MIX[session_index]
    values = rng.choices(list(mix), weights=list(mix.values()), k=count)
    # Every status is present, however small the run.
    for offset, status in enumerate(sorted(mix)):
        if offset < count and status not in values:
            values[offset] = status
    return values


def seed(total: int, *, seed_value: int = 20260101, log=print, batch: int = 2000) -> dict:
    """Write ``total`` volume suggestions (and everything around them); returns the counts."""
    rng = random.Random(seed_value)
    today = timezone.localdate()
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # A command, not a web request: no statement timeout, and a quicker commit.
                cursor.execute("SET LOCAL statement_timeout = 0")
                cursor.execute("SET LOCAL synchronous_commit = off")
        world = ensure_world(rng)
        generator = Generator(world, rng, today)
        per_session = [total // len(world.sessions)] * len(world.sessions)
        per_session[-1] += total - sum(per_session)
        done = 0
        for index, (session, count) in enumerate(zip(world.sessions, per_session, strict=True)):
            from suggestions.models import Suggestion

            top = Suggestion.objects.filter(session=session).aggregate(top=models.Max("number"))["top"]
            first = (top or 0) + 1
            statuses = statuses_for(rng, index, count)
            for offset, status in enumerate(statuses):
                generator.suggestion(session, first + offset, status)
                if len(generator.suggestions.rows) >= batch:
                    for table in generator.tables:
                        flush(table)
                    done = generator.suggestions.written
                    log(f"  {done:,} / {total:,} suggestions ({time.perf_counter() - started:.0f} s)")
        for table in generator.tables:
            flush(table)
        reset_sequences(generator.tables)
        refresh_derived(generator.first_suggestion_id, generator.suggestions.next_id, log)
        publish_sent(generator.first_suggestion_id, generator.suggestions.next_id, log)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Fresh statistics and visibility maps: the planner's estimates and index-only scans.
        from publication.models import Publication
        from suggestions.models import CongressSession, Deputy, HandlingUnit, StaffMember

        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for table in generator.tables:
                cursor.execute(f"VACUUM (ANALYZE) {quote(table.model._meta.db_table)}")
            for model in (CongressSession, HandlingUnit, Deputy, StaffMember, get_user_model(),
                          Publication):
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
    counts = {table.model._meta.db_table: table.written for table in generator.tables}
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


class Command(BaseCommand):
    help = "Generate clearly marked volume data (【压测】) for scale tests; never on production."

    def add_arguments(self, parser):
        parser.add_argument("--suggestions", type=int, default=100_000, help="how many (default 100000)")
        parser.add_argument("--reset", action="store_true",
                            help="delete the volume data already there first")
        parser.add_argument("--force", action="store_true",
                            help="run even with DEBUG and TESTING off (never on production data)")
        parser.add_argument("--seed", type=int, default=20260101, help="random seed")

    def handle(self, *args, suggestions: int, reset: bool, force: bool, seed: int, **options):
        if not allowed_here(force):
            raise CommandError(
                "Refusing to write volume data with DEBUG and TESTING off: this may be a "
                "production database. Use --force if it really is a test database."
            )
        if suggestions < 1:
            raise CommandError("--suggestions must be at least 1.")
        existing = volume_count()
        if existing and not reset:
            raise CommandError(
                f"{existing:,} volume suggestions ({MARK}…) are already here; use --reset to "
                "replace them."
            )
        if existing:
            started = time.perf_counter()
            deleted = delete_volume()
            self.stdout.write(f"Deleted {deleted:,} volume suggestions and their rows "
                              f"({time.perf_counter() - started:.1f} s).")
        self.stdout.write(f"Writing {suggestions:,} volume suggestions…")
        counts = globals()["seed"](suggestions, seed_value=seed, log=self.stdout.write)
        for name, value in counts.items():
            self.stdout.write(f"{name}: {value:,}" if isinstance(value, int) else f"{name}: {value}")
