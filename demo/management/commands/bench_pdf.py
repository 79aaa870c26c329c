"""Benchmark of the reply letter PDF on the seed case (suggestion No. 120).

Runs against a throwaway database it creates and migrates itself (the test database: in
memory for SQLite), so it works on a fresh checkout and never touches real data. Prints one
``name: value`` line per figure.
"""

from __future__ import annotations

import gc
import re
import statistics
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import override_settings


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


class Command(BaseCommand):
    help = "Measure reply-letter PDF speed against plain WeasyPrint, size, and bulk throughput."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=15, help="renders per measurement")
        parser.add_argument("--letters", type=int, default=240,
                            help="letters rendered and stored by the first export")
        parser.add_argument("--export-letters", type=int, default=10000,
                            help="stored letters in the export from storage")

    def handle(self, *args, **options):
        if min(options["runs"], options["letters"], options["export_letters"]) < 1:
            from django.core.management.base import CommandError

            raise CommandError("--runs, --letters and --export-letters must be at least 1.")
        old_name = connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False
        )
        try:
            # The seed letter is stored when it is signed: in memory, not under MEDIA_ROOT.
            with override_settings(STORAGES={**settings.STORAGES, "default": {
                    "BACKEND": "django.core.files.storage.InMemoryStorage"}}):
                self.run(options)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)

    def emit(self, name: str, value) -> None:
        if isinstance(value, float):
            value = f"{value:.1f}"
        self.stdout.write(f"{name}: {value}")

    def run(self, options) -> None:
        from demo.seed import load_demo

        load_demo()
        from documents import pdf as documents_pdf
        from replies.models import Reply

        reply = Reply.objects.select_related("suggestion__session", "issuing_unit").get(
            suggestion__number=120, suggestion__session__name="市八届人大一次会议"
        )

        started = time.perf_counter()
        renderer = documents_pdf.get_renderer()
        self.emit("font_setup_s", f"{time.perf_counter() - started:.2f}")
        self.emit("fonts_prepared", len(renderer.fonts.prepared))

        baseline_pdf, baseline_times, ours_pdf, ours_times = self.compare(
            reply, renderer, options["runs"]
        )
        baseline = _median_ms(baseline_times)
        ours = _median_ms(ours_times)
        self.emit("reply_pdf_baseline_ms", baseline)
        self.emit("reply_pdf_ms", ours)
        self.emit("reply_pdf_min_ms", min(ours_times) * 1000)
        self.emit("reply_pdf_speedup", f"{baseline / ours:.2f}")
        self.emit("reply_pdf_kib", len(ours_pdf) / 1024)
        self.emit("reply_pdf_baseline_kib", len(baseline_pdf) / 1024)
        facts = pdf_facts(ours_pdf)
        self.emit("reply_pdf_pages", facts["pages"])
        self.emit("reply_pdf_fonts", facts["fonts"])
        self.emit("reply_pdf_fonts_embedded", facts["embedded"])
        self.emit("reply_pdf_fonts_subset", facts["subset"])
        self.archival(reply, options["runs"])

        from consultations.models import Consultation

        record = Consultation.objects.filter(suggestion=reply.suggestion).first()
        documents_pdf.render_consultation_pdf(record)
        times = []
        for _ in range(options["runs"]):
            start = time.perf_counter()
            documents_pdf.render_consultation_pdf(record)
            times.append(time.perf_counter() - start)
        self.emit("consultation_pdf_ms", _median_ms(times))

        self.bulk(reply, options["letters"])
        self.export(reply, options["export_letters"])

    def compare(self, reply, renderer, runs: int):
        """Plain WeasyPrint and ours on the same letter, interleaved so noise hits both."""
        from weasyprint import HTML
        from weasyprint.text.fonts import FontConfiguration

        from documents import pdf as documents_pdf

        css = documents_pdf.static_css_text("letter") + renderer.fonts.css(prepared=False)

        def plain() -> bytes:
            # As a typical integration: the template's HTML with its CSS inline, fonts by
            # family name, a new FontConfiguration for every document.
            html = documents_pdf.reply_html(reply).replace(
                "</head>", f"<style>{css}</style></head>", 1
            )
            return HTML(string=html, base_url=documents_pdf.BASE_URL).write_pdf(
                font_config=FontConfiguration()
            )

        def ours() -> bytes:
            return documents_pdf.render_reply_pdf(reply)

        baseline_pdf, ours_pdf = plain(), ours()  # warm-up
        baseline_times, ours_times = [], []
        for _ in range(runs):
            for function, samples in ((plain, baseline_times), (ours, ours_times)):
                start = time.perf_counter()
                function()
                samples.append(time.perf_counter() - start)
        return baseline_pdf, baseline_times, ours_pdf, ours_times

    def archival(self, reply, runs: int) -> None:
        """The letter as stored at sign-off (PDF_ARCHIVE_VARIANT, PDF/A-3b), interleaved with
        the plain one: what the archival variant costs."""
        from documents import letters
        from documents import pdf as documents_pdf

        plain_times, archival_times = [], []
        letters.render_archival(reply)  # warm-up
        for _ in range(runs):
            for function, samples in ((documents_pdf.render_reply_pdf, plain_times),
                                      (letters.render_archival, archival_times)):
                start = time.perf_counter()
                function(reply)
                samples.append(time.perf_counter() - start)
        self.emit("signed_letter_variant", letters.archive_variant() or "plain")
        self.emit("signed_letter_ms", _median_ms(archival_times))
        self.emit("signed_letter_extra_ms", _median_ms(archival_times) - _median_ms(plain_times))

    def bulk(self, seed_reply, letters: int) -> None:
        """Export ``letters`` signed letters that were never stored (as if signed before
        letters were kept): the export renders and stores each once, one at a time."""
        from documents.export import DirectoryWriter, export_replies
        from replies.models import Reply

        make_signed_copies(seed_reply, letters - 1)
        replies = Reply.objects.signed()
        with tempfile.TemporaryDirectory(prefix="bench-export-") as directory:
            start = time.perf_counter()
            count = export_replies(replies, DirectoryWriter(Path(directory)), note="bench_pdf")
            elapsed = time.perf_counter() - start
            files = len(list(Path(directory).glob("*.pdf")))
        self.emit("bulk_letters", count)
        self.emit("bulk_files", files)
        self.emit("bulk_seconds", elapsed)
        self.emit("bulk_letters_per_min", count / elapsed * 60)

    def export(self, seed_reply, letters: int) -> None:
        """Export ``letters`` stored letters into a zip through the real export path: letters
        per minute, and how much the process's peak resident memory grew while it ran."""
        from documents import letters as stored
        from documents.export import ZipWriter, export_replies, signed_replies
        from documents.models import SignedLetter
        from replies.models import Reply

        seed = SignedLetter.objects.select_related("reply").get(reply=seed_reply)
        data = stored.read_letter(seed)  # from the storage it was signed into
        with tempfile.TemporaryDirectory(prefix="bench-letters-") as media, \
                override_settings(STORAGES={**settings.STORAGES, "default": {
                    "BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": media}}}):
            store_shared_copies(seed, data, letters, Path(media))
            replies = signed_replies(Reply.objects.filter(verification_code__startswith="EXPORT"))
            with tempfile.TemporaryDirectory(prefix="bench-zip-") as out:
                gc.collect()
                baseline = rss_mib("VmRSS")
                reset_peak_rss()
                start = time.perf_counter()
                count = export_replies(replies, ZipWriter(Path(out) / "letters.zip"),
                                       note="bench_pdf")
                elapsed = time.perf_counter() - start
                peak = rss_mib("VmHWM")
                size = (Path(out) / "letters.zip").stat().st_size
        self.emit("export_letters", count)
        self.emit("export_zip_mib", size / 2**20)
        self.emit("export_seconds", elapsed)
        self.emit("export_letters_per_min", count / elapsed * 60)
        self.emit("export_rss_baseline_mib", baseline)
        self.emit("export_peak_mib", peak - baseline)


def make_signed_copies(reply, count: int, *, first: int = 10000, code: str = "BENCH") -> list:
    """``count`` more suggestions of the seed's session, numbered from ``first``, each with a
    signed copy of the letter (verification codes ``code``0000000, …; no stored letter)."""
    from replies.models import Reply
    from suggestions.models import Suggestion

    seed = reply.suggestion
    suggestions = Suggestion.objects.bulk_create([
        Suggestion(
            session=seed.session, number=first + i, title=seed.title, content=seed.content,
            lead_deputy=seed.lead_deputy, lead_unit=seed.lead_unit, status=seed.status,
        )
        for i in range(count)
    ])
    if not suggestions or suggestions[0].pk is None:
        suggestions = list(Suggestion.objects.filter(number__gte=first).order_by("number"))
    copies = []
    for i, suggestion in enumerate(suggestions):
        copy = Reply(
            suggestion=suggestion,
            title=f"关于{seed.session.name}第{suggestion.number}号建议的回复",
            **{name: getattr(reply, name) for name in (
                "doc_number", "salutation", "body", "category", "disclosure", "signer_name",
                "handler_name", "contact_phone", "issuing_unit", "issuing_unit_name",
                "letter_date", "copy_to", "status", "signed_at", "signed_by",
            )},
            verification_code=f"{code}{i:07d}",
        )
        copy.suggestion = suggestion
        copy.content_hash = copy.compute_hash()
        copies.append(copy)
    Reply.objects.bulk_create(copies)
    if copies and copies[0].pk is None:
        copies = list(Reply.objects.filter(verification_code__startswith=code).order_by("pk"))
    return copies


def store_shared_copies(seed, data: bytes, count: int, directory: Path) -> None:
    """``count`` signed copies of the ``seed`` letter's reply whose stored letters are its
    bytes ``data`` under a name of their own: hard links to one file in ``directory`` (the
    default storage's root), so 10,000 letters cost 10,000 rows and no disk space."""
    from documents.models import SignedLetter

    shared = directory / "letters" / "bench" / "shared.pdf"
    shared.parent.mkdir(parents=True)
    shared.write_bytes(data)
    rows = []
    for copy in make_signed_copies(seed.reply, count, first=100000, code="EXPORT"):
        name = f"letters/bench/{copy.pk}.pdf"
        (directory / name).hardlink_to(shared)
        rows.append(SignedLetter(reply=copy, file=name, sha256=seed.sha256, size=len(data),
                                 pdf_variant=seed.pdf_variant))
    SignedLetter.objects.bulk_create(rows, batch_size=1000)


def rss_mib(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, in MiB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1)) / 1024


def reset_peak_rss() -> None:
    """Start VmHWM again from the current resident size (Linux ≥ 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def pdf_facts(data: bytes) -> dict:
    """Pages, fonts, and whether every font is embedded (FontFile*) and subset (ABCDEF+)."""
    from documents.pdfcheck import fonts_of, page_count

    fonts = fonts_of(data)
    embedded = sum(1 for font in fonts.values() if font["embedded"])
    return {
        "pages": page_count(data),
        "fonts": len(fonts),
        "embedded": f"{embedded}/{len(fonts)}",
        "subset": "yes" if fonts and all(font["subset"] for font in fonts.values()) else "no",
    }
