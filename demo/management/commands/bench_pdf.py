"""Benchmark of the reply letter PDF on the seed case (suggestion No. 120).

Runs against a throwaway database it creates and migrates itself (the test database: in
memory for SQLite), so it works on a fresh checkout and never touches real data. Prints one
``name: value`` line per figure.
"""

from __future__ import annotations

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

    def handle(self, *args, **options):
        if options["runs"] < 1 or options["letters"] < 1:
            from django.core.management.base import CommandError

            raise CommandError("--runs and --letters must be at least 1.")
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


def make_signed_copies(reply, count: int) -> None:
    """``count`` more suggestions of the seed's session, each with a signed copy of the letter."""
    from replies.models import Reply
    from suggestions.models import Suggestion

    seed = reply.suggestion
    first = 10000
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
            verification_code=f"BENCH{i:07d}",
        )
        copy.suggestion = suggestion
        copy.content_hash = copy.compute_hash()
        copies.append(copy)
    Reply.objects.bulk_create(copies)


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
