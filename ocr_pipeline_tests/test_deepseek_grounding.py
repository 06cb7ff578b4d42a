"""Grounding output, HTML tables, precision choice and page assembly for the DeepSeek engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr_pipeline.models import PageRef, PageStatus
from ocr_pipeline.ocr.deepseek_common import NO_EOS_REASON, NON_FINITE_REASON, build_page, resolve_prompt, token_offsets
from ocr_pipeline.ocr.grounding import lines_from_blocks, parse_boxes, parse_grounding, split_pages
from ocr_pipeline.ocr.hardware import Precision, UnsupportedHardware, choose_precision
from ocr_pipeline.ocr.html_table import parse_table, table_lines

FIXTURES = Path(__file__).parent / "fixtures" / "deepseek"
W, H = 1000, 2000
REF = PageRef("doc", 1, W, H, 144)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_regions_labels_boxes_and_text() -> None:
    regions = parse_grounding(fixture("catalog_page.txt"), W, H)
    assert [r.label for r in regions] == [
        "title",
        "sub_title",
        "text",
        "table_caption",
        "table",
        "image",
        "image_caption",
        "equation",
        "text",
    ]
    title = regions[0]
    assert title.box == pytest.approx((96 / 999 * W, 40 / 999 * H, 620 / 999 * W, 78 / 999 * H))
    assert title.text == "# Mathematics Courses"
    assert regions[5].text == "" and regions[5].box_ok
    assert regions[-1].text == ""  # a region with no content
    assert all(r.box_ok for r in regions)


def test_lines_in_reading_order_with_bold_titles_and_table_rows() -> None:
    regions = parse_grounding(fixture("catalog_page.txt"), W, H)
    lines = lines_from_blocks([r.block(0.9) for r in regions])
    texts = [line.text for line in lines]
    assert texts[:4] == [
        "Mathematics Courses",
        "MATH 101 Calculus I (4 credits)",
        "Prerequisite: MATH 100 or placement.",
        "Limits, derivatives and integrals.",
    ]
    assert lines[0].bold and lines[0].label == "title" and lines[1].bold
    assert lines[2].bold_chars == len("Prerequisite:") and not lines[2].bold
    assert lines[3].bold_chars is None and not lines[3].bold
    assert "MATH 101 | Fall" in texts and "MATH 101 | MWF 9:00 | Room 12" in texts
    assert "Figure 1. The campus" in texts and not any(line.label == "image" for line in lines)
    assert all(line.confidence == 0.9 for line in lines)


def test_malformed_and_truncated_boxes_keep_text_and_are_flagged() -> None:
    regions = parse_grounding(fixture("broken_page.txt"), W, H)
    assert [r.box_ok for r in regions] == [True, False, True, False]
    assert regions[1].text == "PHYS 201 Mechanics (3 credits)" and regions[1].box == (0.0, 0.0, W, H)
    assert regions[3].text == ""
    page = build_page("x", fixture("broken_page.txt"), REF, 0.1)
    assert page.status is PageStatus.NEEDS_REVIEW
    assert page.reasons == ("2 grounding region(s) without a valid box",)


@pytest.mark.parametrize("det", ["[[1, 2, 3]]", "__import__('os')", "[[5, 5, 1, 1]]", "[[True, 1, 2, 3]]", "", "[[1,"])
def test_parse_boxes_rejects_bad_input(det: str) -> None:
    assert parse_boxes(det, W, H) == []


def test_parse_boxes_clamps_and_accepts_a_flat_box() -> None:
    assert parse_boxes("[0, 0, 1200, 999]", 999, 999) == [(0.0, 0.0, 999.0, 999.0)]


def test_page_split_and_free_text() -> None:
    first, second = split_pages(fixture("two_pages.txt"))
    regions = parse_grounding(first, W, H)
    assert [(r.label, r.text) for r in regions] == [("text", "Free text before any tag"), ("text", "Page one body")]
    assert parse_grounding(second, W, H)[0].text == "# Page two"
    assert parse_grounding("just words\nmore", W, H)[0].box == (0.0, 0.0, W, H)


def test_table_grid_with_spans() -> None:
    html = fixture("catalog_page.txt").split("<table>")[1].split("</table>")[0]
    grid = parse_table(f"<table>{html}</table>")
    assert grid == [
        ["MATH 101", "Fall", "Fall"],
        ["MATH 101", "MWF 9:00", "Room 12"],
        ["MATH 102", "TTh 10:00", "Room 14"],
    ]
    assert table_lines("<table><tr><td>a<br>b</td><td></td></tr></table>") == ["a b"]
    assert parse_table("<table></table>") == [] and table_lines("<table><tr><td colspan=x>z</td>") == ["z"]


def test_build_page_scores_blocks_from_token_spans() -> None:
    raw = "<|ref|>title<|/ref|><|det|>[[0, 0, 999, 99]]<|/det|>\n# A\n<|ref|>text<|/ref|><|det|>[[0, 100, 999, 199]]<|/det|>\nB"
    cut = raw.index("<|ref|>text")
    offsets = [(0, cut // 2), (cut // 2, cut), (cut, len(raw))]
    page = build_page("e", raw, REF, 0.5, offsets=offsets, probs=[0.9, 0.5, 0.2], complete=False)
    assert [b.confidence for b in page.blocks] == pytest.approx([0.7, 0.2])
    assert [b.min_confidence for b in page.blocks] == pytest.approx([0.5, 0.2])
    assert page.confidence == pytest.approx(1.6 / 3)
    assert page.status is PageStatus.NEEDS_REVIEW and page.reasons == (NO_EOS_REASON,)
    assert build_page("e", "", REF, 0).reasons == ("empty output",)


def test_pages_without_scores_are_confident_only_when_complete() -> None:
    raw = fixture("catalog_page.txt")
    assert build_page("e", raw, REF, 0).confidence == 1.0
    cut = build_page("e", raw, REF, 0, complete=False)
    assert cut.confidence == 0.0 and cut.status is PageStatus.NEEDS_REVIEW and cut.reasons == (NO_EOS_REASON,)


def test_non_finite_probabilities_are_zero_and_flagged() -> None:
    raw = "<|ref|>text<|/ref|><|det|>[[0, 0, 999, 99]]<|/det|>\nMATH 101"
    page = build_page("e", raw, REF, 0, offsets=[(0, 10), (10, len(raw))], probs=[float("nan"), 0.8])
    assert page.confidence == pytest.approx(0.4) and page.blocks[0].min_confidence == 0.0
    assert page.status is PageStatus.NEEDS_REVIEW and page.reasons == (NON_FINITE_REASON,)


def test_token_offsets_scale_to_decoded_length() -> None:
    assert token_offsets(["ab", "cd"], 8) == [(0, 4), (4, 8)]
    assert token_offsets([], 3) == []


def test_prompts() -> None:
    assert resolve_prompt("grounding") == "<image>\n<|grounding|>Convert the document to markdown."
    assert resolve_prompt("free") == "<image>\nFree OCR."
    assert resolve_prompt("<image>\nParse the figure.") == "<image>\nParse the figure."
    with pytest.raises(ValueError):
        resolve_prompt("no image tag")


# deepseek-ocr-2: (cuda, capability, flash_attn installed, device, dtype, attention) -> Precision or the refusal's words
V2_TABLE = [
    ((True, (9, 0), True, None, None, None), Precision("cuda", "bfloat16", "flash_attention_2")),  # H100/H200
    ((True, (8, 0), False, None, None, None), Precision("cuda", "bfloat16", "sdpa")),  # A100 without flash-attn
    ((True, (8, 6), True, "cuda:1", "float16", "sdpa"), Precision("cuda:1", "float16", "sdpa")),
    ((True, (8, 0), False, None, None, "flash_attention_2"), "flash_attn package is not installed"),
    ((True, (7, 5), True, None, None, None), Precision("cuda", "float16", "sdpa")),  # T4 / g4dn
    ((True, (7, 5), False, None, "float32", "eager"), Precision("cuda", "float32", "eager")),
    ((True, (7, 5), True, None, "bfloat16", None), "no bfloat16"),
    ((True, (7, 5), True, None, None, "flash_attention_2"), "needs an Ampere"),
    ((True, (6, 1), False, None, None, None), "needs a Volta or newer"),
    ((False, None, True, None, None, None), Precision("cpu", "float32", "sdpa")),
    ((True, (9, 0), True, "cpu", None, None), Precision("cpu", "float32", "sdpa")),  # a forced CPU never gets FA2
    ((True, (9, 0), True, "cpu", None, "flash_attention_2"), "needs an NVIDIA GPU"),
    ((False, None, False, "cpu", "float16", None), "not float16"),
    ((False, None, False, "cuda", None, None), "torch sees no CUDA GPU"),
    ((True, (9, 0), False, "mps", None, None), "use 'cpu', 'cuda'"),
    ((True, (9, 0), False, None, "float8", None), "not one of"),
]


@pytest.mark.parametrize(("machine", "expected"), V2_TABLE)
def test_deepseek_ocr_2_precision_table(machine: tuple, expected: Precision | str) -> None:
    cuda, capability, flash, device, dtype, attn = machine
    options = dict(engine="deepseek-ocr-2", device=device, dtype=dtype, attn_implementation=attn)
    if isinstance(expected, str):
        with pytest.raises(UnsupportedHardware, match=expected):
            choose_precision(cuda, capability, flash, **options)
    else:
        assert choose_precision(cuda, capability, flash, **options) == expected


def test_detect_precision_on_this_machine() -> None:
    import torch

    from ocr_pipeline.ocr.hardware import detect_precision

    expected = (
        ("cuda", "bfloat16" if torch.cuda.get_device_capability()[0] >= 8 else "float16")
        if torch.cuda.is_available()
        else ("cpu", "float32")
    )
    assert (detect_precision().device, detect_precision().dtype) == expected
