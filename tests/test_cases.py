"""Golden fixtures in the style of black's tests/data/cases: every submission in
tests/data/cases declares, in a header comment, the root findings the grader
must report (`# expect: CODE LOCATION`, `# expect-warning: ...`,
`# expect-info: ...`, `# expect: nothing`), and optionally `# status: failed`,
`# params: N`, `# assignment: variant`, `# score: N` (or `# score: <= N`) and `# line: CODE LOCATION N`
(the root's line in the student's file, or in its cell). One parametrized test checks them all
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
HEADER = re.compile(r"^\s*#\s*(expect(?:-warning|-info)?|status|params|assignment|score|line):\s*(.+?)\s*$")
SEVERITY = {"expect": "error", "expect-warning": "warning", "expect-info": "info"}


ASSIGNMENT = re.compile(r"^#\s*assignment:\s*([\w.-]+)\s*$", re.M)
#: `# solution: NAME`: graded against the instructor's solution in tests/data/solutions/NAME/
SOLUTION = re.compile(r"^#\s*solution:\s*([\w.-]+)\s*$", re.M)
REFERENCE = Path(__file__).resolve().parent.parent / "reference"
SOLUTIONS = Path(__file__).resolve().parent / "data" / "solutions"


def assignment_path(name: str) -> Path:
    """`# assignment: NAME` -> the assignment file: `default` is the paper's GoogLeNet,
    `variant` its course variant, any other NAME is reference/NAME.toml;
    `solution:NAME` (from `# solution: NAME`) is tests/data/solutions/NAME/assignment.toml."""
    if name.startswith("solution:"):
        return SOLUTIONS / name.split(":", 1)[1] / "assignment.toml"
    return {"default": REFERENCE / "assignment.toml", "variant": REFERENCE / "assignment_variant.toml"}.get(
        name, REFERENCE / f"{name}.toml")


def case_paths():
    return sorted(p for p in CASES.iterdir() if not p.name.startswith(".") and (p.is_dir() or p.suffix in (".py", ".ipynb")))


def cases() -> list:
    """(path, assignment name, the task's file in a folder or None): a file is one
    case; a folder of a unit's tasks is one case per file that names its assignment."""
    out = []
    for p in case_paths():
        if not p.is_dir():
            head = _head(p)
            m, sol = ASSIGNMENT.search(head), SOLUTION.search(head)
            out.append((p, f"solution:{sol.group(1)}" if sol else m.group(1) if m else "default", None))
            continue
        tasks = [(f, ASSIGNMENT.search(_head(f))) for f in sorted(p.iterdir()) if f.suffix in (".py", ".ipynb")]
        tasks = [(f, m.group(1)) for f, m in tasks if m]
        out += [(p, name, f.name) for f, name in tasks] or [(p, "default", None)]
    return out


def _head(f: Path) -> str:
    text = f.read_text(encoding="utf-8")
    if f.suffix == ".ipynb":
        import json as _json

        cells = [c for c in _json.loads(text)["cells"] if c.get("cell_type") == "code"]
        text = "".join(cells[0]["source"]) if cells else ""
    return "\n".join(text.splitlines()[:40])


def read_header(path: Path, entry_names, file: str | None = None) -> dict:
    sub = load(path, entry_names)
    text = sub.cells[0] if sub.notebook else sub.files[file or sub.entry].decode()
    h = {"expect": set(), "status": "graded", "params": None, "assignment": "default", "nothing": False, "score": None,
         "lines": {}}
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
        elif key == "line":
            code, location, line = value.split()[:3]
            h["lines"][(code, location)] = int(line)
        elif key == "score":
            at_most = value.startswith("<=")
            h["score"] = (at_most, float(value.lstrip("<= ")))
    return h


def test_there_are_enough_cases():
    names = [p.name for p in case_paths()]
    assert sum(n.startswith("correct_") for n in names) >= 6
    assert sum(n.startswith(("fails_", "warns_")) for n in names) >= 25
    assert sum("multi" in n for n in names) >= 3


_ASSIGNMENTS: dict = {}


def graded_against(name: str):
    """(assignment, reference graph), loaded and traced once per test session."""
    if name not in _ASSIGNMENTS:
        from grader.assignment import load as load_assignment

        A = load_assignment(assignment_path(name))
        _ASSIGNMENTS[name] = (A, check.reference_graph(A))
    return _ASSIGNMENTS[name]


CASE_LIST = cases()


@pytest.mark.parametrize("path,name,file", CASE_LIST,
                         ids=[p.name + (f"::{f}" if f else "") for p, _, f in CASE_LIST])
def test_case(path, name, file, use_sandbox):
    A, ref = graded_against(name)
    assert file is None or load(path, A.entry_files).entry == file, f"{A.path} does not pick {file} in {path.name}"
    report, sub = check.grade(path, A, use_sandbox=use_sandbox, ref=ref, timeout_s=20 if "timeout" in path.name else None)
    h = read_header(path, A.entry_files, file)
    roots = {(f.code, f.location): f for f in report.findings if f.caused_by is None}
    got = {(c, l) for c, l in roots}
    for code, location, severity in h["expect"]:
        assert (code, location) in got, f"missing root {code} at {location}; roots: {sorted(got)}"
        assert roots[(code, location)].severity == severity, f"{code} at {location} should be a {severity}"
    for (code, location), line in h["lines"].items():
        f = roots.get((code, location))
        assert f is not None and f.source is not None, f"no root {code} at {location} with a line"
        got_line = f.source.line if f.source.cell is None else f.source.cell_line
        assert got_line == line, f"{code} at {location} points at line {got_line}, not {line}"
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
        assert report.model.origin is not None and report.model.origin.how in ("object", "builder", "global", "constructed", "task", "wrapped")
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
    # and every link within the page leads to a part of it (the contents of any architecture)
    ids = {el.get("id") for el in doc.iter() if el.get("id")}
    links = {el.get("href")[1:] for el in doc.iter() if (el.get("href") or "").startswith("#") and len(el.get("href")) > 1}
    assert links <= ids, sorted(links - ids)
    body = " ".join(texts(doc).split())
    for (code, location), f in roots.items():
        assert location in body
        if f.source is not None and f.severity == "error":
            assert str(f.source.line if f.source.cell is None else f.source.cell_line) in body
    assert_page_says(report, doc, body, A)


def _prose(el) -> str:
    """The text of an element, without what is shown as it came (``pre``: code, captured output)."""
    if el.tag == "pre" or not isinstance(el.tag, str):  # or a comment
        return el.tail or ""
    return (el.text or "") + "".join(_prose(c) for c in el) + (el.tail or "")


def assert_page_says(report, doc, body: str, A) -> None:
    """What the page says of the blocks: the header names the architecture; a correct
    submission (no error) has nothing marked as differing; a residual block is drawn with
    its addition, a dense layer concatenated onto its input."""
    from grader.arch import get as get_arch

    arch = get_arch(report.architecture)
    kicker = doc.find(".//p[@class='kicker']")
    assert arch.title in "".join(kicker.itertext()), "".join(kicker.itertext())
    section = doc.find(".//section[@id='blocks']")
    said = " ".join(texts(section).split())
    # the block drawings and the layer table: a submission with neither an error nor a
    # warning has nothing marked there (an accepted substitution's other parameter count,
    # a bias left out, is no difference)
    if not any(f.severity in ("error", "warning") for f in report.findings):
        assert "differs" not in said and "branch missing" not in said, said[:3000]
        assert not [g for g in section.iter() if "bad" in (g.get("class") or "").split()]
        table = doc.find(".//section[@id='layers']")
        if table is not None:
            marked = [" ".join(texts(tr).split()) for tr in table.iter("tr") if "row-bad" in (tr.get("class") or "")]
            assert not marked and "↳" not in texts(table), marked[:5]
        if arch.name == "densenet121" and report.model.blocks:  # BN-ReLU before each convolution
            assert "BatchNorm" in said and "ReLU" in said
    if arch.reference_file:  # graded against a solution file: the page speaks of the solution, and draws its blocks
        page = " ".join(_prose(doc.find(".//body")).split())  # not the student's code or output, which may say anything
        assert "paper" not in page and "Table 1" not in page, page[:3000]
        assert report.status != "graded" or "No block was built" not in said, said[:3000]
    drawn = {f"block-{i}": b for i, b in enumerate(report.model.blocks)} | {"probe": report.model.probe}
    for article in section.iter("article"):
        if article.get("id", "").startswith("block-") or article.get("id") == "probe":
            words = " ".join(texts(article).split())
            if arch.reference_file:  # the merge as the solution merges: an addition, or a concatenation
                merge = arch.drawing(drawn[article.get("id")]).merge
                assert (" add " in f" {words} " and "concatenate" not in words if merge == "add"
                        else "concatenate" in words and " add " not in f" {words} "), words
            if arch.name == "resnet50":
                assert " add " in f" {words} " and "ReLU" in words and "concatenate" not in words, words
            elif arch.name == "densenet121":
                assert "concatenate onto the input" in words, words


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


#: a correct and a faulty submission of each architecture, for the browser
DRAWN = (("googlenet", "correct_functional.py", "default"), ("googlenet", "fails_multi_student.py", "default"),
         ("resnet50", "correct_resnet50_functional.py", "resnet50"),
         ("resnet50", "fails_resnet50_relu_before_add.py", "resnet50"),
         ("densenet121", "correct_densenet121_functional.py", "densenet121"),
         ("densenet121", "fails_densenet121_no_bottleneck.py", "densenet121"),
         # networks graded against a solution file: a plain chain's runs, a small residual network
         ("vgg16", "fails_vgg16_filters_block3.py", "solution:vgg16"),
         ("resnet_cifar", "correct_resnet_cifar_helper.py", "solution:resnet_cifar"))
# written into a copy of the page (the report itself has no script): what overflows, measured by the browser
MEASURE = """<script>
const wraps = [...document.querySelectorAll('.svg-wrap')];
const cut = wraps.filter(w => w.scrollWidth > w.clientWidth + 1).length;
const wide = document.documentElement.scrollWidth > window.innerWidth;
document.body.insertAdjacentHTML('beforeend', `<p id="measure">drawings=${wraps.length} cut=${cut} page_wider=${wide}</p>`);
</script>"""


@needs_chromium
def test_block_drawings_in_chromium(tmp_path, use_sandbox):
    """A correct and a faulty report of each architecture, opened in a real browser at a
    desktop and a narrow width: every drawing fits its column and the page fits the window
    (no block cut off on the right); screenshots kept in tests/artifacts to look at."""
    artifacts = Path(__file__).parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    for arch, case, name in DRAWN:
        A, ref = graded_against(name)
        report, sub = check.grade(CASES / case, A, use_sandbox=use_sandbox, ref=ref)
        html = render_html(report, source_files=sub.source_texts())
        page = tmp_path / f"{Path(case).stem}.html"
        page.write_text(html, encoding="utf-8")
        measured = tmp_path / f"{Path(case).stem}.measure.html"
        measured.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
        for width in (1280, 700):
            run = chromium("--dump-dom", f"--window-size={width},1000", measured.as_uri())
            m = re.search(r'id="measure">drawings=(\d+) cut=(\d+) page_wider=(\w+)<', run.stdout)
            assert m, run.stdout[-2000:]
            assert int(m.group(1)) > 0 and m.group(2) == "0" and m.group(3) == "false", (case, width, m.group(0))
        shot = artifacts / f"blocks_{Path(case).stem}.png"
        shot.unlink(missing_ok=True)
        # the blocks section alone, the rest of the page hidden, so the drawings are what the picture shows
        only = tmp_path / f"{Path(case).stem}.blocks.html"
        only.write_text(html.replace("</head>", "<style>body>header, main>*:not(#blocks), footer "
                                     "{display:none !important}</style></head>"), encoding="utf-8")
        chromium(f"--screenshot={shot}", "--window-size=1280,1600", only.as_uri())
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000, shot
