"""Bulk export of signed reply letters, shared by ``manage.py export_replies`` and the
background export task.

Nothing is rendered: each letter is the file stored at its sign-off (documents.letters), read
from storage, checked against its recorded SHA-256 and written as it is, so an exported letter
is byte for byte what the download link serves. A signed letter with no stored file yet
(signed before letters were stored) is rendered and stored first, once, exactly as its first
download would do (``letters.letter_for``, marked ``backfilled``).

Memory stays flat however large the export: replies are streamed from the database in chunks,
and a few threads read files ahead of the writer (storage reads are I/O; a bucket answers
each after a round trip) within a bounded window. An interrupt (Ctrl-C) or any error cancels
the reads still queued and aborts the writer: a zip written to a path is deleted rather than
left half written. Audit-log rows are written in transactions of ``AUDIT_BATCH`` letters.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.rules import WorkflowError
from replies.models import Reply
from suggestions.models import CongressSession, HandlingUnit
from suggestions.workflow import record_event

from . import letters
from .models import SignedLetter

Progress = Callable[[int, int, str], None]
# Letters whose audit-log rows are written in one transaction.
AUDIT_BATCH = 50
# Replies fetched from the database at a time.
CHUNK = 500
# Storage reads in flight by default; each holds one letter (~150 KiB) in memory.
READERS = 4


class ExportError(Exception):
    """Bad export parameters, or a letter that cannot be exported; the message is shown as
    it is."""


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


def stored_letters(replies: QuerySet[Reply]) -> Iterator[tuple[Reply, SignedLetter | None]]:
    """Each reply with its stored letter, in order, streamed from the database in chunks.

    A letter not stored yet is stored now (in the caller's transaction). A signed reply
    without a verification code has no stored letter: it is rendered as the download view
    renders it."""
    for reply in replies.select_related("signed_letter").iterator(chunk_size=CHUNK):
        try:
            letter = reply.signed_letter
        except SignedLetter.DoesNotExist:
            try:
                letter = letters.letter_for(reply)
            except WorkflowError as error:
                raise ExportError(f"{reply}: {error}") from error
        yield reply, letter


def read_ahead(items: Iterable[tuple[Reply, SignedLetter | None]], *,
               readers: int) -> Iterator[tuple[Reply, bytes]]:
    """``items``' letters as bytes, in order, read by ``readers`` threads at most
    ``readers * 4`` letters ahead. Closing the generator (or an error, or an interrupt in the
    caller's thread) cancels the reads not started and waits for the few running."""
    pool = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="export-read")
    window: deque[tuple[Reply, Future]] = deque()
    try:
        for reply, letter in items:
            window.append((reply, _read(pool, reply, letter)))
            if len(window) >= readers * 4:
                yield _result(*window.popleft())
        while window:
            yield _result(*window.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _read(pool: ThreadPoolExecutor, reply: Reply, letter) -> Future:
    if letter is not None:
        return pool.submit(letters.read_letter, letter)
    from .pdf import render_reply_pdf

    done: Future = Future()  # rendered here: the renderer is not shared between threads
    done.set_result(render_reply_pdf(reply))
    return done


def _result(reply: Reply, future: Future) -> tuple[Reply, bytes]:
    try:
        return reply, future.result()
    except letters.LetterError as error:
        raise ExportError(_(
            "The stored file of the signed letter “%(reply)s” is missing or damaged (%(error)s); "
            "the export was stopped. Tell the administrator."
        ) % {"reply": reply, "error": error}) from error


class DirectoryWriter:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, data: bytes) -> None:
        # Written beside, then renamed: an interrupt never leaves half a PDF under its name.
        partial = self.directory / f"{name}.part"
        try:
            partial.write_bytes(data)
            partial.replace(self.directory / name)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def close(self) -> None:
        pass

    def abort(self) -> None:
        """The letters written so far are whole files: they stay."""


class ZipWriter:
    def __init__(self, path: Path | BinaryIO):
        """``path``: a file name, or a binary file open for writing (a temporary file)."""
        self.path = Path(path) if isinstance(path, str | Path) else None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # PDFs are compressed already: storing them is as small and much faster.
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED)

    def write(self, name: str, data: bytes) -> None:
        self.zip.writestr(name, data)

    def close(self) -> None:
        self.zip.close()

    def abort(self) -> None:
        """Close, and delete the zip if it was written to a path: a partial export is none."""
        with contextlib.suppress(Exception):  # a zip cut mid-letter may not close: it goes anyway
            self.zip.close()
        if self.path:
            self.path.unlink(missing_ok=True)


def export_replies(
    replies: QuerySet[Reply], writer, *, actor=None, note: str = "",
    workers: int | None = None, progress: Progress | None = None,
) -> int:
    """Write every reply of ``replies`` as its stored PDF through ``writer``, ``workers``
    storage reads at a time; return how many.

    Each exported letter is recorded in its suggestion's audit log, ``AUDIT_BATCH`` at a time.
    On any error or interrupt the writer is aborted and the exception raised again.
    """
    total = replies.count()
    if progress:
        progress(0, total, "")
    pdfs = read_ahead(stored_letters(replies), readers=workers or READERS)
    done, unlogged = 0, []
    try:
        for reply, data in pdfs:
            name = reply.pdf_filename()
            writer.write(name, data)
            unlogged.append(reply)
            done += 1
            if progress:
                progress(done, total, name)
            if len(unlogged) == AUDIT_BATCH:
                log_exports(unlogged, actor=actor, note=note)
                unlogged = []
        log_exports(unlogged, actor=actor, note=note)
    except BaseException:
        pdfs.close()
        writer.abort()
        raise
    writer.close()
    return done


def log_exports(replies: list[Reply], *, actor, note: str) -> None:
    # One transaction per batch, and only around the audit rows: a letter stored on the way
    # (backfilled) is committed at once, so an interrupted export never rolls back a letter
    # it has already written out.
    with transaction.atomic():
        for reply in replies:
            record_event(reply.suggestion, actor=actor, action="bulk_export", internal=True,
                         object_label=str(reply), note=note)
