"""What the report of a network graded against an instructor's solution file says, opened
in a real headless Chromium as a student would (issue 24): the header names the
assignment and the solution file, the blocks are drawn from the solution's own structure
(a residual block's identity shortcut is a line into the addition, a plain chain's blocks
are its runs of convolutions with their pools), the marks are on what differs, and the
page speaks of the solution, never of a paper or its Table 1."""

from __future__ import annotations

import re
from pathlib import Path

import html5lib
import pytest

from grader import check
from grader.assignment import load as load_assignment
from grader.render import render_html
from test_cases import CASES, SOLUTIONS, graded_against
from test_html import CONSOLE_ERRORS, chromium, local, needs_chromium

pytestmark = needs_chromium


def _words(el) -> str:
    return " ".join("".join(el.itertext()).split())


def open_page(tmp_path: Path, report, sub, lang: str = "en"):
    """The page as Chromium builds it (its DOM after loading), parsed."""
    page = tmp_path / f"{report.submission.id}.{lang}.html"
    page.write_text(render_html(report, lang=lang, source_files=sub.source_texts() if sub else None), encoding="utf-8")
    run = chromium("--dump-dom", page.as_uri())
    assert not CONSOLE_ERRORS.search(run.stderr), run.stderr[-2000:]
    return html5lib.parse(run.stdout, namespaceHTMLElements=False)


def graded(tmp_path, case: str, solution: str, lang: str = "en"):
    A, ref = graded_against(f"solution:{solution}")
    report, sub = check.grade(CASES / case, A, use_sandbox=True, ref=ref)
    return report, open_page(tmp_path, report, sub, lang)


def _box_text(g) -> str:
    """What a box shows (its lines, not its tooltip)."""
    return " ".join(_words(t) for t in g.iter() if local(t.tag) == "text")


def blocks_of(doc) -> list:
    """(block location, kind, badge, every word of the article, the boxes' texts, the marked boxes' texts)
    per drawn block."""
    out = []
    for art in doc.find(".//section[@id='blocks']").iter("article"):
        h = art.find("h3")
        if h.get("id") == "probe-h":  # the student's block function called alone: probe_of
            continue
        span = {(el.get("class") or "").split()[0]: _words(el) for el in h.findall("span")}
        gs = [g for g in art.iter() if local(g.tag) == "g" and "box" in (g.get("class") or "").split()]
        boxes = [_box_text(g) for g in gs]
        bad = [_box_text(g) for g in gs if "bad" in g.get("class").split()]
        out.append((_words(h.find("code")), span.get("kind", ""), span.get("badge", ""), _words(art), boxes, bad))
    return out


def probe_of(doc):
    """(heading, the boxes' texts, the marked boxes' texts) of the student's block function called alone."""
    for art in doc.find(".//section[@id='blocks']").iter("article"):
        h = art.find("h3")
        if h.get("id") == "probe-h":
            gs = [g for g in art.iter() if local(g.tag) == "g" and "box" in (g.get("class") or "").split()]
            return (_words(h), [_box_text(g) for g in gs], [_box_text(g) for g in gs if "bad" in g.get("class").split()])
    return None


def assert_speaks_of_the_solution(doc):
    body = _words(doc.find(".//body"))
    for word in ("paper", "Table 1", "branch missing", "No block was built"):
        assert word not in body, (word, body[:2000])


def test_resnet_cifar_correct_page(tmp_path):
    report, doc = graded(tmp_path, "correct_resnet_cifar_helper.py", "resnet_cifar")
    assert report.score == report.max_score
    assert _words(doc.find(".//p[@class='kicker']")) == "ResNet-14 (CIFAR-10) · graded against solution.py"
    assert_speaks_of_the_solution(doc)
    blocks = blocks_of(doc)
    assert [(loc, kind) for loc, kind, *_ in blocks] == [
        ("s1b1", "identity block"), ("s1b2", "identity block"), ("s2b1", "projection block"),
        ("s2b2", "identity block"), ("s3b1", "projection block"), ("s3b2", "identity block")]
    for loc, kind, badge, words, _, bad in blocks:
        assert "as in the solution" in badge and not bad, (loc, badge, bad)
        assert " add " in f" {words} " and "ReLU →" in words and "concatenate" not in words, words
        assert "BN · ReLU" in words and "BN · no activation" in words  # the BatchNormalization folded into each conv
        # the identity shortcut is a line into the addition; a projection block's shortcut is its 1x1 convolution
        if kind == "identity block":
            assert "identity shortcut" in words and "conv 1×1" not in words, words
        else:
            assert "identity shortcut" not in words and "conv 1×1" in words, words
    # [functions]: its res_block(x, filters, downsample=False) called alone, with its filters alone
    heading, boxes, bad = probe_of(doc)
    assert heading == "Your block function, called alone (identity block) ✓ as expected" and not bad, heading
    assert [b for b in boxes if b.startswith("conv")] == [
        "conv 3×3 11 filters BN · ReLU ← filters", "conv 3×3 11 filters BN · no activation ← filters"], boxes
    assert "identity shortcut" in boxes and "add" in boxes, boxes


def test_resnet_cifar_fault_after_the_addition_marks_the_merge(tmp_path):
    report, doc = graded(tmp_path, "fails_resnet_cifar_no_relu_after_add.py", "resnet_cifar")
    assert_speaks_of_the_solution(doc)
    blocks = blocks_of(doc)
    assert len(blocks) == 6
    for loc, kind, badge, words, _, bad in blocks:
        assert "differs" in badge, (loc, badge)
        # the addition and what follows it are marked; the convolutions and the shortcut are as in the solution
        assert bad and all("✗ add" in b or "✗ ReLU" in b for b in bad), (loc, bad)
        assert not [b for b in bad if "conv" in b or "shortcut" in b], (loc, bad)


def test_vgg16_correct_page(tmp_path):
    report, doc = graded(tmp_path, "correct_vgg16_sequential.py", "vgg16")
    assert report.score == report.max_score
    assert _words(doc.find(".//p[@class='kicker']")) == "VGG-16 (configuration D) · graded against solution.py"
    assert_speaks_of_the_solution(doc)
    legend = _words(doc.find(".//section[@id='blocks']/p[@class='legend']"))
    assert "up to the pool" in legend and "differ from the solution" in legend and "merged" not in legend, legend
    blocks = blocks_of(doc)
    assert [loc for loc, *_ in blocks] == ["block1", "block2", "block3", "block4", "block5"]
    filters = (64, 128, 256, 512, 512)
    for (loc, kind, badge, words, boxes, bad), convs, n in zip(blocks, (2, 2, 3, 3, 3), filters):
        assert kind == "convolution block" and "as in the solution" in badge and not bad, (loc, badge, bad)
        # its convolutions in a row, then the pool that closes it
        assert boxes == [f"conv 3×3 {n} filters ReLU"] * convs + ["max pool 2×2/2"], (loc, boxes)
        assert f"{loc}_pool: max pool 2×2/2" in words, words


def test_vgg16_fault_marks_its_layer_in_its_block(tmp_path):
    report, doc = graded(tmp_path, "fails_vgg16_filters_block3.py", "vgg16")
    assert_speaks_of_the_solution(doc)
    blocks = {loc: (badge, bad) for loc, _, badge, _, _, bad in blocks_of(doc)}
    assert set(blocks) == {"block1", "block2", "block3", "block4", "block5"}
    for loc, (badge, bad) in blocks.items():
        if loc == "block3":
            assert "differs" in badge and len(bad) == 1, (badge, bad)
            assert bad == ["✗ conv 3×3 128 filters ReLU solution: 256"], bad
        else:
            assert "as in the solution" in badge and not bad, (loc, badge, bad)


def test_vgg16_missing_layer_is_a_missing_box(tmp_path):
    report, doc = graded(tmp_path, "fails_vgg16_missing_conv_block4.py", "vgg16")
    blocks = {loc: (badge, boxes, bad) for loc, _, badge, _, boxes, bad in blocks_of(doc)}
    badge, boxes, bad = blocks["block4"]
    assert "differs" in badge and len(boxes) == 4 and bad == [boxes[2]], boxes
    assert bad == ["✗ missing 3x3 convolution"], bad
    assert all("as in the solution" in b for loc, (b, _, _) in blocks.items() if loc != "block4")


def test_googlenet_lite_pages(tmp_path):
    report, doc = graded(tmp_path, "correct_glite_tuple_helper.py", "googlenet_lite")
    assert _words(doc.find(".//p[@class='kicker']")) == "GoogLeNet-lite (CIFAR-10) · graded against solution.py"
    assert_speaks_of_the_solution(doc)
    blocks = blocks_of(doc)
    assert [loc for loc, *_ in blocks] == ["stage1/block1", "stage1/block2", "stage2/block1", "stage2/block2"]
    for loc, kind, badge, words, boxes, bad in blocks:
        assert "as in the solution" in badge and not bad, (loc, badge, bad)
        assert "concatenate →" in words and " add " not in f" {words} " and "max pool 3×3" in words, words
        # four branches side by side: 1x1, reduce and 3x3, reduce and 5x5, pool and 1x1
        assert sum(b.startswith("conv ") for b in boxes) == 6 and sum(b.startswith("max pool") for b in boxes) == 1, boxes
    heading, boxes, bad = probe_of(doc)
    assert heading == "Your block function, called alone (concat block) ✓ as expected" and not bad, heading
    report, doc = graded(tmp_path, "fails_glite_argument_misuse.py", "googlenet_lite")
    heading, boxes, bad = probe_of(doc)  # the 5x5 that takes f3's count: marked in the function called alone
    assert "✗ differs" in heading and len(bad) == 1 and "← f3" in bad[0], (heading, bad)
    # each block's 5x5 marked with the count the solution has there (not the argument's name)
    marked = {loc: bad for loc, _, _, _, _, bad in blocks_of(doc) if bad}
    assert marked["stage1/block1"] == ["✗ conv 5×5 64 filters BN · ReLU solution: 16"], marked
    report, doc = graded(tmp_path, "fails_glite_filters_block3.py", "googlenet_lite")
    assert_speaks_of_the_solution(doc)
    marked = {loc: bad for loc, _, _, _, _, bad in blocks_of(doc) if bad}
    assert list(marked) == ["stage2/block1"] and len(marked["stage2/block1"]) == 1, marked
    assert marked["stage2/block1"] == ["✗ conv 3×3 112 filters BN · ReLU solution: 104"], marked


def test_solution_page_in_korean(tmp_path):
    report, doc = graded(tmp_path, "correct_resnet_cifar_two_functions.py", "resnet_cifar", lang="ko")
    assert _words(doc.find(".//p[@class='kicker']")) == "ResNet-14 (CIFAR-10) · solution.py 기준 채점"
    blocks = blocks_of(doc)
    assert len(blocks) == 6 and all("모범 답안과 같음" in badge and not bad for _, _, badge, _, _, bad in blocks)
    assert "항등 블록" in {kind for _, kind, *_ in blocks}
    assert "논문" not in _words(doc.find(".//section[@id='blocks']"))


def test_solution_without_an_assignment_file_names_the_file(tmp_path):
    """``grader check FILE --solution solution.py``: no assignment name to show, the header says what it was graded against."""
    from test_cases import _ASSIGNMENTS

    key = "solution-only:googlenet_lite"
    if key not in _ASSIGNMENTS:
        A = load_assignment(None, solution=SOLUTIONS / "googlenet_lite" / "solution.py")
        _ASSIGNMENTS[key] = (A, check.reference_graph(A))
    A, ref = _ASSIGNMENTS[key]
    report, sub = check.grade(CASES / "correct_glite_subclass_config.py", A, use_sandbox=True, ref=ref)
    doc = open_page(tmp_path, report, sub)
    kicker = _words(doc.find(".//p[@class='kicker']"))
    assert kicker == "Graded against the network of solution.py", kicker
    assert not re.search(r"assignment|Solution", kicker)
    assert_speaks_of_the_solution(doc)
    assert len(blocks_of(doc)) == 4
