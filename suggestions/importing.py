"""Importing the congress office's assignment list (交办清单) from a spreadsheet.

One module for the upload page and ``manage.py import_suggestions``:

- :func:`sniff` decides by content whether the bytes are an .xlsx workbook or a CSV text
  (UTF-8 with or without BOM, GB18030 from older Excel), and refuses anything else;
- :func:`plan` reads the rows, resolves sessions, deputies, units and existing numbers with
  a few bulk queries, and returns every row with its problems, writing nothing;
- :func:`commit` plans again inside one transaction and writes all rows or none: new
  suggestions are registered (a "register" event each; bulk inserts), rows with a 交办日期 are
  assigned through the rule engine (``rules.run(..., "assign", on=date)``, every check and
  effect of the move, one working calendar for all rows), and the import itself is written to
  the audit log. Inside ``rules.together()``, the search documents and the notifications of
  all rows are made at the end, in a few statements for the whole file.

A row whose number already exists with the same content is "unchanged", so importing the
same file again changes nothing. Nothing here ever creates a session, a deputy or a unit: a
name that does not match is a row error.
"""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _

from core import rules
from core.calendar import WorkCalendar
from core.rules import WorkflowError
from core.sanitize import html_to_text, sanitize_html

from .models import CongressSession, Deputy, Event, HandlingUnit, Status, Suggestion, Topic
from .search import refresh_soon
from .workflow import new_event, record_event

# The columns, by the Chinese headings offices use (the first is the template's). These are
# the file format, not interface text: they are never translated.
COLUMNS: dict[str, tuple[str, ...]] = {
    "session": ("会议", "届次", "会次"),
    "number": ("建议编号", "编号", "建议号"),
    "title": ("标题", "建议标题", "案由"),
    "lead_deputy": ("领衔代表", "领衔人"),
    "co_deputies": ("附议代表", "附议人"),
    "content": ("主要内容", "建议内容", "内容"),
    "topic": ("类别", "建议类别", "分类"),
    "lead_unit": ("主办单位", "承办单位"),
    "co_units": ("协办单位", "会办单位"),
    "assigned_on": ("交办日期", "交办时间"),
}
REQUIRED = ("session", "number", "title", "lead_deputy", "content")
HEADING = {key: names[0] for key, names in COLUMNS.items()}

MAX_ROWS = 10_000
BATCH = 500  # rows per insert statement
HEADING_SEARCH_ROWS = 5
MAX_COLUMNS = 60
# An .xlsx is a zip: refuse one that would expand to more than this many times the upload
# limit (a "zip bomb") before openpyxl reads it into memory.
MAX_EXPANSION = 25
SEPARATORS = frozenset("、，,;；\n\r")
OPEN, CLOSE = "（(", ")）"
# A unit named with or without its region: 工信局 for 晋城市工信局.
REGION_SUFFIXES = ("省", "市", "县", "区", "州", "盟", "旗")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class ImportFileError(Exception):
    """The file cannot be read as an assignment list; the message is shown as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)


class ImportRefused(Exception):
    """The file has row errors (found again at commit time); nothing was written."""

    def __init__(self, plan: Plan):
        super().__init__(_("The file has errors; nothing was imported."))
        self.plan = plan


class ImportConflict(Exception):
    """The database changed between the checks and the writes; nothing was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)


@dataclass
class Problem:
    column: str  # the heading, e.g. 主办单位; "" for the whole row
    message: str

    def __str__(self) -> str:
        return f"{self.column}：{self.message}" if self.column else self.message


class Action:
    CREATE = "create"  # a new suggestion (assigned too when the row has a 交办日期)
    ASSIGN = "assign"  # registered earlier with the same content; now assigned
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class Row:
    line: int  # the row number as the spreadsheet shows it
    cells: dict[str, str]  # each column's text as read, for the preview and messages
    session: CongressSession | None = None
    number: int | None = None
    title: str = ""
    content: str = ""  # sanitized HTML
    lead_deputy: Deputy | None = None
    co_deputies: list[Deputy] = field(default_factory=list)
    topic: str = ""
    lead_unit: HandlingUnit | None = None
    co_units: list[HandlingUnit] = field(default_factory=list)
    assigned_on: datetime.date | None = None
    existing: Suggestion | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    action: str = Action.CREATE
    # Filled by the page from suggestions.search.similar_to when it exists (see
    # ``add_similar``); always a list, so the template can rely on it.
    similar: list = field(default_factory=list)

    def error(self, key: str, message: str) -> None:
        self.errors.append(Problem(HEADING.get(key, ""), message))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(Problem(HEADING.get(key, ""), message))

    @property
    def assigns(self) -> bool:
        return self.action in (Action.CREATE, Action.ASSIGN) and self.assigned_on is not None \
            and self.lead_unit is not None

    @property
    def topic_label(self) -> str:
        return str(Topic(self.topic).label) if self.topic else ""


@dataclass
class Plan:
    name: str
    kind: str  # "xlsx" or "csv"
    rows: list[Row]
    notes: list[str] = field(default_factory=list)  # about the whole file, not blocking

    @property
    def ok(self) -> bool:
        return not any(row.errors for row in self.rows)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            "create": self.count(Action.CREATE),
            "assign": sum(1 for row in self.rows if row.assigns),
            "unchanged": self.count(Action.UNCHANGED),
            "error": self.count(Action.ERROR),
        }

    @property
    def writes(self) -> bool:
        return any(row.action in (Action.CREATE, Action.ASSIGN) for row in self.rows)

    @property
    def bad_rows(self) -> list[Row]:
        return [row for row in self.rows if row.errors]


# --- Reading the file -----------------------------------------------------------------------

def too_large(size: int) -> str | None:
    """The refusal of a file of ``size`` bytes, or None when it is within UPLOAD_MAX_BYTES."""
    if size <= settings.UPLOAD_MAX_BYTES:
        return None
    return _("The file is too large (%(size)s); the limit is %(limit)s.") % {
        "size": filesizeformat(size), "limit": filesizeformat(settings.UPLOAD_MAX_BYTES)}


def sniff(data: bytes, name: str = "") -> str:
    """"xlsx" or "csv", decided by the content; ImportFileError for anything else."""
    if refusal := too_large(len(data)):
        raise ImportFileError(refusal)
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    suffix = PurePath(name or "").suffix.lower()
    only = _("Only Excel workbooks (.xlsx) and CSV files can be imported.")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("This is an old Excel file (.xls), which cannot be read. Save it as .xlsx or CSV.")
        )
    mismatch = _("The file's name does not match its content (%(type)s).")
    if data.startswith(b"PK\x03\x04"):
        _check_xlsx(data, only)
        if suffix not in ("", ".xlsx", ".xlsm"):
            raise ImportFileError(mismatch % {"type": "xlsx"})
        return "xlsx"
    if _decode(data) is None:
        raise ImportFileError(only)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        raise ImportFileError(mismatch % {"type": "CSV"})
    if suffix not in ("", ".csv", ".txt"):
        raise ImportFileError(only)
    return "csv"


def _check_xlsx(data: bytes, refusal: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ImportFileError(refusal) from error
    if "xl/workbook.xml" not in names:
        raise ImportFileError(refusal)  # a Word document, a plain zip…
    if expanded > MAX_EXPANSION * settings.UPLOAD_MAX_BYTES:
        raise ImportFileError(_("The workbook holds too much data to be read; split it into smaller files."))


def _decode(data: bytes) -> str | None:
    """The text of a CSV file, or None when the bytes are not text."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]  # Excel's "Unicode text"
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = len(CONTROL_CHARACTERS.findall(text))
        if "\x00" in text or controls > len(text) // 100:
            return None
        return text
    return None


def read_table(data: bytes, kind: str) -> Iterator[tuple[int, list]]:
    """(row number, cell values) for every non-empty row, the heading row first."""
    rows = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    for line, values in rows:
        values = list(values[:MAX_COLUMNS])
        if any(_text(value) for value in values):
            yield line, values


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        yield from enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1)
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise ImportFileError(
            _("The workbook could not be read (%(reason)s).") % {"reason": type(error).__name__}
        ) from error


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    text = _decode(data) or ""
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        yield from enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    except csv.Error as error:
        raise ImportFileError(_("The CSV file could not be read (%(reason)s).") % {"reason": error}) \
            from error


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").replace("\xa0", " ").strip()


def _heading_key(value) -> str:
    text = re.sub(r"[\s*＊]", "", _text(value))
    return re.sub(r"[（(].*[)）]$", "", text)  # 交办日期（年-月-日） → 交办日期


def _columns(heading: list) -> dict[str, int]:
    by_name = {name: key for key, names in COLUMNS.items() for name in names}
    found: dict[str, int] = {}
    for index, value in enumerate(heading):
        key = by_name.get(_heading_key(value))
        if key is not None and key not in found:
            found[key] = index
    return found


def _heading(table: Iterator[tuple[int, list]]) -> tuple[list, dict[str, int]]:
    """The heading row (a title line or two above it are skipped) and its columns."""
    first = None
    for line, values in table:
        columns = _columns(values)
        if all(key in columns for key in REQUIRED):
            return values, columns
        first = first or (values, columns)
        if line >= HEADING_SEARCH_ROWS:
            break
    if first is None:
        raise ImportFileError(_("The file has no rows."))
    missing = [HEADING[key] for key in REQUIRED if key not in first[1]]
    raise ImportFileError(
        _("The first row must hold the column headings; missing: %(columns)s. "
          "Download the template to see them.") % {"columns": "、".join(missing)}
    )


# --- Planning -------------------------------------------------------------------------------

def plan(data: bytes, name: str = "") -> Plan:
    """Read and check every row; write nothing. ImportFileError when the file is unreadable."""
    kind = sniff(data, name)
    table = read_table(data, kind)
    heading, columns = _heading(table)
    rows: list[Row] = []
    raw: list[dict] = []
    for line, values in table:
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(max)d rows; split it into smaller files.")
                % {"max": MAX_ROWS}
            )
        cells = {key: values[index] if index < len(values) else None
                 for key, index in columns.items()}
        raw.append(cells)
        rows.append(Row(line=line, cells={key: _text(value) for key, value in cells.items()}))
    if not rows:
        raise ImportFileError(_("The file has column headings but no rows."))
    result = Plan(name=name, kind=kind, rows=rows)
    ignored = [_text(v) for i, v in enumerate(heading) if _text(v) and i not in columns.values()]
    if ignored:
        result.notes.append(_("Columns not imported: %(columns)s.") % {"columns": "、".join(ignored)})
    Resolver(rows).resolve(rows, raw)
    _mark_duplicates(rows)
    _compare_with_existing(rows)
    for row in rows:
        if row.errors:
            row.action = Action.ERROR
    return result


def split_names(text: str) -> list[str]:
    """张伟（市一中）、李娜,王强 → [张伟（市一中）, 李娜, 王强]; separators inside brackets kept."""
    parts, current, depth = [], [], 0
    for ch in text:
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth = max(0, depth - 1)
        if depth == 0 and ch in SEPARATORS:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text or "").replace("（", "(").replace("）", ")")


def _person(text: str) -> tuple[str, str]:
    """张伟（市一中） → (张伟, 市一中)."""
    text = _norm(text)
    match = re.fullmatch(r"([^()]+?)\((.*)\)", text)
    return (match[1], match[2]) if match else (text, "")


def _subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def _chunks(values: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class Resolver:
    """Sessions, units, deputies and categories for all rows, loaded in a few queries."""

    def __init__(self, rows: list[Row]):
        self.sessions = {_norm(s.name): s for s in CongressSession.objects.all()}
        self.units = list(HandlingUnit.objects.only("id", "name", "short_name"))
        self.unit_by_name = {_norm(u.name): u for u in self.units}
        self.units_by_short: dict[str, list[HandlingUnit]] = defaultdict(list)
        for unit in self.units:
            if unit.short_name:
                self.units_by_short[_norm(unit.short_name)].append(unit)
        names = {
            _person(part)[0]
            for row in rows
            for key in ("lead_deputy", "co_deputies")
            for part in split_names(row.cells.get(key, ""))
        }
        self.deputies: dict[str, list[Deputy]] = defaultdict(list)
        for chunk in _chunks(sorted(names)):
            for deputy in Deputy.objects.filter(name__in=chunk).only("id", "name", "work_unit"):
                self.deputies[_norm(deputy.name)].append(deputy)
        self.topics: dict[str, str] = {}
        for value, label in Topic.choices:
            self.topics[_norm(value).lower()] = value
            for language in ("en", settings.LANGUAGE_CODE, translation.get_language()):
                with translation.override(language):
                    self.topics[_norm(str(label)).lower()] = value

    def resolve(self, rows: list[Row], raw: list[dict]) -> None:
        for row, cells in zip(rows, raw, strict=True):
            self._resolve_row(row, cells)

    def _resolve_row(self, row: Row, cells: dict) -> None:
        text = row.cells
        # 会议
        if not text.get("session"):
            row.error("session", _("The session is missing."))
        else:
            row.session = self.sessions.get(_norm(text["session"]))
            if row.session is None:
                row.error("session", _("Unknown session “%(value)s”.") % {"value": text["session"]})
        # 建议编号
        row.number = _number(cells.get("number"))
        if row.number is None:
            if text.get("number"):
                row.error("number", _("“%(value)s” is not a suggestion number.") % {"value": text["number"]})
            else:
                row.error("number", _("The number is missing."))
        # 标题
        row.title = re.sub(r"\s+", " ", text.get("title", "")).strip()
        title_limit = Suggestion._meta.get_field("title").max_length
        if not row.title:
            row.error("title", _("The title is missing."))
        elif len(row.title) > title_limit:
            row.error("title", _("The title is longer than %(max)d characters.") % {"max": title_limit})
        # 主要内容: sanitized as the intake form's is
        row.content = sanitize_html(_as_html(_raw_text(cells.get("content"))))
        if not text.get("content"):
            row.error("content", _("The main content is missing."))
        elif not html_to_text(row.content):
            row.error("content", _("The main content is empty once formatting is removed."))
        # 领衔代表, 附议代表
        leads = split_names(text.get("lead_deputy", ""))
        if not leads:
            row.error("lead_deputy", _("The lead deputy is missing."))
        elif len(leads) > 1:
            row.error("lead_deputy", _("Only one lead deputy can be named, not “%(value)s”.")
                      % {"value": text["lead_deputy"]})
        else:
            row.lead_deputy = self._deputy(row, "lead_deputy", leads[0])
        for part in split_names(text.get("co_deputies", "")):
            deputy = self._deputy(row, "co_deputies", part)
            if deputy is not None and all(d.pk != deputy.pk for d in row.co_deputies):
                row.co_deputies.append(deputy)
        if row.lead_deputy and any(d.pk == row.lead_deputy.pk for d in row.co_deputies):
            row.error("co_deputies", _("The lead deputy cannot also be a co-signing deputy."))
        # 类别
        if text.get("topic"):
            row.topic = self.topics.get(_norm(text["topic"]).lower(), "")
            if not row.topic:
                row.error("topic", _("Unknown category “%(value)s”; use one of: %(choices)s.") % {
                    "value": text["topic"],
                    "choices": "、".join(str(label) for _value, label in Topic.choices),
                })
        # 主办单位, 协办单位, 交办日期
        lead_units = split_names(text.get("lead_unit", ""))
        if len(lead_units) > 1:
            row.error("lead_unit", _("Only one lead unit can be named, not “%(value)s”.")
                      % {"value": text["lead_unit"]})
        elif lead_units:
            row.lead_unit = self._unit(row, "lead_unit", lead_units[0])
        for part in split_names(text.get("co_units", "")):
            unit = self._unit(row, "co_units", part)
            if unit is not None and all(u.pk != unit.pk for u in row.co_units):
                row.co_units.append(unit)
        if row.lead_unit and any(u.pk == row.lead_unit.pk for u in row.co_units):
            row.error("co_units", _("The lead unit cannot also be a co-handling unit."))
        if text.get("assigned_on"):
            row.assigned_on = _date(cells.get("assigned_on"))
            if row.assigned_on is None:
                row.error("assigned_on", _("“%(value)s” is not a date (write it as 2022-03-25).")
                          % {"value": text["assigned_on"]})
            elif not lead_units:
                row.error("lead_unit", _("A row with an assignment date needs a lead unit."))
        elif lead_units or row.co_units:
            row.warn("assigned_on", _("No assignment date: the suggestion is registered, not assigned."))

    def _deputy(self, row: Row, key: str, text: str) -> Deputy | None:
        name, hint = _person(text)
        candidates = self.deputies.get(name, [])
        if not candidates:
            row.error(key, _("Unknown deputy “%(value)s”.") % {"value": text})
            return None
        if hint:
            hint = _norm(hint)
            tests: list[Callable[[str], bool]] = [
                lambda unit: unit == hint,
                lambda unit: hint in unit or (bool(unit) and unit in hint),
                lambda unit: _subsequence(hint, unit),
            ]
            for test in tests:
                matches = [d for d in candidates if test(_norm(d.work_unit))]
                if len(matches) == 1:
                    return matches[0]
                if matches:
                    candidates = matches
                    break
            else:
                row.error(key, _("No deputy “%(name)s” works at “%(unit)s”; known: %(candidates)s.")
                          % {"name": name, "unit": hint, "candidates": _deputy_list(candidates)})
                return None
        elif len(candidates) == 1:
            return candidates[0]
        row.error(key, _("“%(value)s” is ambiguous: %(candidates)s. Add the work unit in brackets, "
                         "e.g. %(example)s.") % {
            "value": text, "candidates": _deputy_list(candidates),
            "example": f"{name}（{candidates[0].work_unit or '…'}）",
        })
        return None

    def _unit(self, row: Row, key: str, text: str) -> HandlingUnit | None:
        wanted = _norm(text)
        unit = self.unit_by_name.get(wanted)
        if unit is not None:
            return unit
        matches = self.units_by_short.get(wanted, [])
        if not matches:
            # 工信局 for 晋城市工信局 (or the other way round), when only one unit fits.
            matches = [u for u in self.units
                       if any(_region_variant(wanted, _norm(n)) for n in (u.name, u.short_name) if n)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            row.error(key, _("“%(value)s” is ambiguous: %(candidates)s.") % {
                "value": text, "candidates": "、".join(u.name for u in matches)})
        else:
            row.error(key, _("Unknown handling unit “%(value)s”.") % {"value": text})
        return None


def _region_variant(a: str, b: str) -> bool:
    """One name is the other with a region in front: 工信局 / 晋城市工信局."""
    short, long = sorted((a, b), key=len)
    return (len(short) >= 2 and len(long) > len(short) and long.endswith(short)
            and long[: -len(short)].endswith(REGION_SUFFIXES))


def _deputy_list(deputies: Iterable[Deputy]) -> str:
    return "、".join(f"{d.name}（{d.work_unit or '—'}）" for d in deputies)


def _raw_text(value) -> str:
    return "" if value is None else str(value).strip()


def _as_html(text: str) -> str:
    """Plain text from a cell becomes one paragraph per line; HTML is left to the sanitizer."""
    if re.search(r"<\s*/?\s*[a-zA-Z!]", text):
        return text
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines)


def _number(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**31 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and 0 < value < 2**31 else None
    match = re.fullmatch(r"第?\s*(\d{1,9})(?:\.0+)?\s*号?", _text(value))
    return int(match[1]) if match and int(match[1]) > 0 else None


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if 19000101 <= value <= 21001231 and float(value).is_integer():
            return _date(str(int(value)))
        from openpyxl.utils.datetime import from_excel

        try:  # an Excel serial day number in a cell not formatted as a date
            day = from_excel(value).date() if 1 <= value < 100_000 else None
        except (ValueError, OverflowError, AttributeError):
            return None
    else:
        text = _text(value)
        match = (
            re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                         r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?", text)
            or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
        )
        if not match:
            return None
        try:
            day = datetime.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    if day is None or not 1990 <= day.year <= 2100:
        return None
    return day


def _mark_duplicates(rows: list[Row]) -> None:
    lines: dict[tuple[str, int], list[int]] = defaultdict(list)
    for row in rows:
        if row.number is not None:
            lines[(_norm(row.cells.get("session", "")), row.number)].append(row.line)
    for row in rows:
        same = lines.get((_norm(row.cells.get("session", "")), row.number), [])
        if len(same) > 1:
            row.error("number", _("No. %(number)s appears more than once in the file (rows %(rows)s).")
                      % {"number": row.number, "rows": "、".join(str(n) for n in same)})


def _compare_with_existing(rows: list[Row]) -> None:
    wanted: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        if row.session is not None and row.number is not None:
            wanted[row.session.pk].add(row.number)
    existing: dict[tuple[int, int], Suggestion] = {}
    for session_id, numbers in wanted.items():
        for chunk in _chunks(sorted(numbers)):
            found = (
                Suggestion.objects.filter(session_id=session_id, number__in=chunk)
                .select_related("lead_unit")
                .prefetch_related(Prefetch("co_deputies", queryset=Deputy.objects.only("id")))
            )
            existing.update({(s.session_id, s.number): s for s in found})
    for row in rows:
        if row.session is None or row.number is None:
            continue
        suggestion = existing.get((row.session.pk, row.number))
        if suggestion is None:
            continue
        row.existing = suggestion
        if row.errors:
            continue
        differing = _differences(suggestion, row)
        if differing:
            row.error("number", _("No. %(number)s of %(session)s already exists with a different "
                                  "%(fields)s; it is not overwritten.") % {
                "number": row.number, "session": row.session.name, "fields": "、".join(differing)})
            continue
        if row.assigned_on is None or row.lead_unit is None:
            row.action = Action.UNCHANGED
        elif suggestion.status == Status.REGISTERED:
            row.action = Action.ASSIGN
        else:
            row.action = Action.UNCHANGED
            if (suggestion.lead_unit_id, suggestion.assigned_on) != (row.lead_unit.pk, row.assigned_on):
                row.warn("lead_unit", _("Already assigned to %(unit)s on %(date)s; the file's "
                                        "assignment is not applied.") % {
                    "unit": suggestion.lead_unit.name if suggestion.lead_unit else "—",
                    "date": suggestion.assigned_on or "—"})


def _differences(suggestion: Suggestion, row: Row) -> list[str]:
    differing = []
    if suggestion.title.strip() != row.title:
        differing.append(HEADING["title"])
    if html_to_text(suggestion.content) != html_to_text(row.content):
        differing.append(HEADING["content"])
    if suggestion.lead_deputy_id != row.lead_deputy.pk:
        differing.append(HEADING["lead_deputy"])
    if {d.pk for d in suggestion.co_deputies.all()} != {d.pk for d in row.co_deputies}:
        differing.append(HEADING["co_deputies"])
    if suggestion.topic != row.topic:
        differing.append(HEADING["topic"])
    return differing


def add_similar(result: Plan, limit: int = 3, max_rows: int = 200) -> bool:
    """Fill ``row.similar`` for the new rows from ``suggestions.search.similar_to`` when that
    function exists; returns whether it did."""
    try:
        from .search import similar_to
    except ImportError:
        return False
    for row in [row for row in result.rows if row.action == Action.CREATE][:max_rows]:
        row.similar = list(similar_to(row.title, row.content, session=row.session, limit=limit))
    return True


# --- Writing --------------------------------------------------------------------------------

@transaction.atomic
def commit(data: bytes, name: str = "", *, user) -> Plan:
    """Check the file again and write every row, or nothing (ImportRefused, ImportConflict)."""
    result = plan(data, name)
    if not result.ok:
        raise ImportRefused(result)
    if not result.writes:
        return result  # the same file again: nothing to do, nothing to log
    with rules.together():  # search documents, notifications: once for all rows, at the end
        _register(result.rows, user, name)
        _assign(result.rows, user)
    counts = result.counts
    record_event(
        None, actor=user, action="import", internal=True, object_label=(name or "")[:200],
        note=_("%(create)d created, %(assign)d assigned, %(unchanged)d unchanged.") % counts,
    )
    return result


def _register(rows: list[Row], user, name: str) -> None:
    """The new suggestions, each with its "register" event, and their co-signers, in a few
    inserts for the whole file. The contents were sanitized when planned, and the search
    documents are made at the end of rules.together(), as Suggestion.save would."""
    note = _("Imported from %(file)s") % {"file": name} if name else ""
    new = [row for row in rows if row.action == Action.CREATE]
    created = Suggestion.objects.bulk_create([
        Suggestion(session=row.session, number=row.number, title=row.title, content=row.content,
                   lead_deputy=row.lead_deputy, topic=row.topic)
        for row in new
    ], batch_size=BATCH)
    for row, suggestion in zip(new, created, strict=True):
        row.existing = suggestion
    refresh_soon([suggestion.pk for suggestion in created])
    Event.objects.bulk_create([new_event(row.existing, actor=user, action="register", note=note)
                               for row in new], batch_size=BATCH)
    # Co-signers by deputy rather than by row: a few statements for the whole file, through
    # the ORM's related manager, so m2m_changed (the search index) hears of every one.
    cosigned: dict[int, tuple[Deputy, list[int]]] = {}
    for row in new:
        for deputy in row.co_deputies:
            cosigned.setdefault(deputy.pk, (deputy, []))[1].append(row.existing.pk)
    for deputy, ids in cosigned.values():
        deputy.cosigned_suggestions.add(*ids)


def _assign(rows: list[Row], user) -> None:
    """The rows with a 交办日期, assigned through the rule engine as the assign page does."""
    calendar = WorkCalendar()  # read once for every row's deadlines
    for row in rows:
        if not row.assigns:
            continue
        try:
            rules.run(row.existing, "assign", user=user, unit=row.lead_unit,
                      co_units=list(row.co_units), on=row.assigned_on, calendar=calendar)
        except WorkflowError as error:
            raise ImportConflict(
                _("Row %(line)d could not be assigned: %(reason)s Nothing was imported.")
                % {"line": row.line, "reason": error.message}
            ) from error


# --- The template ---------------------------------------------------------------------------

def template_workbook() -> bytes:
    """An .xlsx with the headings and one example row."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    session = CongressSession.objects.order_by("-year", "-term", "-meeting").first()
    with translation.override(settings.LANGUAGE_CODE):
        topic = str(Topic.ECONOMY.label)
    example = {
        "session": session.name if session else "市八届人大一次会议",
        "number": 1,
        "title": "关于加快 5G+ 相关应用推广的建议",
        "lead_deputy": "张伟（市第一中学）",
        "co_deputies": "李娜、王强",
        "content": "建议加大投入力度，提速 5G 新基建建设。\n支持 5G+ 相关应用在民营企业中的发展。",
        "topic": topic,
        "lead_unit": "晋城市工业和信息化局",
        "co_units": "市农业农村局、市教育局",
        "assigned_on": datetime.date(2022, 3, 25),
    }
    book = Workbook()
    sheet = book.active
    sheet.title = "交办清单"
    sheet.append([HEADING[key] for key in COLUMNS])
    sheet.append([example[key] for key in COLUMNS])
    widths = {"session": 22, "title": 40, "lead_deputy": 20, "co_deputies": 20, "content": 60,
              "topic": 14, "lead_unit": 26, "co_units": 26, "assigned_on": 14}
    for index, key in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = widths.get(key, 10)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.cell(row=2, column=index).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.cell(row=2, column=list(COLUMNS).index("assigned_on") + 1).number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
