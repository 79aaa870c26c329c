"""The reply letter PDF, read back: GB/T 9704 page and grid, fonts, text, page numbers."""

import io
import logging
import re

import pdfplumber
import pytest

from documents.pdf import render_reply_pdf
from documents.pdfcheck import fonts_of, text_of

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM
LINE_PITCH = 225 / 22 * MM  # GB/T 9704: 22 lines in the 225 mm text block


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def lines_of(page) -> list[list[dict]]:
    """The page's characters grouped into lines (same baseline), left to right."""
    rows: dict[float, list[dict]] = {}
    for char in page.chars:
        rows.setdefault(round(char["bottom"], 0), []).append(char)
    return [sorted(rows[key], key=lambda c: c["x0"]) for key in sorted(rows)]


def line_text(line: list[dict]) -> str:
    return "".join(char["text"] for char in line)


@pytest.fixture
def seed_pdf(demo):
    return render_reply_pdf(demo.replies.get())


@pytest.fixture
def draft(demo, user):
    """A draft reply of No. 123 (handled by the same unit), not signed."""
    from replies.services import reply_create_draft
    from suggestions.models import Suggestion

    suggestion = Suggestion.objects.get(number=123)
    return reply_create_draft(suggestion=suggestion, user=user("staff"))


def test_reply_letter_is_a4_with_the_gbt_9704_text_block(seed_pdf):
    fonts = fonts_of(seed_pdf)
    with pdfplumber.open(io.BytesIO(seed_pdf)) as pdf:
        assert len(pdf.pages) == 4
        for page in pdf.pages:
            assert page.width == pytest.approx(PAGE_W, abs=0.5)
            assert page.height == pytest.approx(PAGE_H, abs=0.5)
        # Page 2 is body text only: 22 lines on the grid, filling the 156 × 225 mm block.
        page = pdf.pages[1]
        body = [line for line in lines_of(page) if line[0]["size"] == pytest.approx(16, abs=0.1)]
        assert len(body) == 22
        baselines = [line[0]["bottom"] - fonts[line[0]["fontname"]]["descent"] * 16
                     for line in body]
        pitches = {round(b - a, 1) for a, b in zip(baselines, baselines[1:], strict=False)}
        assert pitches == {round(LINE_PITCH, 1)}

        def line_box(line, baseline):
            # WeasyPrint centres the font's ascent + descent in the line-height.
            font = fonts[line[0]["fontname"]]
            ascent, descent = font["ascent"] * 16, font["descent"] * 16
            top = baseline - ascent - (LINE_PITCH - ascent - descent) / 2
            return top, top + LINE_PITCH

        top, _ = line_box(body[0], baselines[0])
        _, bottom = line_box(body[-1], baselines[-1])
        assert top / MM == pytest.approx(37, abs=1)
        assert (PAGE_H - bottom) / MM == pytest.approx(35, abs=1)
        assert min(line[0]["x0"] for line in body) / MM == pytest.approx(28, abs=1)
        assert (PAGE_W - max(line[-1]["x1"] for line in body)) / MM == pytest.approx(26, abs=1)
        # 28 characters on a full line of Chinese text.
        cjk = re.compile(r"^[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+$")
        assert max(len(t) for t in map(line_text, body) if cjk.match(t)) == 28


def test_reply_letter_has_the_seed_paragraphs_in_order(seed_pdf, demo):
    from demo.seed import seed_reply_body

    # Page numbers fall inside paragraphs that run on to the next page.
    text = re.sub(r"—\d+—", "", squeeze(text_of(seed_pdf)))
    position = 0
    expected = ["公开属性：同意公开", "办理结果：A类", "关于市八届人大一次会议第120号建议的回复",
                "苏红平代表："]
    expected += [line.replace("**", "") for line in seed_reply_body().splitlines()]
    expected += ["负责人：苗学武", "承办人：延娜", "联系电话：2218762", "晋城市工业和信息化局",
                 "2022年6月21日"]
    for paragraph in expected:
        found = text.find(squeeze(paragraph), position)
        assert found >= 0, f"missing or out of order: {paragraph[:30]}"
        position = found + len(squeeze(paragraph))
    assert "**" not in text


def test_reply_letter_fonts_are_embedded_and_subset(seed_pdf):
    fonts = fonts_of(seed_pdf)
    assert len(fonts) >= 4
    assert all(font["embedded"] for font in fonts.values()), fonts
    assert all(font["subset"] for font in fonts.values()), fonts


def test_headings_are_hei_and_kai_and_bold_runs_are_bold(seed_pdf):
    with pdfplumber.open(io.BytesIO(seed_pdf)) as pdf:
        lines = [line for page in pdf.pages for line in lines_of(page)]

    def font_of(start: str) -> str:
        line = next(line for line in lines if squeeze(line_text(line)).startswith(start))
        return line[-1]["fontname"]

    assert "Sans" in font_of("一、晋城市5G基站建设情况")
    assert "WenKai" in font_of("（一）政策保障")
    assert "WenKai" in font_of("(三)5G赋能产业发展情况")
    title = next(line for line in lines if line[0]["size"] == pytest.approx(22, abs=0.1))
    assert "Bold" in title[0]["fontname"]
    assert squeeze(line_text(title)) == "关于市八届人大一次会议第120号建议的回复"
    # "(二) 推进5G产业化应用。" in kai, the rest of that paragraph in the body face.
    chars = [char for line in lines for char in line]
    text = "".join(char["text"] for char in chars)
    start = text.index("(二)")
    sentence_end = text.index("。", start)
    assert "WenKai" in chars[sentence_end]["fontname"]
    assert "WenKai" not in chars[sentence_end + 1]["fontname"]
    bold = text.index("工业方面")
    assert all("Bold" in chars[bold + i]["fontname"] for i in range(4))
    assert "Bold" not in chars[bold + 4]["fontname"]


def test_page_numbers_sit_on_the_outside_edge_below_the_text_block(seed_pdf):
    with pdfplumber.open(io.BytesIO(seed_pdf)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            line = next(line for line in lines_of(page)
                        if squeeze(line_text(line)) == f"—{number}—")
            assert line[0]["size"] == pytest.approx(14, abs=0.1)
            if number % 2:
                assert line[0]["x0"] > PAGE_W / 2, "odd pages: right"
            else:
                assert line[-1]["x1"] < PAGE_W / 2, "even pages: left"
            # 7 mm below the text block (which ends 35 mm above the page's bottom edge).
            assert line[0]["top"] / MM == pytest.approx(297 - 35 + 7, abs=2)


def test_signed_letter_carries_its_verification_code_and_qr(seed_pdf, demo):
    from pypdf import PdfReader

    reply = demo.replies.get()
    text = squeeze(text_of(seed_pdf))
    code = reply.verification_code
    assert f"{code[:4]}-{code[4:8]}-{code[8:]}" in text
    assert f"/verify/{code}/" in text
    assert reply.content_hash in text
    last = PdfReader(io.BytesIO(seed_pdf)).pages[-1]
    images = [x for x in last["/Resources"]["/XObject"].values()
              if x.get_object()["/Subtype"] == "/Image"]
    assert len(images) == 1


def test_draft_has_no_verification_and_shows_number_copy_to_and_category(draft):
    draft.doc_number = "建议字〔2023〕8号"
    draft.copy_to = "市人大常委会代表工委，市政府督查室"
    draft.category = "B"
    draft.save()
    text = squeeze(text_of(render_reply_pdf(draft)))
    assert "验证码" not in text
    assert "建议字〔2023〕8号" in text
    assert "抄送：市人大常委会代表工委，市政府督查室。" in text
    assert "办理结果：B类" in text
    assert "关于市八届人大一次会议第123号建议的回复" in text


def test_rare_characters_fall_back_to_a_font_that_has_them(draft, caplog):
    # 䶮 (CJK extension A) is outside the prepared GB 2312 faces but in Noto CJK;
    # 𠀀 (extension B) is in no Noto font: HanaMin has it.
    draft.salutation = "王䶮代表："
    draft.body = "关于𠀀字的说明。\n感谢您对我们工作的关心和支持。"
    draft.save()
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_reply_pdf(draft)
    assert not [r for r in caplog.records if "notdef" in r.getMessage()], caplog.text
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        chars = {char["text"]: char["fontname"] for page in document.pages for char in page.chars}
    assert "䶮" in chars and "𠀀" in chars
    assert "GW" not in chars["䶮"]  # a full system font, not the prepared one
    assert "HanaMin" in chars["𠀀"], (
        "No installed font has U+20000: install fonts-hanazono (Makefile SYSTEM_PACKAGES)."
    )
    assert "王䶮代表：" in squeeze(text_of(pdf))


def test_letter_markup_is_escaped(draft):
    draft.body = "<b>不是标签</b> & **加粗**\n一、标题"
    draft.save()
    text = squeeze(text_of(render_reply_pdf(draft)))
    assert "<b>不是标签</b>&加粗" in text


def test_letterhead_makes_a_letter_layout_without_a_first_page_number(draft):
    from suggestions.models import HandlingUnit

    HandlingUnit.objects.filter(pk=draft.issuing_unit_id).update(letterhead="晋城市工业和信息化局")
    draft.refresh_from_db()
    draft.body = "\n".join(["关于有关情况的详细说明，特此答复。" * 6] * 12)
    draft.save()
    pdf = render_reply_pdf(draft)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) >= 2
        first = [squeeze(line_text(line)) for line in lines_of(document.pages[0])]
        second = [squeeze(line_text(line)) for line in lines_of(document.pages[1])]
        head = next(c for c in document.pages[0].chars if c["text"] == "晋")
    assert first[0] == "晋城市工业和信息化局"
    assert head["non_stroking_color"] not in (None, (0,), [0], (0, 0, 0))  # printed in red
    assert "—1—" not in first
    assert "—2—" in second


def test_signed_letter_carries_the_units_seal_over_the_issuer(demo, settings, tmp_path):
    from django.core.files.base import ContentFile
    from PIL import Image
    from pypdf import PdfReader

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGBA", (120, 120), (200, 0, 0, 128)).save(buffer, format="PNG")
    reply = demo.replies.get()
    reply.issuing_unit.seal.save("seal.png", ContentFile(buffer.getvalue()))
    pdf = render_reply_pdf(reply)
    last = PdfReader(io.BytesIO(pdf)).pages[-1]
    images = [x.get_object() for x in last["/Resources"]["/XObject"].values()
              if x.get_object()["/Subtype"] == "/Image"]
    assert len(images) == 2  # the seal and the QR code
    assert "晋城市工业和信息化局2022年6月21日" in squeeze(text_of(pdf))
