"""The ledger (台账): one row per suggestion the list selects, as an Excel or CSV download.

Whoever can see the list can download it, for the list's filters and within their own scope
(``filtered_suggestions`` applies both): the office everything, a unit what it leads or
co-handles, a deputy their own suggestions. Each download is in the audit log.

100,000 rows stream out in flat memory: the suggestions are read in chunks of ``CHUNK`` rows
(a server-side cursor on PostgreSQL), and the many-valued parts of a chunk (co-signing
deputies, co-handling units, ratings) are read in one query each, never one per row. The Excel
file is written row by row into a temporary file (see ``write_xlsx``), the CSV file is sent as
it is read.

No cell is ever a formula: text that a spreadsheet would take for one (OWASP's CSV injection:
= + - @, tab, CR) is prefixed with a single quote in CSV; in Excel every text is stored as
text (an inline string), which a spreadsheet never evaluates.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from core.roles import Role, role_of

from . import workflow
from .models import AWAITING_REPLY, REPLIED, Rating, Status, Suggestion, Topic
from .report import reading_database
from .views import filtered_suggestions

# Rows read (and their many-valued parts fetched) at a time.
CHUNK = 2000
# Rows per piece of the CSV stream: fewer, larger writes than one per row.
CSV_ROWS_PER_PIECE = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a spreadsheet may read as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The suggestion's own columns read for a row, in this order.
FIELDS = (
    "pk", "session__name", "number", "title", "lead_deputy_id", "lead_deputy__name", "topic",
    "lead_unit__name", "submitted_on", "assigned_on", "due_on", "replied_on", "status",
    "key_supervision", "handling_result",
)


@dataclass(frozen=True)
class Column:
    heading: str
    width: int  # in Excel's character widths (a CJK character is about two)


def columns() -> list[Column]:
    """The ledger's columns, headed in the active language."""
    field = Suggestion._meta.get_field

    def label(name: str) -> str:
        return capfirst(str(field(name).verbose_name))

    return [
        Column(capfirst(pgettext("congress session", "session")), 22),
        Column(label("number"), 9),
        Column(label("title"), 48),
        Column(label("lead_deputy"), 11),
        Column(label("co_deputies"), 22),
        Column(label("topic"), 16),
        Column(label("lead_unit"), 26),
        Column(label("co_units"), 30),
        Column(label("submitted_on"), 12),
        Column(label("assigned_on"), 12),
        Column(label("due_on"), 12),
        Column(label("replied_on"), 12),
        Column(label("status"), 10),
        Column(_("Days taken"), 9),
        Column(_("Overdue"), 8),
        Column(label("key_supervision"), 9),
        Column(label("handling_result"), 9),
        Column(_("Lead deputy's rating of the attitude"), 12),
        Column(_("Lead deputy's rating of the result"), 12),
        Column(_("Deputies' ratings (attitude / result)"), 36),
    ]


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _co_deputies(ids: list[int], using: str) -> dict[int, list[str]]:
    found = defaultdict(list)
    pairs = (Suggestion.co_deputies.through.objects.using(using).filter(suggestion_id__in=ids)
             .order_by("deputy__name").values_list("suggestion_id", "deputy__name"))
    for suggestion_id, name in pairs:
        found[suggestion_id].append(name)
    return found


def _co_units(ids: list[int], using: str) -> dict[int, list[str]]:
    found = defaultdict(list)
    pairs = (Suggestion.co_units.through.objects.using(using).filter(suggestion_id__in=ids)
             .order_by("unit__name").values_list("suggestion_id", "unit__name"))
    for suggestion_id, name in pairs:
        found[suggestion_id].append(name)
    return found


def _ratings(ids: list[int], using: str) -> dict[int, list[tuple[int, str, str, str]]]:
    """Per suggestion: (deputy id, name, attitude, result) of each deputy who rated its latest
    rated reply. Read through the suggestion's reverse relations, so that this app need not
    import the replies app built on it."""
    rated = (
        Suggestion.objects.using(using).filter(pk__in=ids, replies__evaluations__isnull=False)
        .order_by("pk", "-replies__version", "replies__evaluations__deputy__name")
        .values_list("pk", "replies__version", "replies__evaluations__deputy_id",
                     "replies__evaluations__deputy__name", "replies__evaluations__attitude",
                     "replies__evaluations__result")
    )
    found: dict[int, list] = {}
    latest: dict[int, int] = {}
    for suggestion_id, version, deputy_id, name, attitude, result in rated:
        if latest.setdefault(suggestion_id, version) == version:
            found.setdefault(suggestion_id, []).append((deputy_id, name, attitude, result))
    return found


def rows(queryset: QuerySet, *, today: datetime.date | None = None) -> Iterator[list]:
    """The ledger's rows for ``queryset``, in its order: values as they should be typed (dates
    as dates, counts as ints), text in the active language. Read from ``reading_database()``."""
    today = today or timezone.localdate()
    statuses = {value: str(label) for value, label in Status.choices}
    topics = {value: str(label) for value, label in Topic.choices}
    ratings = {value: str(label) for value, label in Rating.choices}
    yes, no = _("Yes"), _("No")
    separator = "、"
    using = reading_database()
    values = queryset.using(using).values_list(*FIELDS).iterator(chunk_size=CHUNK)
    for chunk in _chunks(values, CHUNK):
        ids = [row[0] for row in chunk]
        co_deputies, co_units = _co_deputies(ids, using), _co_units(ids, using)
        rated = _ratings(ids, using)
        for (pk, session, number, title, lead_id, lead, topic, lead_unit, submitted_on,
             assigned_on, due_on, replied_on, status, key_supervision, result) in chunk:
            replied = status in REPLIED and replied_on is not None
            days = ((replied_on if replied else today) - assigned_on).days if assigned_on else None
            overdue = due_on is not None and status in AWAITING_REPLY and due_on < today
            by_deputy = sorted(rated.get(pk, ()), key=lambda item: item[0] != lead_id)
            lead_rating = next((item for item in by_deputy if item[0] == lead_id), None)
            yield [
                session, number, title, lead, separator.join(co_deputies.get(pk, ())),
                topics.get(topic, topic), lead_unit or "", separator.join(co_units.get(pk, ())),
                submitted_on, assigned_on, due_on, replied_on if replied else None,
                statuses.get(status, status), days, yes if overdue else no,
                yes if key_supervision else no, result,
                ratings.get(lead_rating[2], "") if lead_rating else "",
                ratings.get(lead_rating[3], "") if lead_rating else "",
                "；".join(
                    f"{name}：{ratings.get(attitude, attitude)} / {ratings.get(outcome, outcome)}"
                    for _id, name, attitude, outcome in by_deputy
                ),
            ]


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_value(value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if is_formula_like(value):
        return "'" + value
    return value


def write_csv(ledger_rows: Iterable[list]) -> Iterator[bytes]:
    """The ledger as CSV, in UTF-8 with a byte-order mark (which Excel needs to read UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([column.heading for column in columns()])
    for piece in _chunks(ledger_rows, CSV_ROWS_PER_PIECE):
        writer.writerows([csv_value(value) for value in row] for row in piece)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


# --- Excel: SpreadsheetML written as it comes ------------------------------------------------
# openpyxl's write-only mode streams too, but spends some 30 µs on each cell: 100,000 rows of 20
# columns took 79 s (17 CPU-seconds) against the 5,000 rows/s wanted. The ledger needs one
# sheet of text, numbers and dates, so it writes that XML itself (about 50× faster); openpyxl
# reads it back in the tests. Every string is an inline string: no cell can be a formula.

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
STYLE_DATE, STYLE_HEADING = 1, 2  # cellXfs of STYLES_XML
STYLES_XML = XML_HEAD + (
    f'<styleSheet xmlns="{NS_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>'
)
CONTENT_TYPES_XML = XML_HEAD + (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>'
)
ROOT_RELS_XML = XML_HEAD + (
    f'<Relationships xmlns="{NS_PKG_REL}"><Relationship Id="rId1" '
    f'Type="{NS_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS_XML = XML_HEAD + (
    f'<Relationships xmlns="{NS_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{NS_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{NS_REL}/styles" Target="styles.xml"/></Relationships>'
)
# Characters XML 1.0 cannot carry (and Excel refuses), dropped from text.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
EXCEL_EPOCH = datetime.date(1899, 12, 30).toordinal()
ROWS_PER_WRITE = 500


def _column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _text(value: str) -> str:
    return XML_ILLEGAL.sub("", value).translate(XML_TEXT)


def _cell(ref: str, value, style: int = 0) -> str:
    styled = f' s="{style}"' if style else ""
    if value is None:
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
    if isinstance(value, datetime.date):  # a serial day number, shown as a date
        return f'<c r="{ref}" s="{STYLE_DATE}"><v>{value.toordinal() - EXCEL_EPOCH}</v></c>'
    return f'<c r="{ref}"{styled}><v>{int(value) if isinstance(value, bool) else value}</v></c>'


def write_xlsx(ledger_rows: Iterable[list], target, *, title: str) -> None:
    """The ledger as an Excel workbook (one sheet, the heading row and the session and number
    columns frozen, columns sized) written to ``target``, a path or a binary file: rows go to
    the zip as they come, so memory stays flat however many there are."""
    heads = columns()
    letters = [_column_letter(index) for index in range(len(heads))]
    sheet_name = re.sub(r"[\[\]:*?/\\]", "", title)[:31] or "Sheet1"
    workbook_xml = XML_HEAD + (
        f'<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><bookViews><workbookView/></bookViews>'
        f'<sheets><sheet name="{_text(sheet_name).replace(chr(34), "&quot;")}" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    )
    widths = "".join(f'<col min="{index}" max="{index}" width="{column.width}" customWidth="1"/>'
                     for index, column in enumerate(heads, start=1))
    sheet_start = XML_HEAD + (
        f'<worksheet xmlns="{NS_MAIN}"><sheetViews><sheetView workbookViewId="0">'
        '<pane xSplit="2" ySplit="1" topLeftCell="C2" activePane="bottomRight" state="frozen"/>'
        '<selection pane="topRight"/><selection pane="bottomLeft"/>'
        '<selection pane="bottomRight" activeCell="C2" sqref="C2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols><sheetData>'
    )
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        package.writestr("_rels/.rels", ROOT_RELS_XML)
        package.writestr("xl/workbook.xml", workbook_xml)
        package.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS_XML)
        package.writestr("xl/styles.xml", STYLES_XML)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            heading = "".join(_cell(f"{letter}1", column.heading, STYLE_HEADING)
                              for letter, column in zip(letters, heads, strict=True))
            pieces = [sheet_start, f'<row r="1">{heading}</row>']
            for number, row in enumerate(ledger_rows, start=2):
                cells = "".join(_cell(f"{letter}{number}", value)
                                for letter, value in zip(letters, row, strict=True))
                pieces.append(f'<row r="{number}">{cells}</row>')
                if len(pieces) >= ROWS_PER_WRITE:
                    sheet.write("".join(pieces).encode("utf-8"))
                    pieces.clear()
            pieces.append("</sheetData></worksheet>")
            sheet.write("".join(pieces).encode("utf-8"))


def _require_list_reader(request: HttpRequest) -> None:
    if role_of(request.user) == Role.NONE:
        raise PermissionDenied(_("Only the congress office, handling units and deputies can "
                                 "download the ledger."))


def _record_download(request: HttpRequest, kind: str) -> None:
    workflow.record_event(None, actor=request.user, action="ledger_export", internal=True,
                          object_label=request.GET.urlencode()[:200], note=kind)


def _filename(extension: str) -> str:
    return _("suggestion-ledger-%(date)s") % {"date": timezone.localdate().isoformat()} + extension


@login_required
@require_GET
def ledger_xlsx(request: HttpRequest) -> FileResponse:
    _require_list_reader(request)
    _filterset, queryset = filtered_suggestions(request)
    _record_download(request, "xlsx")
    # A temporary file (deleted when closed) rather than memory: 10^5 rows make tens of MB.
    target = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        write_xlsx(rows(queryset), target, title=_("Ledger"))
    except BaseException:
        target.close()
        raise
    target.seek(0)
    response = FileResponse(target, as_attachment=True, filename=_filename(".xlsx"),
                            content_type=XLSX_TYPE)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def ledger_csv(request: HttpRequest) -> StreamingHttpResponse:
    _require_list_reader(request)
    _filterset, queryset = filtered_suggestions(request)
    _record_download(request, "csv")
    response = StreamingHttpResponse(write_csv(rows(queryset)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, _filename(".csv"))
    response["X-Content-Type-Options"] = "nosniff"
    return response
