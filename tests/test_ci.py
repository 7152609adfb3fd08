"""CI renderers (GitHub annotations/summary, GitLab Code Quality), JUnit XML, and
the CI workflow templates."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from importlib.resources import files
from pathlib import Path

import pytest
import xmlschema
import yaml
from lxml import etree

from grader import __version__
from grader.dist import install_spec
from grader.initci import render_workflow, workflow_path, write_workflow, yaml_scalar
from grader.render.ci import (
    ci_provider,
    github_annotations,
    github_run_url,
    github_step_summary,
    gitlab_codequality,
    gitlab_codequality_json,
    repo_path,
)
from grader.render.junit import junit_xml
from grader.report import Finding, ModelSummary, Part, Report, Source, SubmissionInfo

NOTEBOOK = "GoogLeNet: v1, final.ipynb"
XSD = files("grader") / "schemas" / "junit.xsd"


# -- a report with several faults ----------------------------------------------
def make_report(**over) -> Report:
    findings = [
        Finding(
            id="f1", code="layer_missing", severity="error", location="inception/pool_proj",
            message="the pool projection branch is missing",
            source=Source(file="src/model.py", line=42, code="    return concat([a, b, c])"),
            deduction=5.0, part="inception",
        ),
        Finding(
            id="c1", code="output_shape", severity="error", location="inception_3a/output",
            message="output (None, 28, 28, 224), expected (None, 28, 28, 256)",
            source=Source(file="src/model.py", line=80), caused_by="f1", part="blocks",
        ),
        Finding(
            id="c2", code="params", severity="error", location="inception_3a",
            message="params 159,936, expected 163,696", caused_by="f1", part="params",
        ),
        Finding(
            id="f2", code="kernel_size", severity="error", location="conv2/3x3",
            message="kernel 5x5 is 100% off\nexpected: 3x3, got: 5x5",
            source=Source(file=NOTEBOOK, line=57, cell=4, cell_line=3),
            deduction=5.0, part="stem",
        ),
        Finding(
            id="c3", code="params", severity="error", location="conv2/3x3",
            message="params differ", caused_by="f2", part="stem",
        ),
        Finding(
            id="f3", code="norm_type", severity="warning", location="pool1/norm1",
            message="BatchNormalization used instead of LRN",
            source=Source(file="src/model.py", line=12), part="stem",
        ),
        Finding(
            id="f4", code="branch_order", severity="info", location="inception_4a",
            message="branches concatenated in a different order", part="blocks",
        ),
        Finding(
            id="f5", code="aux_missing", severity="error", location="loss1",
            message="no auxiliary classifier after inception_4a", deduction=5.0, part="aux",
        ),
    ]
    parts = [
        Part("stem", 10, 15, "Stem"),
        Part("inception", 20, 25, "Inception function"),
        Part("blocks", 20, 20, "Inception blocks"),
        Part("layout", 15, 15, "Layout"),
        Part("aux", 5, 10, "Auxiliary classifiers"),
        Part("head", 10, 10, "Head"),
        Part("params", 5, 5, "Parameters"),
    ]
    kw = dict(
        submission=SubmissionInfo(id="alice", path="submissions/alice", sha256="ab" * 32,
                                  kind="folder", entry="src/model.py"),
        status="graded", score=85.0, max_score=100.0, parts=parts, findings=findings,
        model=ModelSummary(total_params=6_000_000, reference_total_params=6_998_552),
        grader_version="0.1.0", graded_at="2025-03-01T12:00:00+00:00", duration_s=3.2,
        stdout="hello from the student\x07\n",
    )
    kw.update(over)
    return Report(**kw)


def failed_report(parts=True) -> Report:
    err = {"type": "ValueError", "message": "Negative dimension size\ncaused by conv2",
           "source": {"file": "src/model.py", "line": 30}}
    finding = Finding(
        id="b1", code="build_error", severity="error", location="",
        message="ValueError: Negative dimension size", source=Source("src/model.py", 30),
    )
    ps = [Part("stem", 0, 15, "Stem"), Part("aux", 0, 10, "Auxiliary classifiers")] if parts else []
    return make_report(status="failed", score=0.0, max_score=25.0, parts=ps,
                       findings=[finding], error=err)


@pytest.fixture
def report():
    return make_report()


# -- GitHub annotations ----------------------------------------------------------
EXPECTED_ANNOTATIONS = [
    "::error file=submissions/alice/src/model.py,line=42,title=layer_missing at inception/pool_proj"
    "::the pool projection branch is missing (2 follow-on findings)",
    "::error file=submissions/alice/GoogLeNet%3A v1%2C final.ipynb,line=1,title=kernel_size at conv2/3x3"
    "::cell 4, line 3: kernel 5x5 is 100%25 off%0Aexpected: 3x3, got: 5x5 (1 follow-on finding)",
    "::warning file=submissions/alice/src/model.py,line=12,title=norm_type at pool1/norm1"
    "::BatchNormalization used instead of LRN",
    "::notice title=branch_order at inception_4a::branches concatenated in a different order",
    "::error title=aux_missing at loss1::no auxiliary classifier after inception_4a",
]


def test_annotations_exact(report, tmp_path):
    lines = github_annotations(report, repo_root=tmp_path, submission_root=tmp_path / "submissions" / "alice")
    assert lines == EXPECTED_ANNOTATIONS


def test_annotations_relative_submission_root(report, tmp_path):
    lines = github_annotations(report, repo_root=tmp_path, submission_root=Path("submissions/alice"))
    assert lines == EXPECTED_ANNOTATIONS


def test_annotations_submission_is_repo_root(report, tmp_path):
    lines = github_annotations(report, repo_root=tmp_path, submission_root=tmp_path)
    assert lines[0].startswith("::error file=src/model.py,line=42,")
    assert lines[1].startswith("::error file=GoogLeNet%3A v1%2C final.ipynb,line=1,")


def test_annotations_escape_properties_and_carriage_returns(tmp_path):
    f = Finding(id="x", code="padding", severity="warning", location="a:b,c%d",
                message="50% same\r\npadding", source=Source("m.py", 3))
    r = make_report(findings=[f])
    (line,) = github_annotations(r, repo_root=tmp_path, submission_root=tmp_path)
    assert line == "::warning file=m.py,line=3,title=padding at a%3Ab%2Cc%25d::50%25 same%0D%0Apadding"


def test_annotations_source_outside_repo(tmp_path):
    f = Finding(id="x", code="strides", severity="error", location="conv1/7x7_s2",
                message="strides 1, expected 2", source=Source("model.py", 9))
    r = make_report(findings=[f])
    repo = tmp_path / "repo"
    (line,) = github_annotations(r, repo_root=repo, submission_root=tmp_path / "elsewhere")
    assert line == "::error title=strides at conv1/7x7_s2::model.py:9: strides 1, expected 2"


def test_annotations_roots_only(report, tmp_path):
    lines = github_annotations(report, repo_root=tmp_path, submission_root=tmp_path)
    assert len(lines) == len(report.roots()) == 5
    assert not any("output_shape" in l or "title=params" in l for l in lines)


def test_annotations_failed_build_without_finding(tmp_path):
    r = failed_report()
    r = Report(**{**r.__dict__, "findings": []})
    (line,) = github_annotations(r, repo_root=tmp_path, submission_root=tmp_path)
    assert line.startswith("::error file=src/model.py,line=30,title=build_error::ValueError: Negative")
    assert "%0A" in line


def test_repo_path():
    assert repo_path("a/b.py", repo_root=Path("/r"), submission_root=Path("/r/s")) == "s/a/b.py"
    assert repo_path("b.py", repo_root=Path("/r"), submission_root=Path("s/../t")) == "t/b.py"
    assert repo_path("b.py", repo_root=Path("/r"), submission_root=Path("/x")) is None


def test_ci_provider():
    assert ci_provider({"GITHUB_ACTIONS": "true"}) == "github"
    assert ci_provider({"GITLAB_CI": "true"}) == "gitlab"
    assert ci_provider({}) is None


def test_github_run_url():
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7"}
    assert github_run_url(env) == "https://github.com/o/r/actions/runs/7#artifacts"
    assert github_run_url({}) is None


# -- GitHub step summary -----------------------------------------------------------
def test_step_summary(report):
    md = github_step_summary(report, report_link="https://ci.example/artifacts/1")
    assert "**Score: 85 / 100** (85%)" in md
    for row in (
        "| Stem | 10 | 15 | \u274c |",
        "| Inception function | 20 | 25 | \u274c |",
        "| Inception blocks | 20 | 20 | \u2705 |",
        "| Layout | 15 | 15 | \u2705 |",
        "| Auxiliary classifiers | 5 | 10 | \u274c |",
        "| Head | 10 | 10 | \u2705 |",
        "| Parameters | 5 | 5 | \u2705 |",
        "| **Total** | **85** | **100** | |",
    ):
        assert row in md
    # every root, with code, location, file:line and message; no consequence
    assert "| `layer_missing` | `inception/pool_proj` | src/model.py:42 | the pool projection branch is missing | \u22125 | 2 |" in md
    assert "| `kernel_size` | `conv2/3x3` | GoogLeNet: v1, final.ipynb: cell 4, line 3 | kernel 5x5 is 100% off<br>expected: 3x3, got: 5x5 |" in md
    assert "| `norm_type` | `pool1/norm1` | src/model.py:12 |" in md
    assert "| `branch_order` | `inception_4a` |  |" in md
    assert "| `aux_missing` | `loss1` |" in md
    assert "output_shape" not in md and "params differ" not in md
    assert "[Full report](https://ci.example/artifacts/1)" in md
    assert "Root findings: 3 errors, 1 warning, 1 info." in md


def test_step_summary_escapes_tables_and_no_link():
    f = Finding(id="x", code="units", severity="error", location="loss3/classifier",
                message="units a|b <script>", source=Source("m.py", 1), part="head")
    md = github_step_summary(make_report(findings=[f]), report_link=None)
    assert "units a\\|b &lt;script&gt;" in md
    assert "Full report" not in md


def test_step_summary_failed_build():
    md = github_step_summary(failed_report(), report_link=None)
    assert "**failed**" in md
    assert "The model could not be built (src/model.py:30)" in md


# -- GitLab Code Quality ---------------------------------------------------------------
def test_codequality(report, tmp_path):
    sub = tmp_path / "submissions" / "alice"
    entries = gitlab_codequality(report, repo_root=tmp_path, submission_root=sub)
    assert len(entries) == len(report.roots())
    for e in entries:
        assert set(e) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert isinstance(e["description"], str) and e["description"]
        assert e["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert len(e["fingerprint"]) == 64 and int(e["fingerprint"], 16) >= 0
        assert isinstance(e["location"]["path"], str)
        assert isinstance(e["location"]["lines"]["begin"], int) and e["location"]["lines"]["begin"] >= 1
    by_code = {e["check_name"]: e for e in entries}
    assert set(by_code) == {"layer_missing", "kernel_size", "norm_type", "branch_order", "aux_missing"}
    assert by_code["layer_missing"]["location"] == {"path": "submissions/alice/src/model.py", "lines": {"begin": 42}}
    assert by_code["layer_missing"]["severity"] == "major"
    assert by_code["norm_type"]["severity"] == "minor"
    assert by_code["branch_order"]["severity"] == "info"
    nb = by_code["kernel_size"]
    assert nb["location"] == {"path": f"submissions/alice/{NOTEBOOK}", "lines": {"begin": 1}}
    assert "cell 4, line 3" in nb["description"]
    # no source: the submission's entry file
    assert by_code["aux_missing"]["location"]["path"] == "submissions/alice/src/model.py"
    assert len({e["fingerprint"] for e in entries}) == len(entries)


def test_codequality_fingerprint_stable(report, tmp_path):
    a = gitlab_codequality(report, repo_root=tmp_path, submission_root=tmp_path / "s")
    # a different message (or line) for the same fault keeps the fingerprint
    f = report.findings[0]
    moved = Finding(**{**f.__dict__, "message": "reworded", "source": Source("src/model.py", 50)})
    b = gitlab_codequality(make_report(findings=[moved, *report.findings[1:]]),
                           repo_root=tmp_path, submission_root=tmp_path / "s")
    assert [e["fingerprint"] for e in a] == [e["fingerprint"] for e in b]
    # another path changes it
    c = gitlab_codequality(report, repo_root=tmp_path, submission_root=tmp_path / "t")
    assert a[0]["fingerprint"] != c[0]["fingerprint"]


def test_codequality_failed_build_is_critical(tmp_path):
    entries = gitlab_codequality(failed_report(), repo_root=tmp_path, submission_root=tmp_path)
    assert [e["severity"] for e in entries] == ["critical"]
    text = gitlab_codequality_json(failed_report(), repo_root=tmp_path, submission_root=tmp_path)
    assert json.loads(text) == entries


# -- JUnit -----------------------------------------------------------------------------
def _validate(xml: str):
    doc = etree.fromstring(xml.encode("utf-8"))
    xmlschema.XMLSchema(str(XSD)).validate(xml)
    return doc


def test_junit_valid_and_one_case_per_part(report):
    xml = junit_xml(report)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    doc = _validate(xml)
    assert doc.tag == "testsuite" and doc.get("name") == "grader"
    cases = doc.findall("testcase")
    assert [c.get("name") for c in cases] == [p.title for p in report.parts]
    assert {c.get("classname") for c in cases} == {"grader.alice"}
    assert doc.get("tests") == "7"
    assert doc.get("failures") == "3"
    assert doc.get("errors") == "0"
    assert doc.get("skipped") == "0"
    assert doc.get("timestamp") == "2025-03-01T12:00:00+00:00"
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert failed == {"Stem", "Inception function", "Auxiliary classifiers"}
    assert all(c.find("error") is None for c in cases)


def test_junit_failure_text(report):
    doc = _validate(junit_xml(report))
    case = {c.get("name"): c for c in doc.findall("testcase")}
    fail = case["Inception function"].find("failure")
    assert fail.get("message") == "lost 5 of 25 points: 1 error"
    assert fail.get("type") == "grader.layer_missing"
    assert ("[error] layer_missing at inception/pool_proj (src/model.py:42): "
            "the pool projection branch is missing [-5 points]") in fail.text
    assert "consequences: 2 (output_shape x1, params x1)" in fail.text
    stem = case["Stem"].find("failure")
    assert stem.get("message") == "lost 5 of 15 points: 1 error, 1 warning"
    assert "kernel_size at conv2/3x3 (GoogLeNet: v1, final.ipynb: cell 4, line 3)" in stem.text
    assert "expected: 3x3, got: 5x5" in stem.text
    assert "norm_type at pool1/norm1 (src/model.py:12)" in stem.text
    # a passing part keeps its info finding, and notes consequences of other parts
    blocks = case["Inception blocks"]
    assert blocks.find("failure") is None
    out = blocks.find("system-out").text
    assert "branch_order at inception_4a" in out
    assert "Consequences here of faults in other parts: 1" in out
    # the student's stdout, with the control character made XML-safe
    assert "hello from the student\ufffd" in doc.find("system-out").text


def test_junit_part_with_error_but_no_points_lost():
    f = Finding(id="x", code="filters", severity="error", location="conv1/7x7_s2",
                message="filters 32, expected 64", part="stem")
    r = make_report(findings=[f], parts=[Part("stem", 15, 15, "Stem")], score=15, max_score=15)
    doc = _validate(junit_xml(r))
    fail = doc.find("testcase/failure")
    assert fail is not None and fail.get("message") == "lost 0 of 15 points: 1 error"


def test_junit_failed_build_gives_errors():
    doc = _validate(junit_xml(failed_report()))
    assert doc.get("errors") == "2" and doc.get("failures") == "0"
    for c in doc.findall("testcase"):
        err = c.find("error")
        assert err.get("type") == "ValueError"
        assert err.get("message") == "Negative dimension size"
        assert "at src/model.py:30" in err.text


def test_junit_failed_build_without_parts():
    doc = _validate(junit_xml(failed_report(parts=False)))
    (case,) = doc.findall("testcase")
    assert case.get("name") == "build" and case.find("error") is not None
    assert doc.get("tests") == "1" and doc.get("errors") == "1"


def test_junit_xsd_rejects_other_documents():
    schema = xmlschema.XMLSchema(str(XSD))
    assert not schema.is_valid('<testsuite name="grader" failures="0" errors="0" skipped="0" time="0"/>')
    assert not schema.is_valid(
        '<testsuite name="g" tests="1" failures="x" errors="0" skipped="0" time="0"/>')
    assert not schema.is_valid(
        '<testsuite name="g" tests="1" failures="0" errors="0" skipped="0" time="0">'
        '<testcase name="a" classname="c"><failure/></testcase></testsuite>')
    assert schema.is_valid(
        '<testsuite name="g" tests="1" failures="1" errors="0" skipped="0" time="0">'
        '<testcase name="a" classname="c"><failure type="t">x</failure></testcase></testsuite>')


# -- workflow templates --------------------------------------------------------------
INSTALL = "git+https://git.example.invalid/course/grader.git@v0.1.0"


def _github(**kw):
    return yaml.safe_load(render_workflow("github", install=INSTALL, **kw))


def _gitlab(**kw):
    return yaml.safe_load(render_workflow("gitlab", install=INSTALL, **kw))


def test_github_workflow_structure():
    wf = _github(python="3.10", submission="hw3")
    assert set(wf["on"]) == {"push", "pull_request"}
    (job,) = wf["jobs"].values()
    steps = job["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses == ["actions/checkout", "actions/setup-python", "", "", "actions/upload-artifact"]
    assert steps[1]["with"]["python-version"] == "3.10"  # a string, not the float 3.1
    runs = [s["run"] for s in steps if "run" in s]
    assert runs == [
        f"pip install {INSTALL}",
        "grader check --ci --junit grader-junit.xml --out grader-report hw3",
    ]
    upload = steps[-1]
    assert upload["if"] == "always()"
    assert "grader-report/" in upload["with"]["path"].split()


def test_github_workflow_default_submission():
    runs = [s["run"] for s in _github()["jobs"]["grade"]["steps"] if "run" in s]
    assert runs[-1] == "grader check --ci --junit grader-junit.xml --out grader-report"
    assert _github()["jobs"]["grade"]["steps"][1]["with"]["python-version"] == "3.11"


def test_gitlab_workflow_structure():
    wf = _gitlab(python="3.12", submission="hw3")
    job = wf["grader"]
    assert job["image"] == "python:3.12"
    assert job["script"] == [
        f"pip install {INSTALL}",
        "grader check --ci --junit grader-junit.xml --out grader-report hw3",
    ]
    art = job["artifacts"]
    assert art["when"] == "always"
    assert art["paths"] == ["grader-report/"]
    assert art["reports"] == {"junit": "grader-junit.xml", "codequality": "gl-code-quality-report.json"}


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_workflow_quotes_awkward_values(kind):
    sub = "hw 3/it's: a, #1 \"x\" $HOME"
    install = "grader[test] @ git+https://h.invalid/g.git#egg=grader"
    wf = yaml.safe_load(render_workflow(kind, install=install, submission=sub))
    cmds = ([s["run"] for s in wf["jobs"]["grade"]["steps"] if "run" in s]
            if kind == "github" else wf["grader"]["script"])
    assert shlex.split(cmds[0]) == ["pip", "install", install]
    assert shlex.split(cmds[1])[-1] == sub


@pytest.mark.parametrize("bad", [{"submission": "a\nb"}, {"install": "x ${{ secrets.T }}"},
                                 {"python": "3.11\n  evil: 1"}, {"install": ""}])
def test_workflow_rejects_unsafe_values(bad):
    kw = {"install": "grader", **bad}
    with pytest.raises(ValueError):
        render_workflow("github", **kw)


def test_workflow_unknown_kind():
    with pytest.raises(ValueError):
        render_workflow("jenkins", install="grader")


@pytest.mark.parametrize("s", ["3.11", "yes", "on", "null", "1e3", "a: b", "- x", "#x", "x ", "", "=", "0x1f"])
def test_yaml_scalar_roundtrip(s):
    assert yaml.safe_load(f"k: {yaml_scalar(s)}") == {"k": s}


def test_write_workflow(tmp_path):
    p = write_workflow("github", tmp_path, install="grader")
    assert p == tmp_path / ".github" / "workflows" / "grader.yml" == workflow_path("github", tmp_path)
    assert p.read_text() == render_workflow("github", install="grader")
    assert write_workflow("github", tmp_path, install="grader") == p  # same text: fine
    p.write_text("name: mine\n")
    with pytest.raises(FileExistsError) as e:
        write_workflow("github", tmp_path, install="grader")
    assert str(p) in str(e.value) and "--force" in str(e.value)
    assert p.read_text() == "name: mine\n"
    write_workflow("github", tmp_path, install="grader", force=True)
    assert p.read_text() == render_workflow("github", install="grader")
    g = write_workflow("gitlab", tmp_path, install="grader", python="3.12")
    assert g == tmp_path / ".gitlab-ci.yml" and "python:3.12" in g.read_text()


# -- the workflow's commands, run locally against a temporary repository ---------------
STUB = textwrap.dedent("""\
    #!{python}
    import json, os, sys
    name = os.path.basename(sys.argv[0])
    with open(os.environ["STUB_LOG"], "a") as fh:
        fh.write(json.dumps([name, *sys.argv[1:]]) + "\\n")
    if name == "grader":
        args = sys.argv[1:]
        assert args[0] == "check", args
        junit = args[args.index("--junit") + 1]
        out = args[args.index("--out") + 1]
        rest = [a for i, a in enumerate(args[1:], 1)
                if not a.startswith("--") and args[i - 1] not in ("--junit", "--out")]
        for sub in rest:
            if not os.path.exists(sub):
                sys.exit("no such submission: " + sub)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "report.json"), "w") as fh:
            json.dump({{"schema": "grader.report/1"}}, fh)
        with open(junit, "w") as fh:
            fh.write('<testsuite name="grader" tests="0" failures="0" errors="0" skipped="0" time="0"/>')
        if "--ci" in args and os.environ.get("GITLAB_CI") == "true":
            with open("gl-code-quality-report.json", "w") as fh:
                fh.write("[]")
""")


def _temp_repo(tmp_path: Path, submission: str) -> Path:
    repo = tmp_path / "repo"
    (repo / submission).mkdir(parents=True)
    (repo / submission / "model.py").write_text("def build_model():\n    return None\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "init"]):
        subprocess.run(cmd, cwd=repo, check=True, env=env)
    return repo


def _stubs(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("grader", "pip"):
        p = bin_dir / name
        p.write_text(STUB.format(python=sys.executable))
        p.chmod(0o755)
    return bin_dir


def _run_commands(cmds: list[str], repo: Path, bin_dir: Path, log: Path, extra_env=None):
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITLAB_CI")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", STUB_LOG=str(log), **(extra_env or {}))
    for cmd in cmds:
        # GitHub runs `run:` with `bash --noprofile --norc -eo pipefail {0}`
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", cmd],
                              cwd=repo, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, (cmd, proc.stdout, proc.stderr)
    return [json.loads(l) for l in log.read_text().splitlines()]


@pytest.mark.parametrize("submission", ["hw3", "my hw/alice's"])
def test_github_commands_run_in_temp_repo(tmp_path, submission):
    repo = _temp_repo(tmp_path, submission)
    bin_dir = _stubs(tmp_path)
    wf = yaml.safe_load(render_workflow("github", install=INSTALL, submission=submission))
    steps = wf["jobs"]["grade"]["steps"]
    calls = _run_commands([s["run"] for s in steps if "run" in s], repo, bin_dir, tmp_path / "log",
                          {"GITHUB_ACTIONS": "true"})
    assert calls == [
        ["pip", "install", INSTALL],
        ["grader", "check", "--ci", "--junit", "grader-junit.xml", "--out", "grader-report", submission],
    ]
    # what the upload step uploads is where the commands left it
    for path in steps[-1]["with"]["path"].split():
        assert (repo / path).exists(), path
    assert (repo / "grader-report" / "report.json").is_file()


def test_gitlab_commands_run_in_temp_repo(tmp_path):
    repo = _temp_repo(tmp_path, "hw3")
    bin_dir = _stubs(tmp_path)
    job = yaml.safe_load(render_workflow("gitlab", install=INSTALL, submission="hw3"))["grader"]
    calls = _run_commands(job["script"], repo, bin_dir, tmp_path / "log", {"GITLAB_CI": "true"})
    assert [c[0] for c in calls] == ["pip", "grader"]
    assert calls[1][-1] == "hw3"
    for path in job["artifacts"]["paths"] + list(job["artifacts"]["reports"].values()):
        assert (repo / path).exists(), path


def test_github_commands_fail_when_grader_fails(tmp_path):
    """A missing submission makes the (stub) grader exit non-zero, and so the step."""
    repo = _temp_repo(tmp_path, "hw3")
    bin_dir = _stubs(tmp_path)
    wf = yaml.safe_load(render_workflow("github", install="grader", submission="nope"))
    cmd = [s["run"] for s in wf["jobs"]["grade"]["steps"] if "run" in s][-1]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "STUB_LOG": str(tmp_path / "log")}
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", cmd],
                          cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode != 0


# -- what a generated workflow installs ----------------------------------------------
@pytest.mark.parametrize("spec, want", [
    (None, f"keras-arch-grader[cpu]=={__version__}"),
    ("keras-arch-grader==0.2.0", "keras-arch-grader[cpu]==0.2.0"),
    ("keras_arch_grader[test]>=0.1", "keras_arch_grader[cpu,test]>=0.1"),
    ("keras-arch-grader[cpu]", "keras-arch-grader[cpu]"),
    ("git+https://git.example.invalid/course/grader.git@v0.1.0",
     "keras-arch-grader[cpu] @ git+https://git.example.invalid/course/grader.git@v0.1.0"),
    ("keras-arch-grader @ https://h.invalid/k.whl", "keras-arch-grader[cpu] @ https://h.invalid/k.whl"),
    ("./grader", "./grader[cpu]"),
    ("dist/keras_arch_grader-0.1.0-py3-none-any.whl", "dist/keras_arch_grader-0.1.0-py3-none-any.whl[cpu]"),
    ("mycourse-grader==1.0", "mycourse-grader[cpu]==1.0"),  # a fork of the grader keeps the extra
])
def test_install_spec_adds_the_cpu_extra(spec, want):
    assert install_spec(spec) == want


@pytest.mark.parametrize("spec", ["grader", "Grader==1.2", "grader[x] @ git+https://h.invalid/g.git", "  "])
def test_install_spec_refuses_the_unrelated_project_and_nonsense(spec):
    with pytest.raises(ValueError):
        install_spec(spec)
