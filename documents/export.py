"""Bulk export of signed reply letters, shared by ``manage.py export_replies`` and the
background export task.

The parent process renders each letter's HTML (it needs the database) and writes the files;
forked worker processes, one per core, turn the HTML into PDFs. A bounded window of pending
letters keeps memory flat however large the export.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from replies.models import Reply
from suggestions.models import CongressSession, HandlingUnit
from suggestions.workflow import record_event

from .pdf import get_renderer, render_html_pdf, reply_html

Progress = Callable[[int, int, str], None]
# Letters whose audit-log rows are written in one transaction.
AUDIT_BATCH = 50


class ExportError(Exception):
    """Bad export parameters; the message is shown as it is."""


def signed_replies(
    queryset: QuerySet[Reply] | None = None, *, session: str = "", unit: str = "",
    all_versions: bool = False,
) -> QuerySet[Reply]:
    """Signed (or sent) replies, optionally of one session and one issuing unit, by name: the
    latest signed version of each suggestion's letter, or every version with ``all_versions``."""
    replies = queryset if queryset is not None else Reply.objects.all()
    replies = replies.signed() if all_versions else replies.latest_signed()
    if session:
        found = CongressSession.objects.filter(name=session.strip()).first()
        if found is None:
            known = "、".join(CongressSession.objects.values_list("name", flat=True)[:20])
            raise ExportError(
                _("No congress session named “%(name)s”. Known: %(known)s")
                % {"name": session, "known": known or "—"}
            )
        replies = replies.filter(suggestion__session=found)
    if unit:
        name = unit.strip()
        found_unit = HandlingUnit.objects.filter(Q(name=name) | Q(short_name=name)).first()
        if found_unit is None:
            raise ExportError(_("No handling unit named “%(name)s”.") % {"name": unit})
        replies = replies.filter(issuing_unit=found_unit)
    return replies.select_related("suggestion__session", "issuing_unit").order_by(
        "suggestion__session__year", "suggestion__session__term",
        "suggestion__session__meeting", "suggestion__number", "version",
    )


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


def _render_in_worker(html: str) -> bytes:
    return render_html_pdf(html, "letter")


def render_many(htmls: Iterable[str], *, workers: int) -> Iterator[bytes]:
    """PDFs for ``htmls``, in order, rendered by ``workers`` processes."""
    if workers <= 1:
        for html in htmls:
            yield render_html_pdf(html, "letter")
        return
    get_renderer()  # prepare the fonts once, before forking, so the workers find them cached
    context = multiprocessing.get_context("fork")
    window: deque[Future] = deque()
    # Freezing what exists before the fork keeps the workers' garbage collections from
    # walking (and copying, page by page) the parent's whole heap.
    gc.collect()
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for html in htmls:
                window.append(pool.submit(_render_in_worker, html))
                if len(window) >= workers * 4:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
    finally:
        gc.unfreeze()


class DirectoryWriter:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, data: bytes) -> None:
        (self.directory / name).write_bytes(data)

    def close(self) -> None:
        pass


class ZipWriter:
    def __init__(self, path: Path | BinaryIO):
        """``path``: a file name, or a binary file open for writing (a temporary file)."""
        if isinstance(path, str | Path):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # PDFs are compressed already: storing them is as small and much faster.
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED)

    def write(self, name: str, data: bytes) -> None:
        self.zip.writestr(name, data)

    def close(self) -> None:
        self.zip.close()


def export_replies(
    replies: QuerySet[Reply], writer, *, actor=None, note: str = "",
    workers: int | None = None, progress: Progress | None = None,
) -> int:
    """Write every reply of ``replies`` as a PDF through ``writer``; return how many.

    Each exported letter is recorded in its suggestion's audit log.
    """
    items = list(replies)
    total = len(items)
    if progress:
        progress(0, total, "")
    workers = min(workers or default_workers(), max(total, 1))
    pdfs = render_many((reply_html(reply) for reply in items), workers=workers)
    done = 0
    try:
        for start in range(0, total, AUDIT_BATCH):
            batch = items[start:start + AUDIT_BATCH]
            # One transaction per batch: the audit rows of a batch are written together.
            with transaction.atomic():
                for reply in batch:
                    name = reply.pdf_filename()
                    writer.write(name, next(pdfs))
                    record_event(
                        reply.suggestion, actor=actor, action="bulk_export", internal=True,
                        object_label=str(reply), note=note,
                    )
                    done += 1
                    if progress:
                        progress(done, total, name)
    finally:
        pdfs.close()
        writer.close()
    return done
