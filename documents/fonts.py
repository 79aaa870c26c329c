"""Fonts for the PDFs: the configured font stacks, resolved through fontconfig and prepared once.

WeasyPrint subsets every embedded font again for every document. For the large Noto CJK faces
(about 65,000 CFF glyphs in a 25 MB collection) that subsetting, and compressing what it keeps,
is most of the render time. So each face the documents use is prepared once per machine:

1. the configured stack (``PDF_FONT_BODY`` …) is resolved through fontconfig to a file and
   face index, exactly as WeasyPrint itself would;
2. HarfBuzz's subsetter (through uharfbuzz) cuts the face down to the characters of GB 2312
   plus the punctuation and symbols letters use (about 7,500 glyphs instead of 65,000);
3. fontTools converts CFF outlines to TrueType, which HarfBuzz subsets several times faster;
4. the result is cached on disk, keyed by the source file, and declared with ``@font-face``.

Characters outside the prepared set (a rare character in a name) are not lost: after the
prepared face, the CSS lists the configured stack itself and ``PDF_FONT_FALLBACK`` (full Noto
CJK, then HanaMin for CJK extensions A–F), so fontconfig finds a font that has them.

Bindings: uharfbuzz for the subsetting, fontTools for the outline conversion. fontconfig has
no binding on PyPI that matches against the system's library (the one Pango, and so
WeasyPrint, uses): fontconfig-py bundles its own fontconfig, Python-fontconfig has no
FcFontMatch. WeasyPrint's cffi declarations lack the integer accessors, and importing them
loads all of WeasyPrint (about 0.5 s, which the system checks would pay in every
``manage.py`` command). So the few fontconfig calls are declared below.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cffi
from django.conf import settings

logger = logging.getLogger(__name__)

# Bump when the preparation changes, so stale cached files are not reused.
PREPARATION_VERSION = 6
DEFAULT_FALLBACK = '"Noto Serif CJK SC", "Noto Sans CJK SC", "HanaMinA", "HanaMinB"'
# GB/T 9704: 28 characters of 3号 (16 pt) on a 156 mm line, i.e. 15.79 pt per character.
# Prepared faces have their advances condensed by this factor (rounded down, so 28 fit).
GRID_CONDENSING = 0.986
# What the same grid needs as letter-spacing with fonts that are not prepared.
GRID_LETTER_SPACING = "-0.014em"
FC_WEIGHT_REGULAR = 80
FC_WEIGHT_BOLD = 200
GENERIC_FAMILIES = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}

_ffi = cffi.FFI()
_ffi.cdef("""
    typedef int FcBool;
    typedef unsigned char FcChar8;
    typedef struct _FcPattern FcPattern;
    typedef struct _FcConfig FcConfig;
    typedef enum { FcResultMatch, FcResultNoMatch, FcResultTypeMismatch, FcResultNoId,
                   FcResultOutOfMemory } FcResult;
    typedef enum { FcMatchPattern, FcMatchFont, FcMatchScan } FcMatchKind;
    FcPattern *FcPatternCreate(void);
    void FcPatternDestroy(FcPattern *p);
    FcBool FcPatternAddString(FcPattern *p, const char *object, const FcChar8 *s);
    FcBool FcPatternAddInteger(FcPattern *p, const char *object, int i);
    FcResult FcPatternGetString(const FcPattern *p, const char *object, int n, FcChar8 **s);
    FcResult FcPatternGetInteger(const FcPattern *p, const char *object, int n, int *i);
    FcBool FcConfigSubstitute(FcConfig *config, FcPattern *p, FcMatchKind kind);
    void FcDefaultSubstitute(FcPattern *pattern);
    FcPattern *FcFontMatch(FcConfig *config, FcPattern *p, FcResult *result);
""")
# Vertical metrics, layout substitutions (their closure would pull in thousands of glyphs for
# other regions and vertical text) and tables WeasyPrint drops anyway.
DROPPED_TABLES = (
    b"GSUB", b"BASE", b"JSTF", b"DSIG", b"LTSH", b"PCLT", b"SVG ", b"EBDT", b"EBLC", b"EBSC",
    b"vhea", b"vmtx", b"VORG", b"kern",
    # Positioning too: kerning of the Latin glyphs is all it holds for horizontal text, and
    # WeasyPrint drops it from the embedded fonts anyway.
    b"GPOS", b"GDEF",
)


def _dlopen(*names: str):
    for name in names:
        try:
            return _ffi.dlopen(name)
        except OSError:
            continue
    return None


@cache
def _fontconfig():
    return _dlopen("libfontconfig.so.1", "fontconfig", "libfontconfig.dylib")


@cache
def weasyprint_subsetter_available() -> bool:
    """Whether the system's HarfBuzz subsetter loads.

    WeasyPrint subsets every document's fonts with it when it loads, else with fontTools
    (~50× slower). Only loaded here, to see that it is there: nothing of it is called.
    """
    return all(_dlopen(*names) is not None for names in (
        ("libharfbuzz.so.0", "harfbuzz", "libharfbuzz.0.dylib"),
        ("libharfbuzz-subset.so.0", "harfbuzz-subset", "libharfbuzz-subset.0.dylib"),
    ))


@cache
def uharfbuzz_available() -> bool:
    """Whether uharfbuzz (HarfBuzz's subsetter, bundled with its binding) imports."""
    try:
        import uharfbuzz
    except ImportError:
        return False
    return hasattr(uharfbuzz, "subset")


def harfbuzz_subset_available() -> bool:
    """Whether faces are prepared: WeasyPrint subsets with HarfBuzz and uharfbuzz is there."""
    return weasyprint_subsetter_available() and uharfbuzz_available()


def parse_families(stack: str) -> list[str]:
    """'"FangSong", Noto Serif CJK SC, serif' → ['FangSong', 'Noto Serif CJK SC', 'serif']."""
    names = (part.strip().strip("\"'").strip() for part in stack.split(","))
    return [name for name in names if name]


def css_family_list(families: list[str]) -> str:
    return ", ".join(
        name if name in GENERIC_FAMILIES else '"' + name.replace('"', "") + '"'
        for name in families
    )


@dataclass(frozen=True)
class Face:
    """One face of an installed font file, as fontconfig matched it."""

    family: str
    path: str
    index: int
    weight: int

    @property
    def is_bold(self) -> bool:
        return self.weight >= FC_WEIGHT_BOLD - 20

    @property
    def alias(self) -> str:
        """The family name the prepared face is declared under (also its name in the PDF)."""
        suffix = " Bold" if self.is_bold else ""
        return f"GW {self.family}{suffix}"


def match_face(family: str, *, bold: bool = False) -> Face | None:
    """The installed face fontconfig gives for ``family``, or None when it is not installed."""
    fc = _fontconfig()
    if fc is None or family in GENERIC_FAMILIES:
        return None
    pattern = fc.FcPatternCreate()
    try:
        fc.FcPatternAddString(pattern, b"family", family.encode())
        fc.FcPatternAddInteger(pattern, b"weight", FC_WEIGHT_BOLD if bold else FC_WEIGHT_REGULAR)
        fc.FcPatternAddString(pattern, b"lang", b"zh-cn")
        fc.FcConfigSubstitute(_ffi.NULL, pattern, fc.FcMatchPattern)
        fc.FcDefaultSubstitute(pattern)
        result = _ffi.new("FcResult *")
        matched = fc.FcFontMatch(_ffi.NULL, pattern, result)
    finally:
        fc.FcPatternDestroy(pattern)
    if matched == _ffi.NULL:
        return None
    try:
        # fontconfig always answers with *some* font; only accept the family asked for.
        value = _ffi.new("FcChar8 **")
        names, n = [], 0
        while fc.FcPatternGetString(matched, b"family", n, value) == fc.FcResultMatch:
            names.append(_ffi.string(value[0]).decode())
            n += 1
        if family.casefold() not in {name.casefold() for name in names}:
            return None
        if fc.FcPatternGetString(matched, b"file", 0, value) != fc.FcResultMatch:
            return None
        path = _ffi.string(value[0]).decode()
        number = _ffi.new("int *")
        index = number[0] if fc.FcPatternGetInteger(
            matched, b"index", 0, number) == fc.FcResultMatch else 0
        weight = number[0] if fc.FcPatternGetInteger(
            matched, b"weight", 0, number) == fc.FcResultMatch else FC_WEIGHT_REGULAR
    finally:
        fc.FcPatternDestroy(matched)
    return Face(family=family, path=path, index=index, weight=weight)


def first_installed(stack: str, *, bold: bool = False) -> Face | None:
    for family in parse_families(stack):
        face = match_face(family, bold=bold)
        if face is not None:
            return face
    return None


def cjk_font_installed() -> bool:
    """Whether any family of the configured stacks or fallbacks is installed (for the checks)."""
    for stack in (*_stacks().values(), _fallback_stack()):
        for family in parse_families(stack):
            if match_face(family) is not None:
                return True
    return False


# --- Which characters the prepared faces keep ---------------------------------------------

# Kept first, in this order: the glyphs of nearly every document get the lowest glyph IDs, and
# WeasyPrint's per-document subset keeps every glyph ID up to the highest one used.
CORE_RANGES = (
    (0x20, 0x7E),                          # ASCII
    (0x3000, 0x303F),                      # CJK punctuation 、。〔〕《》
    (0xFF00, 0xFFEF),                      # full-width forms （）：；
    (0x2010, 0x2027),                      # dashes, quotes, ellipsis: — ‘’ “” …
    (0xA0, 0xFF),                          # Latin-1
)
# Kept last, and only in body faces.
SYMBOL_RANGES = (
    (0x2000, 0x206F),                      # the rest of general punctuation
    (0x2100, 0x218F),                      # letterlike, number forms: ℃ № Ⅰ Ⅱ
    (0x2190, 0x21FF), (0x2200, 0x22FF),    # arrows, mathematical operators
    (0x2460, 0x24FF), (0x2500, 0x257F),    # enclosed alphanumerics ①, box drawing
    (0x25A0, 0x27BF),                      # geometric shapes, symbols, dingbats: ○ ★ ✓
    (0x3200, 0x33FF),                      # enclosed ㈠, units ㎡
    (0xFE10, 0xFE1F), (0xFE30, 0xFE4F),    # vertical and compatibility forms
)


def _gb2312(first_row: int, last_row: int) -> list[int]:
    points = []
    for high in range(first_row, last_row + 1):
        for low in range(0xA1, 0xFF):
            try:
                points.append(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return points


@cache
def letter_codepoints(charset: str = "full") -> tuple[int, ...]:
    """The characters a prepared face keeps, most used first.

    "full" (body faces): the core ranges, GB 2312 (its symbols, then its 3,755 level-1 and
    3,008 level-2 hanzi), then the symbol ranges. "common" (title and heading faces): the
    core ranges and GB 2312's symbols and level-1 hanzi only; fewer glyphs are subset faster
    in every document, and a rarer character falls back to the full system font.
    """
    points = [p for first, last in CORE_RANGES for p in range(first, last + 1)]
    points += _gb2312(0xA1, 0xA9) + _gb2312(0xB0, 0xD7)
    if charset == "full":
        points += _gb2312(0xD8, 0xF7)
        points += [p for first, last in SYMBOL_RANGES for p in range(first, last + 1)]
    return tuple(dict.fromkeys(points))


# --- Preparation ----------------------------------------------------------------------------

def cache_dir() -> Path:
    configured = settings.PDF_FONT_CACHE_DIR
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deputy-suggestions" / "pdf-fonts"


def _writable_cache_dir() -> Path:
    for candidate in (cache_dir(), Path(tempfile.gettempdir()) / f"pdf-fonts-{os.getuid()}"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            probe = candidate / ".probe"
            probe.touch()
            probe.unlink()
            return candidate
        except OSError:
            continue
    raise OSError("No writable directory for prepared fonts; set PDF_FONT_CACHE_DIR.")


def _cache_key(face: Face, charset: str) -> str:
    stat = os.stat(face.path)
    points = hashlib.sha256(repr(letter_codepoints(charset)).encode()).hexdigest()[:8]
    raw = "|".join(str(part) for part in (
        PREPARATION_VERSION, face.path, stat.st_size, stat.st_mtime_ns, face.index, points,
    ))
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def prepared_path(face: Face, charset: str = "full", directory: Path | None = None) -> Path | None:
    """The prepared copy of ``face``, made now if it is not cached yet (None if impossible)."""
    if not harfbuzz_subset_available():
        return None
    directory = directory or _writable_cache_dir()
    target = directory / f"{_cache_key(face, charset)}.ttf"
    if target.exists():
        return target
    # One process prepares a file; another that wants it waits instead of doing the same work.
    with open(target.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        try:
            data = _subset_face(face, letter_codepoints(charset))
            data = _to_truetype_on_grid(data, letter_codepoints(charset))
        except Exception:
            logger.exception("Could not prepare the font %s (%s)", face.family, face.path)
            return None
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, target)
    logger.info("Prepared font %s from %s#%d", face.alias, face.path, face.index)
    return target


def _prepare_in_child(job: tuple[Face, str, Path]) -> bool:
    face, charset, directory = job
    return prepared_path(face, charset, directory) is not None


def prepare_all(jobs: list[tuple[Face, str]]) -> dict[Face, Path]:
    """Prepare several faces, in parallel processes when more than one is missing."""
    if not harfbuzz_subset_available():
        return {}
    directory = _writable_cache_dir()
    missing = [(face, charset, directory) for face, charset in jobs
               if not (directory / f"{_cache_key(face, charset)}.ttf").exists()]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if len(missing) > 1 and cores > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # "spawn": the caller may be a threaded web server, where forking is unsafe.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(len(missing), cores), mp_context=context) as pool:
            list(pool.map(_prepare_in_child, missing))
    prepared = {}
    for face, charset in jobs:
        path = prepared_path(face, charset, directory)
        if path is not None:
            prepared[face] = path
    return prepared


def _subset_face(face: Face, codepoints: tuple[int, ...]) -> bytes:
    import uharfbuzz as hb

    source = hb.Face(hb.Blob.from_file_path(face.path), face.index)
    subset_input = hb.SubsetInput()
    # No bidi closure: current HarfBuzz would also keep each character's mirrored partner
    # (∈ → ∋), glyphs the system HarfBuzz used before (6.0) did not keep.
    subset_input.flags = (
        hb.SubsetFlags.NO_HINTING | hb.SubsetFlags.DESUBROUTINIZE
        | hb.SubsetFlags.NO_BIDI_CLOSURE
    )
    unicodes = subset_input.unicode_set
    unicodes.update(codepoints)
    # The kept characters' variation sequences (cmap format 14, e.g. centred 、。): HarfBuzz
    # now keeps a sequence only when its selector is asked for too.
    unicodes.update(source.variation_selectors)
    dropped = subset_input.drop_table_tag_set
    for tag in DROPPED_TABLES:
        dropped.add(int.from_bytes(tag, "big"))
    return hb.subset(source, subset_input).blob.data


def _reorder_glyphs(font, priority: tuple[int, ...]) -> None:
    """Glyph IDs in the order of ``priority`` (codepoints), then the unmapped glyphs."""
    for tag in font.keys():
        if tag != "GlyphOrder":
            font[tag]  # decompile every table under the old glyph order first
    cmap = font.getBestCmap() or {}
    old = font.getGlyphOrder()
    order = [old[0]]
    order += [cmap[point] for point in priority if point in cmap]
    order = list(dict.fromkeys(order))
    kept = set(order)
    order += [name for name in old if name not in kept]
    font.setGlyphOrder(order)
    if "glyf" in font:
        font["glyf"].glyphOrder = order
    if "post" in font:
        font["post"].formatType = 3.0


def _to_truetype_on_grid(data: bytes, priority: tuple[int, ...] = ()) -> bytes:
    """CFF outlines → TrueType (quadratic) outlines, advances condensed to the grid.

    A glyf font is subset ~4× faster than a CFF one in every document. Condensing every
    advance by GRID_CONDENSING sets 3号 (16 pt) text at GB/T 9704's 28 characters to a
    156 mm line with no letter-spacing, which would otherwise add a position adjustment
    after every glyph of the page's text.
    """
    import io

    from fontTools.ttLib import TTFont, newTable

    font = TTFont(io.BytesIO(data))
    if priority:
        _reorder_glyphs(font, priority)
    if data[:4] == b"OTTO":
        from fontTools.pens.cu2quPen import Cu2QuPen
        from fontTools.pens.ttGlyphPen import TTGlyphPen

        order = font.getGlyphOrder()
        glyph_set = font.getGlyphSet()
        glyf = newTable("glyf")
        glyf.glyphOrder = order
        glyf.glyphs = {}
        for name in order:
            pen = TTGlyphPen(glyph_set)
            # 1 unit of 1000 per em: far below what print can show.
            glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf[name] = pen.glyph()
        font["glyf"] = glyf
        font["loca"] = newTable("loca")
        del font["CFF "]
        maxp = font["maxp"]
        maxp.tableVersion = 0x00010000
        for attribute in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                          "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                          "maxComponentElements", "maxPoints", "maxContours",
                          "maxCompositePoints", "maxCompositeContours", "maxComponentDepth"):
            setattr(maxp, attribute, 0)
        maxp.maxZones = 1
        font["head"].glyphDataFormat = 0
        font["post"].formatType = 3.0
        font.sfntVersion = "\x00\x01\x00\x00"
    metrics = font["hmtx"].metrics
    for name, (advance, left) in metrics.items():
        metrics[name] = (int(advance * GRID_CONDENSING), left)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


# --- The font setup the documents use -------------------------------------------------------

ROLES = ("body", "bold", "title", "hei", "kai")


def _stacks() -> dict[str, str]:
    return {
        "body": settings.PDF_FONT_BODY,
        "title": settings.PDF_FONT_TITLE,
        "hei": settings.PDF_FONT_HEI,
        "kai": settings.PDF_FONT_KAI,
    }


def _fallback_stack() -> str:
    return settings.PDF_FONT_FALLBACK or DEFAULT_FALLBACK


@dataclass
class FontSetup:
    """What each role (body, bold, title, hei, kai) is printed in, and the CSS that says so."""

    faces: dict[str, Face | None] = field(default_factory=dict)
    prepared: dict[Face, Path] = field(default_factory=dict)

    @property
    def files(self) -> set[str]:
        return {str(path) for path in self.prepared.values()}

    def families(self, role: str, *, prepared: bool = True) -> list[str]:
        face = self.faces.get(role)
        if role == "bold" and (face is None or not face.is_bold):
            # No bold face in the body stack (FangSong has none): emphasis in hei instead.
            return self.families("hei", prepared=prepared)
        names = []
        if prepared and face is not None and face in self.prepared:
            names.append(face.alias)
        names.extend(parse_families(_stacks()["body" if role == "bold" else role]))
        names.extend(parse_families(_fallback_stack()))
        names.append("sans-serif" if role == "hei" else "serif")
        return list(dict.fromkeys(names))

    def css(self, *, prepared: bool = True) -> str:
        """@font-face rules for the prepared faces, then one rule per role.

        With ``prepared=False`` the rules name the system families only, as a plain
        integration would (the benchmark's baseline).
        """
        rules = []
        if not prepared or self.faces.get("body") not in self.prepared:
            rules.append(f"html {{ letter-spacing: {GRID_LETTER_SPACING}; }}")
        if prepared:
            for face, path in self.prepared.items():
                rules.append(
                    f'@font-face {{ font-family: "{face.alias}"; src: url("{path.as_uri()}"); }}'
                )
        selectors = {
            "body": "html, .font-body",
            "bold": "b, strong, .font-bold",
            "title": ".font-title",
            "hei": ".font-hei",
            "kai": ".font-kai",
        }
        for role, selector in selectors.items():
            weight = "bold" if role in ("bold", "title") else "normal"
            families = css_family_list(self.families(role, prepared=prepared))
            rules.append(f"{selector} {{ font-family: {families}; font-weight: {weight}; }}")
        return "\n".join(rules)


def build_font_setup(*, prepare: bool = True) -> FontSetup:
    setup = FontSetup()
    stacks = _stacks()
    setup.faces = {
        "body": first_installed(stacks["body"]),
        "bold": first_installed(stacks["body"], bold=True),
        "title": first_installed(stacks["title"], bold=True),
        "hei": first_installed(stacks["hei"]),
        "kai": first_installed(stacks["kai"]),
    }
    if prepare:
        faces = dict.fromkeys(face for face in setup.faces.values() if face is not None)
        # Body text may use any character; titles, headings and bold runs mostly common
        # ones, and a rarer one falls back to the full system font of the same stack.
        setup.prepared = prepare_all([
            (face, "full" if face == setup.faces["body"] else "common") for face in faces
        ])
    return setup
