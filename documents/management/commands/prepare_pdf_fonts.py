"""Resolve the PDF font stacks and prepare the faces now (they are cached on disk).

Run it at deployment (or after changing a PDF_FONT_* setting) so that the first PDF a user
asks for does not wait for the preparation (about 15 s per machine for the Noto faces).
"""

import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Show which installed font each PDF role uses, and prepare those fonts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--prune", action="store_true",
            help="delete prepared files the current settings no longer use",
        )

    def handle(self, *args, **options):
        from documents import fonts

        started = time.monotonic()
        setup = fonts.build_font_setup()
        for role in fonts.ROLES:
            face = setup.faces.get(role)
            if face is None:
                self.stdout.write(self.style.WARNING(f"{role}: no installed family of its stack"))
                continue
            prepared = setup.prepared.get(face)
            where = prepared or "not prepared (system font used as it is)"
            self.stdout.write(f"{role}: {face.family} ({face.path}#{face.index}) → {where}")
        if not fonts.harfbuzz_subset_available():
            self.stdout.write(self.style.WARNING(
                "libharfbuzz-subset.so.0 is missing: fonts cannot be prepared and PDFs are slow."
            ))
        if options["prune"]:
            keep = {str(path) for path in setup.prepared.values()}
            for path in fonts.cache_dir().glob("*"):
                if path.suffix in (".ttf", ".lock") and str(path.with_suffix(".ttf")) not in keep:
                    path.unlink(missing_ok=True)
                    self.stdout.write(f"deleted {path.name}")
        self.stdout.write(f"Done in {time.monotonic() - started:.1f} s; cache: {fonts.cache_dir()}")
