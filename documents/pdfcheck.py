"""Reading a generated PDF back: its fonts and pages (for bench_pdf and the tests)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

SUBSET_NAME = re.compile(r"^/?[A-Z]{6}\+")


def fonts_of(data: bytes) -> dict[str, dict]:
    """Every font the pages use: its name, whether it is embedded and subset, its metrics."""
    reader = PdfReader(io.BytesIO(data))
    found: dict[str, dict] = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            name = str(font.get("/BaseFont", ""))
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            found[name.lstrip("/")] = {
                "embedded": any(
                    key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
                ),
                "subset": bool(SUBSET_NAME.match(name)),
                "ascent": float(descriptor.get("/Ascent", 0)) / 1000,
                "descent": -float(descriptor.get("/Descent", 0)) / 1000,
            }
    return found


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
