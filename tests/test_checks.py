"""System checks for the PDF machinery, the font stacks, and the URL fetcher."""

import pytest

from documents import checks, fonts


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_this_machine_passes_the_pdf_checks():
    assert checks.check_harfbuzz_subset() == []
    assert checks.check_cjk_fonts() == []


def test_missing_harfbuzz_subset_is_reported(monkeypatch):
    monkeypatch.setattr(fonts, "weasyprint_subsetter_available", lambda: False)
    messages = checks.check_harfbuzz_subset()
    assert ids(messages) == ["documents.W001"]
    assert "libharfbuzz-subset0" in messages[0].hint
    assert not fonts.harfbuzz_subset_available()  # and so nothing is prepared


def test_missing_uharfbuzz_is_reported(monkeypatch):
    monkeypatch.setattr(fonts, "uharfbuzz_available", lambda: False)
    messages = checks.check_harfbuzz_subset()
    assert ids(messages) == ["documents.W002"]
    assert "make install" in messages[0].hint
    assert not fonts.harfbuzz_subset_available()
    assert fonts.prepared_path(fonts.first_installed("Noto Serif CJK SC")) is None


def test_prepared_faces_keep_the_letter_characters_and_nothing_else(tmp_path):
    """The subset keeps exactly the asked-for characters (no mirrored partners added) and
    their variation sequences, as the system HarfBuzz 6 did before uharfbuzz."""
    import io

    from fontTools.ttLib import TTFont

    face = fonts.first_installed('"Noto Sans CJK SC"')
    points = fonts.letter_codepoints("common")
    subset = TTFont(io.BytesIO(fonts._subset_face(face, points)))
    cmap = subset.getBestCmap()
    assert set(cmap) <= set(points)
    assert 0x2208 in cmap and 0x220B not in cmap  # ∈ kept, its mirror ∋ not asked for
    assert len(cmap) > 4700
    sequences = {
        (base, selector)
        for table in subset["cmap"].tables if table.format == 14
        for selector, records in table.uvsDict.items() for base, _ in records
    }
    assert (0x3002, 0xFE01) in sequences  # the centred 。
    assert not {"GSUB", "GPOS", "vmtx"} & set(subset.keys())
    path = fonts.prepared_path(face, "common", tmp_path)
    prepared = TTFont(path)
    assert "glyf" in prepared and "CFF " not in prepared
    assert prepared.getBestCmap().keys() == cmap.keys()


def test_no_cjk_font_is_an_error(settings):
    for name in ("PDF_FONT_BODY", "PDF_FONT_TITLE", "PDF_FONT_HEI", "PDF_FONT_KAI",
                 "PDF_FONT_FALLBACK"):
        setattr(settings, name, '"No Such Font Sans", serif')
    assert ids(checks.check_cjk_fonts()) == ["documents.E001"]


def test_font_stacks_resolve_to_the_first_installed_family(settings):
    settings.PDF_FONT_KAI = '"KaiTi", "AR PL UKai CN", "Noto Serif CJK SC"'
    setup = fonts.build_font_setup(prepare=False)
    assert setup.faces["body"].family == "Noto Serif CJK SC"
    assert not setup.faces["body"].is_bold
    assert setup.faces["title"].is_bold
    assert setup.faces["hei"].family == "Noto Sans CJK SC"
    assert setup.faces["kai"].family == "Noto Serif CJK SC"


def test_prepared_fonts_are_declared_before_the_configured_stack():
    setup = fonts.build_font_setup()
    assert len(setup.prepared) == 4
    css = setup.css()
    body_rule = next(line for line in css.splitlines() if line.startswith("html"))
    assert body_rule.index('"GW Noto Serif CJK SC"') < body_rule.index('"FangSong"')
    assert "HanaMinB" in body_rule
    assert "letter-spacing" not in css  # the prepared faces carry the 28-character grid
    assert "letter-spacing" in setup.css(prepared=False)


def test_parse_families_reads_css_stacks():
    assert fonts.parse_families('"FangSong", \'KaiTi\', Noto Serif CJK SC , serif') == [
        "FangSong", "KaiTi", "Noto Serif CJK SC", "serif"]


def test_url_fetcher_serves_static_files_and_refuses_the_rest():
    from documents.pdf import FetchRefused, StaticFetcher, static_url

    fetcher = StaticFetcher()
    response = fetcher.fetch(static_url("documents/letter.css"))
    assert b"@page" in response.read()
    for url in ("file:///etc/passwd", "http://127.0.0.1:8000/", "https://example.com/x.png",
                "file:///static/../etc/passwd", "file://otherhost/static/documents/letter.css",
                "ftp://example.com/x"):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


def test_body_lines_become_headings_and_kai_leads():
    from core.formatting import body_blocks

    blocks = body_blocks(
        "一、总体情况\n（一）政策保障\n(二) 推进应用。协调各部门。\n二十、其他\n"
        "一般段落，**加粗**部分。\n1. 编号段落"
    )
    assert [b.kind for b in blocks] == [
        "heading", "subheading", "subheading", "heading", "text", "text"]
    assert blocks[2].lead == "(二) 推进应用。" and blocks[2].rest == "协调各部门。"
    assert blocks[1].lead == "（一）政策保障" and blocks[1].rest == ""
    assert blocks[4].rest == "一般段落，<b>加粗</b>部分。"


def test_dates_are_written_without_zero_padding():
    import datetime

    from core.formatting import chinese_date

    assert chinese_date(datetime.date(2022, 6, 1)) == "2022年6月1日"
