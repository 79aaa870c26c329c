"""The PDFs that leave the bureau: reply letters (GB/T 9704 layout) and consultation records.

One long-lived :class:`Renderer` per process holds what is expensive to build and never
changes between documents: the WeasyPrint ``FontConfiguration`` with the prepared fonts
already loaded (see :mod:`documents.fonts`), and the parsed, compiled stylesheets. Each
document then costs only its own layout and drawing. HTML comes from templates via
``render_to_string``; the URL fetcher serves static files from disk and refuses the rest.
"""

from __future__ import annotations

import base64
import gc
import io
import mimetypes
import os
import posixpath
import threading
import urllib.parse
import urllib.request
import zlib
from functools import lru_cache
from pathlib import Path

import pydyf
import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.urls import reverse
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from core.formatting import DISCLOSURE_LABELS, SATISFACTION_LABELS, body_blocks, chinese_date, format_code

from . import fonts

# Documents are rendered with this base URL: "/static/…" in a template becomes
# "file:///static/…", which the fetcher maps to the static file on disk.
BASE_URL = "file:///"
# zlib level for the PDF's streams (see compress_streams).
COMPRESSION_LEVEL = 1
STYLESHEETS = {
    "letter": "documents/letter.css",
    "record": "documents/record.css",
}



class FetchRefused(ValueError):
    pass


class StaticFetcher(URLFetcher):
    """Serves static files (and data: URIs, and the prepared fonts) from disk; nothing else.

    A document can never make the server read an arbitrary file or open a connection.
    """

    def __init__(self, allowed_files: set[str] = frozenset()):
        super().__init__(allowed_protocols={"file", "data"})
        self.allowed_files = {os.path.realpath(path) for path in allowed_files}

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url.startswith("data:"):
            with urllib.request.urlopen(url) as response:  # noqa: S310 (data: only)
                return URLFetcherResponse(
                    url, response.read(), {"Content-Type": response.headers.get_content_type()}
                )
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise FetchRefused(f"Refused to fetch {url}")
        path = urllib.parse.unquote(parsed.path)
        real = os.path.realpath(path)
        if real in self.allowed_files:
            return URLFetcherResponse(url, Path(real).read_bytes())
        found = self._static_file(path)
        if found is None:
            raise FetchRefused(f"Refused to fetch {url}")
        content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
        return URLFetcherResponse(url, Path(found).read_bytes(), {"Content-Type": content_type})

    @staticmethod
    def _static_file(path: str) -> str | None:
        prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        if not path.startswith(prefix):
            return None
        relative = posixpath.normpath(path[len(prefix):])
        if relative.startswith(("..", "/")) or "\0" in relative:
            return None
        try:
            found = finders.find(relative)
        except SuspiciousFileOperation:
            return None
        if not found and settings.STATIC_ROOT:
            candidate = Path(settings.STATIC_ROOT, relative)
            found = str(candidate) if candidate.is_file() else None
        return found


class Renderer:
    """Everything that is built once per process and reused for every document."""

    def __init__(self, *, prepared_fonts: bool = True):
        self.fonts = fonts.build_font_setup(prepare=prepared_fonts)
        self.fetcher = StaticFetcher(self.fonts.files)
        self.font_config = FontConfiguration()
        self.font_css = CSS(
            string=self.fonts.css(), base_url=BASE_URL, url_fetcher=self.fetcher,
            font_config=self.font_config,
        )
        self.stylesheets = {
            name: CSS(url=static_url(path), url_fetcher=self.fetcher, font_config=self.font_config)
            for name, path in STYLESHEETS.items()
        }
        # Pango and fontconfig objects are not thread-safe; one document at a time.
        self.lock = threading.Lock()

    def render(self, html: str, stylesheet: str, *, pdf_variant: str | None = None) -> bytes:
        """``pdf_variant``: one of WeasyPrint's (``weasyprint.pdf.VARIANTS``), e.g. "pdf/a-3b"
        for the archival copy of a signed letter (documents.letters); None: plain PDF."""
        with self.lock:
            # A render allocates some 10^5 short-lived objects; letting the cyclic collector
            # run through them mid-render costs more than collecting once afterwards.
            gc_was_enabled = gc.isenabled()
            gc.disable()
            try:
                document = HTML(string=html, base_url=BASE_URL, url_fetcher=self.fetcher)
                return document.write_pdf(
                    stylesheets=[self.stylesheets[stylesheet], self.font_css],
                    font_config=self.font_config,
                    finisher=compress_streams,
                    pdf_variant=pdf_variant,
                )
            finally:
                if gc_was_enabled:
                    gc.enable()


def compress_streams(document, pdf: pydyf.PDF) -> None:
    """Deflate the PDF's streams at COMPRESSION_LEVEL instead of pydyf's 9.

    Level 9 spends about 10 ms more per letter (mostly on the embedded fonts) for a file
    about 7 % smaller. Streams that already carry a filter (images) are left as they are.
    """
    for obj in pdf.objects:
        if isinstance(obj, pydyf.Stream) and obj.compress and "Filter" not in obj.extra:
            raw = b"\n".join(pydyf._to_bytes(item) for item in obj.stream)
            obj.stream = [zlib.compress(raw, COMPRESSION_LEVEL)]
            obj.extra["Filter"] = "/FlateDecode"
            obj.compress = False


_renderer: Renderer | None = None
_renderer_pid: int | None = None
_renderer_lock = threading.Lock()


def get_renderer() -> Renderer:
    """The process's renderer, built on first use (and again in a forked child)."""
    global _renderer, _renderer_pid
    with _renderer_lock:
        if _renderer is None or _renderer_pid != os.getpid():
            _renderer = Renderer()
            _renderer_pid = os.getpid()
        return _renderer


def static_url(path: str) -> str:
    return urllib.parse.urljoin(BASE_URL, settings.STATIC_URL + path)


def static_css_text(name: str) -> str:
    found = finders.find(STYLESHEETS[name])
    return Path(found).read_text(encoding="utf-8")


def verification_url(code: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("documents:verify", args=[code])


@lru_cache(maxsize=256)
def qr_data_uri(url: str) -> str:
    """The QR code as a tiny PNG, one pixel per module (printed crisp, see letter.css)."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=1, border=0)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


SEAL_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
SEAL_MAX_BYTES = 2 * 1024 * 1024


def seal_data_uri(unit) -> str:
    """The unit's seal image, inlined (uploads are never fetched by URL); "" if none."""
    seal = getattr(unit, "seal", None)
    if not seal:
        return ""
    try:
        with seal.open("rb") as handle:
            data = handle.read(SEAL_MAX_BYTES + 1)
    except (OSError, ValueError):
        return ""
    content_type = next((t for magic, t in SEAL_TYPES.items() if data.startswith(magic)), None)
    if content_type is None or len(data) > SEAL_MAX_BYTES:
        return ""
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def _is_signed(reply) -> bool:
    from replies.models import ReplyStatus

    return reply.status in (ReplyStatus.SIGNED, ReplyStatus.SENT) and bool(
        reply.verification_code
    )


def reply_context(reply) -> dict:
    unit = reply.issuing_unit
    copy_to = (reply.copy_to or "").strip()
    if copy_to and not copy_to.endswith("。"):
        copy_to += "。"
    context = {
        "reply": reply,
        "letterhead": getattr(unit, "letterhead", "") if unit else "",
        "disclosure": DISCLOSURE_LABELS.get(reply.disclosure, ""),
        "category": reply.category,
        "blocks": body_blocks(reply.body or ""),
        "date": chinese_date(reply.letter_date),
        "copy_to": copy_to,
        "verification": None,
        "seal": "",
    }
    if _is_signed(reply):
        context["seal"] = seal_data_uri(unit)
        url = verification_url(reply.verification_code)
        context["verification"] = {
            "code": format_code(reply.verification_code),
            "url": url,
            "qr": qr_data_uri(url),
            "fingerprint": reply.content_hash,
        }
    return context


def reply_html(reply) -> str:
    return render_to_string("documents/reply_letter.html", reply_context(reply))


def consultation_context(record) -> dict:
    suggestion = record.suggestion
    unit = suggestion.lead_unit
    held = chinese_date(record.held_on)
    if record.held_at:
        held += f" {record.held_at:%H:%M}"
    summary = record.content_summary
    if not summary:
        from django.utils.html import strip_tags

        summary = strip_tags(suggestion.content)
    return {
        "record": record,
        "suggestion": suggestion,
        "deputy": record.deputy,
        "heading": settings.CONSULTATION_RECORD_TITLE,
        "unit_name": unit.display_short_name if unit else "",
        "summary_lines": [line for line in summary.splitlines() if line.strip()],
        "points_lines": [line for line in record.reply_points.splitlines() if line.strip()],
        "opinion_lines": [line for line in record.deputy_opinion.splitlines() if line.strip()],
        "categories": [
            {"value": value, "ticked": value == record.proposed_category}
            for value in settings.HANDLING_CATEGORIES
        ],
        "held": held,
        # Printed only when the deputy gave one; a blank leaves the line out.
        "satisfaction": SATISFACTION_LABELS.get(record.satisfaction, ""),
        "signed_name": record.signed_name if record.is_signed else "",
    }


def consultation_html(record) -> str:
    return render_to_string("documents/consultation_record.html", consultation_context(record))


# --- Public API -----------------------------------------------------------------------------

def render_reply_pdf(reply) -> bytes:
    """The reply letter as a PDF, in the official layout."""
    return get_renderer().render(reply_html(reply), "letter")


def render_consultation_pdf(record) -> bytes:
    """The consultation record (面商记录表) as a one-page A4 PDF (more if the text is long)."""
    return get_renderer().render(consultation_html(record), "record")


def render_html_pdf(html: str, stylesheet: str = "letter") -> bytes:
    """For the bulk export's worker processes: HTML already rendered in the parent."""
    return get_renderer().render(html, stylesheet)
