"""Export signed reply letters as PDFs into a directory (or a zip), with progress.

    python manage.py export_replies --out DIR [--session NAME] [--unit NAME] [--zip]

With no filter, every signed (or sent) reply is exported, named like
市八届人大一次会议第120号建议的回复.pdf: the stored files, as signed (documents.export). Each
export is recorded in the suggestion's audit log. Ctrl-C stops it: a partial zip is deleted
(whole PDFs already written to the directory stay), and the command exits with an error.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Export signed reply letters as PDF files (one per reply), as stored at sign-off."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="directory to write the PDFs into")
        parser.add_argument(
            "--session", default="", help="congress session name, e.g. 市八届人大一次会议"
        )
        parser.add_argument("--unit", default="", help="issuing unit, full or short name")
        parser.add_argument(
            "--all-versions", action="store_true",
            help="every signed version, not only the latest signed letter of each suggestion",
        )
        parser.add_argument(
            "--zip", action="store_true", help="write one zip file into --out instead of PDFs"
        )
        parser.add_argument(
            "--workers", type=int, default=0, help="storage reads in parallel (default: 4)"
        )

    def handle(self, *args, **options):
        from documents.export import (
            DirectoryWriter,
            ExportError,
            ZipWriter,
            export_replies,
            signed_replies,
        )

        out = Path(options["out"]).expanduser()
        if out.exists() and not out.is_dir():
            raise CommandError(_("--out must be a directory: %(path)s is a file.") % {"path": out})
        if options["workers"] < 0:
            raise CommandError(_("--workers must be 0 (the default) or more."))
        try:
            replies = signed_replies(session=options["session"], unit=options["unit"],
                                     all_versions=options["all_versions"])
        except ExportError as error:
            raise CommandError(str(error)) from error
        total = replies.count()
        if total == 0:
            self.stdout.write(_("No signed replies match; nothing exported."))
            return
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(
                _("Cannot create %(path)s: %(error)s") % {"path": out, "error": error}
            ) from error
        if options["zip"]:
            target = out / f"replies-{time.strftime('%Y%m%d-%H%M%S')}.zip"
            writer = ZipWriter(target)
        else:
            target = out
            writer = DirectoryWriter(out)

        started = time.monotonic()
        done = 0
        interactive = self.stdout.isatty() if hasattr(self.stdout, "isatty") else False
        step = max(1, total // 20)

        def progress(count: int, total: int, name: str) -> None:
            nonlocal done
            done = count
            if done == 0:
                return
            if interactive:
                self.stdout.write(f"\r[{done}/{total}] {name}", ending="")
                if done == total:
                    self.stdout.write("")
            elif options["verbosity"] >= 2 or done == total or done % step == 0:
                self.stdout.write(f"[{done}/{total}] {name}")
            sys.stdout.flush()

        try:
            count = export_replies(
                replies, writer, workers=options["workers"] or None, progress=progress,
                note="export_replies command",
            )
        except KeyboardInterrupt:
            if interactive:
                self.stdout.write("")  # end the progress line
            message = (_("Interrupted after %(done)d of %(total)d letters; the partial zip was "
                         "deleted.") if options["zip"] else
                       _("Interrupted after %(done)d of %(total)d letters; those are in %(path)s."))
            raise CommandError(message % {"done": done, "total": total, "path": out}) from None
        except ExportError as error:
            raise CommandError(str(error)) from error
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            _("Exported %(count)d replies to %(target)s in %(seconds).1f s (%(rate).0f per minute).")
            % {"count": count, "target": target, "seconds": elapsed, "rate": count / elapsed * 60}
        ))
