"""The consultation record (面商记录表) PDF, read back."""

import io
import re

import pdfplumber
import pytest

from documents.pdf import render_consultation_pdf
from documents.pdfcheck import fonts_of, text_of

MM = 72 / 25.4


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def record(demo):
    return demo.consultations.get()


def chars_of(pdf: bytes) -> list[dict]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [dict(char, page=n) for n, page in enumerate(document.pages)
                for char in page.chars]


def ticked_category(pdf: bytes) -> str:
    """The category whose cell the ✓ is in: the nearest "X类" label to its left."""
    chars = chars_of(pdf)
    ticks = [c for c in chars if c["text"] == "✓"]
    assert len(ticks) == 1, "exactly one tick"
    tick = ticks[0]
    labels = [c for c in chars if c["text"] in "ABCD" and abs(c["top"] - tick["top"]) < 12
              and c["x1"] <= tick["x0"]]
    return max(labels, key=lambda c: c["x1"])["text"]


def test_seed_record_reproduces_the_paper_form_on_one_a4_page(record):
    pdf = render_consultation_pdf(record)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) == 1
        page = document.pages[0]
        assert (page.width / MM, page.height / MM) == pytest.approx((210, 297), abs=0.5)
    text = squeeze(text_of(pdf))
    for expected in [
        "晋城市人大代表建议面商记录表", "承办单位：晋城市工信局", "建议编号：120",
        "代表姓名苏红平", "工作单位山西红萍服饰有限公司", "联系电话13935685333",
        "建议主要内容：", "政府应加大宣传力度和投入力度与5G运营商开展合作",
        "答复意见要点：", "截至2022年5月底，全市累计建成开通5G基站2940个。",
        "办理情况（划勾）", "代表意见和要求：", "非常满意。", "签字：苏红平",
        "面商时间2022年6月24日", "面商地点德源大酒店", "面商人卢建超郝娜", "联系电话2218762",
    ]:
        assert squeeze(expected) in text, expected
    assert all(font["embedded"] and font["subset"] for font in fonts_of(pdf).values())


def test_tick_is_on_the_proposed_category(record):
    assert ticked_category(render_consultation_pdf(record)) == "A"
    type(record).objects.filter(pk=record.pk).update(proposed_category="C")
    record.refresh_from_db()
    assert ticked_category(render_consultation_pdf(record)) == "C"


def test_categories_follow_the_setting(record, settings):
    settings.HANDLING_CATEGORIES = ["A", "B", "C"]
    text = squeeze(text_of(render_consultation_pdf(record)))
    assert "A类" in text and "C类" in text and "D类" not in text


def test_unsigned_record_has_an_empty_signature_line(record):
    from consultations.models import Signature

    type(record).objects.filter(pk=record.pk).update(signature=Signature.PENDING)
    record.refresh_from_db()
    text = squeeze(text_of(render_consultation_pdf(record)))
    assert "签字：" in text and "签字：苏红平" not in text


def test_long_content_flows_to_a_second_page_without_overlapping(record):
    sentence = "建议进一步加强 5G 基站建设，完善配套政策，推动 5G 应用在各行业落地见效。"
    record.content_summary = "\n".join([sentence * 6] * 8)
    record.reply_points = "\n".join([sentence * 5] * 6)
    record.save()
    pdf = render_consultation_pdf(record)
    chars = chars_of(pdf)
    assert max(c["page"] for c in chars) >= 1, "flows to a second page"
    text = squeeze(text_of(pdf))
    for label in ("建议主要内容：", "答复意见要点：", "办理情况（划勾）", "面商时间"):
        assert text.count(label) == 1, label
    assert text.count("5G应用在各行业落地见效") == 8 * 6 + 6 * 5
    for page in {c["page"] for c in chars}:
        on_page = [c for c in chars if c["page"] == page and c["text"].strip()]
        assert not overlapping(on_page)
        body = [c for c in on_page if c["size"] > 10]  # not the page footer
        assert all(22 * MM - 1 <= c["top"] and c["bottom"] <= 277 * MM + 1 for c in body)


def overlapping(chars: list[dict]) -> list[tuple[str, str]]:
    """Pairs of characters whose boxes overlap (beyond touching), found through a grid."""
    grid: dict[tuple[int, int], list[dict]] = {}
    found = []
    for char in chars:
        box = (char["x0"] + 0.5, char["top"] + 0.5, char["x1"] - 0.5, char["bottom"] - 0.5)
        cells = [(x, y) for x in range(int(box[0] // 20), int(box[2] // 20) + 1)
                 for y in range(int(box[1] // 20), int(box[3] // 20) + 1)]
        for cell in cells:
            for other in grid.get(cell, []):
                if (box[0] < other["box"][2] and other["box"][0] < box[2]
                        and box[1] < other["box"][3] and other["box"][1] < box[3]):
                    found.append((char["text"], other["text"]))
            grid.setdefault(cell, []).append({"box": box, "text": char["text"]})
    return found


def opinion_box_text(pdf: bytes) -> str:
    """The text between 代表意见和要求： and the row below the box (面商时间)."""
    text = squeeze(text_of(pdf))
    start = text.index("代表意见和要求：")
    return text[start:text.index("面商时间", start)]


def test_satisfaction_is_printed_in_the_opinion_box(record):
    from suggestions.models import Rating

    assert record.satisfaction == Rating.SATISFIED  # the seed: 满意, signed by the deputy
    pdf = render_consultation_pdf(record)
    assert "满意程度：满意" in opinion_box_text(pdf)
    # On the signature's line, at its left, and still one page.
    chars = chars_of(pdf)
    signature = next(c for c in chars if c["text"] == "签")
    line = [c for c in chars if abs(c["top"] - signature["top"]) < 3]
    assert squeeze("".join(c["text"] for c in sorted(line, key=lambda c: c["x0"]))) == (
        "满意程度：满意签字：苏红平"
    )
    assert max(c["page"] for c in chars) == 0
    assert not overlapping([c for c in chars if c["text"].strip()])


@pytest.mark.parametrize("rating, printed", [
    ("basically", "基本满意"),
    ("unsatisfied", "不满意"),
])
def test_each_rating_prints_as_the_form_writes_it(record, rating, printed):
    type(record).objects.filter(pk=record.pk).update(satisfaction=rating)
    record.refresh_from_db()
    box = opinion_box_text(render_consultation_pdf(record))
    assert f"满意程度：{printed}签字：" in box


def test_every_rating_has_a_printed_form():
    from documents.pdf import SATISFACTION_LABELS  # the labels the record prints
    from suggestions.models import Rating

    assert set(SATISFACTION_LABELS) == set(Rating.values)


def test_blank_satisfaction_prints_nothing(record):
    type(record).objects.filter(pk=record.pk).update(satisfaction="")
    record.refresh_from_db()
    box = opinion_box_text(render_consultation_pdf(record))
    assert "满意程度" not in box
    assert box == "代表意见和要求：非常满意。签字：苏红平"
