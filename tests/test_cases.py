"""Golden fixtures in the style of black's tests/data/cases: every submission in
tests/data/cases declares, in a header comment, the root findings the grader
must report (`# expect: CODE LOCATION`, `# expect-warning: ...`,
`# expect-info: ...`, `# expect: nothing`), and optionally `# status: failed`,
`# params: N`, `# assignment: variant` and `# score: N` (or `# score: <= N`). One parametrized test checks them all
through the real pipeline: child process, sandbox, trace, diagnosis, score."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from grader import check
from grader.render import render_html
from grader.report import CODES, Report
from grader.submission import load
from test_html import CONSOLE_ERRORS, assert_self_contained, chromium, needs_chromium, parse, texts

CASES = Path(__file__).parent / "data" / "cases"
HEADER = re.compile(r"^\s*#\s*(expect(?:-warning|-info)?|status|params|assignment|score):\s*(.+?)\s*$")
SEVERITY = {"expect": "error", "expect-warning": "warning", "expect-info": "info"}


ASSIGNMENT = re.compile(r"#\s*assignment:\s*([\w.-]+)")


def graded_today(path: Path) -> bool:
    """Cases of the GoogLeNet assignments only, for now: the ResNet-50 / DenseNet-121
    fixtures (`# assignment: resnet50`, ...) wait for the architecture-agnostic engine
    (issue 16); remove this filter then."""
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    found = {a for f in files if f.suffix in (".py", ".ipynb") for a in ASSIGNMENT.findall(f.read_text(encoding="utf-8"))}
    return found <= {"default", "variant"}


def case_paths():
    return sorted(p for p in CASES.iterdir() if not p.name.startswith(".") and (p.is_dir() or p.suffix in (".py", ".ipynb"))
                  and graded_today(p))


def read_header(path: Path, entry_names) -> dict:
    sub = load(path, entry_names)
    text = sub.cells[0] if sub.notebook else sub.files[sub.entry].decode()
    h = {"expect": set(), "status": "graded", "params": None, "assignment": "default", "nothing": False, "score": None}
    for line in text.splitlines()[:40]:
        m = HEADER.match(line)
        if not m:
            continue
        key, value = m.groups()
        if key.startswith("expect"):
            if value == "nothing":
                h["nothing"] = True
                continue
            code, location = value.split()[:2]
            assert code in CODES, f"{path.name}: unknown code {code} in its header"
            h["expect"].add((code, location, SEVERITY[key]))
        elif key == "status":
            h["status"] = value
        elif key == "params":
            h["params"] = int(value.replace(",", ""))
        elif key == "assignment":
            h["assignment"] = value
        elif key == "score":
            at_most = value.startswith("<=")
            h["score"] = (at_most, float(value.lstrip("<= ")))
    return h


def test_there_are_enough_cases():
    names = [p.name for p in case_paths()]
    assert sum(n.startswith("correct_") for n in names) >= 6
    assert sum(n.startswith(("fails_", "warns_")) for n in names) >= 25
    assert sum("multi" in n for n in names) >= 3


@pytest.mark.parametrize("path", case_paths(), ids=lambda p: p.name)
def test_case(path, assignment, variant, ref_graph, variant_ref_graph, use_sandbox):
    h0 = read_header(path, assignment.entry_files + variant.entry_files)
    A, ref = (variant, variant_ref_graph) if h0["assignment"] == "variant" else (assignment, ref_graph)
    report, sub = check.grade(path, A, use_sandbox=use_sandbox, ref=ref, timeout_s=20 if "timeout" in path.name else None)
    h = h0
    roots = {(f.code, f.location): f for f in report.findings if f.caused_by is None}
    got = {(c, l) for c, l in roots}
    for code, location, severity in h["expect"]:
        assert (code, location) in got, f"missing root {code} at {location}; roots: {sorted(got)}"
        assert roots[(code, location)].severity == severity, f"{code} at {location} should be a {severity}"
    expected = {(c, l) for c, l, _ in h["expect"]}
    unexpected = sorted(k for k, f in roots.items() if f.severity == "error" and k not in expected)
    assert not unexpected, f"unexpected root errors: {unexpected}"
    # consequences hang from roots that exist
    ids = {f.id for f in report.findings}
    for f in report.findings:
        assert f.caused_by is None or f.caused_by in ids
        assert f.deduction >= 0
    # every root error that is a fault of a layer points at the student's line
    for (code, location), f in roots.items():
        if f.severity == "error" and code not in ("timeout", "no_model", "memory_limit", "params", "aux_missing", "layer_missing"):
            assert f.source is not None and f.source.line >= 1, f"{code} at {location} has no source line"
    assert report.status == h["status"]
    if not any(s == "error" for *_, s in h["expect"]):
        # every correct submission, in every style, and every allowed substitution, scores full marks
        assert report.score == report.max_score, [(p.name, p.summary) for p in report.parts if p.score < p.max_score]
    else:
        assert report.score < report.max_score
    assert 0 <= report.score <= report.max_score
    if h["score"] is not None:
        at_most, value = h["score"]
        assert report.score <= value if at_most else report.score == value, (report.score, [(p.name, p.score, p.summary) for p in report.parts])
    if h["params"] is not None and report.status == "graded":
        assert report.model.total_params == h["params"]
    if report.status == "graded":  # the report says which object was graded and how it was found
        assert report.model.origin is not None and report.model.origin.how in ("object", "builder", "global", "constructed")
    # the JSON has the documented shape and round-trips
    d = json.loads(report.to_json())
    assert d["schema"] == "grader.report/1"
    for key in ("submission", "status", "score", "max_score", "parts", "findings", "model"):
        assert key in d
    assert set(d["submission"]) >= {"id", "path", "sha256"}
    for f in d["findings"]:
        assert set(f) >= {"id", "code", "severity", "location", "expected", "actual", "message", "source", "caused_by", "deduction"}
    assert set(d["model"]) >= {"total_params", "reference_total_params", "layers"}
    for row in d["model"]["layers"]:
        assert set(row) >= {"location", "type", "output_shape", "expected_output_shape", "params", "expected_params", "source"}
    assert Report.from_dict(d) == report
    # every fixture gets a self-contained HTML report naming each root with its line
    html = render_html(report, source_files=sub.source_texts() if sub else None)
    doc = parse(html)
    assert_self_contained(html, doc)
    body = " ".join(texts(doc).split())
    for (code, location), f in roots.items():
        assert location in body
        if f.source is not None and f.severity == "error":
            assert str(f.source.line if f.source.cell is None else f.source.cell_line) in body


@needs_chromium
def test_multi_fault_report_in_chromium(tmp_path, assignment, ref_graph, use_sandbox):
    """The seed-like submission, opened in a real browser: content, and a
    screenshot kept in tests/artifacts to look at."""
    report, sub = check.grade(CASES / "fails_multi_student.py", assignment, use_sandbox=use_sandbox, ref=ref_graph)
    page = tmp_path / "report.html"
    page.write_text(render_html(report, source_files=sub.source_texts()), encoding="utf-8")
    run = chromium("--dump-dom", page.as_uri())
    assert not CONSOLE_ERRORS.search(run.stderr), run.stderr[-2000:]
    dom = run.stdout
    for f in report.roots():
        assert f.location in dom
    artifacts = Path(__file__).parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "report_fails_multi_student.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,4000", page.as_uri())
    assert shot.stat().st_size > 10_000
