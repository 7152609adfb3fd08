"""Gradescope results.json and the autograder scripts."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from grader.render.gradescope import (
    VISIBILITIES,
    autograder_files,
    gradescope_results,
    run_autograder_script,
    setup_script,
    write_autograder_zip,
)
from grader.report import Finding, ModelSummary, Part, Report, Source, SubmissionInfo

INSTALL = "git+https://git.example.invalid/course/grader.git@v0.1.0"


def make_report(**over) -> Report:
    findings = [
        Finding(id="f1", code="layer_missing", severity="error", location="inception/pool_proj",
                message="the pool projection branch is missing",
                source=Source("model.py", 42), deduction=5.0, part="inception"),
        Finding(id="c1", code="output_shape", severity="error", location="inception_3a",
                message="output (None, 28, 28, 224)", caused_by="f1", part="blocks"),
        Finding(id="c2", code="params", severity="error", location="inception_3a",
                message="params differ", caused_by="c1", part="params"),
        Finding(id="f2", code="kernel_size", severity="error", location="conv2/3x3",
                message="kernel 5x5, expected 3x3",
                source=Source("nb.ipynb", 57, cell=4, cell_line=3), deduction=5.0, part="stem"),
        Finding(id="f3", code="norm_type", severity="warning", location="pool1/norm1",
                message="BatchNormalization instead of LRN", part="stem"),
        Finding(id="f4", code="aux_missing", severity="error", location="loss1",
                message="no auxiliary classifier", deduction=2.5, part="aux"),
        Finding(id="f5", code="training_skipped", severity="info", location="",
                message="training code was not run"),
    ]
    parts = [
        Part("stem", 10, 15, "Stem"),
        Part("inception", 20, 25, "Inception function"),
        Part("blocks", 20, 20, "Inception blocks"),
        Part("aux", 7.5, 10, "Auxiliary classifiers"),
        Part("params", 5, 5, ""),
    ]
    kw = dict(
        submission=SubmissionInfo(id="bob", path="/autograder/submission", sha256="cd" * 32),
        status="graded", score=62.5, max_score=75.0, parts=parts, findings=findings,
        model=ModelSummary(total_params=1, reference_total_params=2),
        grader_version="0.1.0", duration_s=12.6,
    )
    kw.update(over)
    return Report(**kw)


def failed_report() -> Report:
    return make_report(
        status="failed", score=0.0,
        parts=[Part("stem", 0, 15, "Stem"), Part("aux", 0, 10, "Aux")], max_score=25.0,
        findings=[Finding(id="b", code="build_error", severity="error", location="",
                          message="SyntaxError: invalid syntax", source=Source("model.py", 3))],
        error={"type": "SyntaxError", "message": "invalid syntax",
               "source": {"file": "model.py", "line": 3}},
    )


# -- results.json ------------------------------------------------------------------
def _check_format(res: dict) -> None:
    """The fields and types of Gradescope's documented results.json format."""
    allowed_top = {"score", "execution_time", "output", "output_format", "test_output_format",
                   "test_name_format", "visibility", "stdout_visibility", "extra_data",
                   "tests", "leaderboard"}
    assert set(res) <= allowed_top
    assert isinstance(res["score"], (int, float)) and not isinstance(res["score"], bool)
    assert isinstance(res["output"], str)
    assert res["visibility"] in VISIBILITIES and res["stdout_visibility"] in VISIBILITIES
    if "execution_time" in res:
        assert isinstance(res["execution_time"], int)
    assert isinstance(res.get("extra_data", {}), dict)
    assert isinstance(res["tests"], list)
    allowed_test = {"score", "max_score", "status", "name", "name_format", "number", "output",
                    "output_format", "tags", "visibility", "extra_data"}
    for t in res["tests"]:
        assert set(t) <= allowed_test
        assert isinstance(t["name"], str) and t["name"]
        assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float))
        assert 0 <= t["score"] <= t["max_score"]
        assert isinstance(t["output"], str)
        assert t["visibility"] in VISIBILITIES
        assert t["status"] in ("passed", "failed")
        assert isinstance(t["number"], str)
    json.dumps(res)  # serialisable as is


def test_results_format_and_parts():
    r = make_report()
    res = gradescope_results(r)
    _check_format(res)
    assert [t["name"] for t in res["tests"]] == ["Stem", "Inception function", "Inception blocks",
                                                 "Auxiliary classifiers", "params"]
    assert len(res["tests"]) == len(r.parts)
    assert res["score"] == 62.5
    assert sum(t["score"] for t in res["tests"]) == pytest.approx(res["score"])
    assert sum(t["max_score"] for t in res["tests"]) == pytest.approx(r.max_score)
    assert [t["status"] for t in res["tests"]] == ["failed", "failed", "passed", "failed", "passed"]
    assert res["execution_time"] == 13
    assert res["visibility"] == "visible" and res["stdout_visibility"] == "hidden"


def test_results_outputs_name_findings():
    tests = {t["name"]: t for t in gradescope_results(make_report())["tests"]}
    stem = tests["Stem"]["output"]
    assert "kernel_size at conv2/3x3 (nb.ipynb: cell 4, line 3): kernel 5x5, expected 3x3 [-5]" in stem
    assert "norm_type at pool1/norm1" in stem
    inc = tests["Inception function"]["output"]
    assert "layer_missing at inception/pool_proj (model.py:42)" in inc
    assert "2 follow-on findings caused by this one" in inc  # c1 and c2 (via c1)
    blocks = tests["Inception blocks"]["output"]
    assert "output_shape at inception_3a" in blocks and "other parts (1)" in blocks
    assert "aux_missing at loss1: no auxiliary classifier [-2.5]" in tests["Auxiliary classifiers"]["output"]
    assert tests["params"]["output"].startswith("5 / 5 points")
    # a finding with no part is in the top-level output
    res = gradescope_results(make_report())
    assert "training_skipped" in res["output"] and "Score: 62.5 / 75" in res["output"]
    assert "layer_missing" not in res["output"]


def test_results_clean_part_says_passed():
    r = make_report(findings=[], parts=[Part("head", 10, 10, "Head")], score=10, max_score=10)
    (t,) = gradescope_results(r)["tests"]
    assert t["output"] == "10 / 10 points\nAll checks passed."
    assert t["score"] == 10 and isinstance(t["score"], int)


def test_results_failed_build():
    res = gradescope_results(failed_report())
    _check_format(res)
    assert res["score"] == 0 and all(t["score"] == 0 for t in res["tests"])
    assert "SyntaxError: invalid syntax (model.py:3)" in res["output"]
    assert all("could not be built" in t["output"] for t in res["tests"])


def test_results_visibility_options():
    res = gradescope_results(make_report(), visibility="after_published",
                             stdout_visibility="visible", test_visibility="after_due_date")
    _check_format(res)
    assert {t["visibility"] for t in res["tests"]} == {"after_due_date"}
    with pytest.raises(ValueError):
        gradescope_results(make_report(), visibility="public")


def test_results_roundtrip_through_report_json():
    r = make_report()
    assert gradescope_results(Report.from_json(r.to_json())) == gradescope_results(r)


# -- scripts -----------------------------------------------------------------------------
@pytest.mark.parametrize("script", [run_autograder_script, setup_script])
def test_scripts_are_valid_bash(script, tmp_path):
    text = script("keras-arch-grader @ git+https://h.invalid/g.git; rm -rf / #")
    assert text.startswith("#!/usr/bin/env bash\n")
    p = tmp_path / "s.sh"
    p.write_text(text)
    subprocess.run(["bash", "-n", str(p)], check=True)
    # the install spec is one quoted word, never code; the [cpu] form where there is no TensorFlow
    assert "'keras-arch-grader @ git+https://h.invalid/g.git; rm -rf / #'" in text
    assert "'keras-arch-grader[cpu] @ git+https://h.invalid/g.git; rm -rf / #'" in text


@pytest.mark.parametrize("script", [run_autograder_script, setup_script])
def test_scripts_install_the_wheel_beside_them(script, tmp_path):
    name = "keras_arch_grader-0.1.0-py3-none-any.whl"
    text = script(wheel=name)
    p = tmp_path / "s.sh"
    p.write_text(text)
    subprocess.run(["bash", "-n", str(p)], check=True)
    where = '"$HERE"' if script is setup_script else '"/autograder/source"'
    assert f"pip install {where}/{name}\n" in text or f"pip install {where}/{name} " in text
    assert f"pip install {where}/'{name}[cpu]'" in text
    assert "pip install grader" not in text and "keras-arch-grader==" not in text  # nothing from an index
    with pytest.raises(ValueError):
        script(wheel="../evil.whl")
    with pytest.raises(ValueError):
        script()  # neither a spec nor a wheel


def test_scripts_refuse_the_unrelated_grader_project():
    with pytest.raises(ValueError, match="unrelated"):
        setup_script("grader")


def test_run_autograder_commands():
    text = run_autograder_script(INSTALL)
    assert 'grader check "$SUBMISSION" --json "$WORK/report.json"' in text
    assert 'grader gradescope-results "$WORK/report.json" "$RESULTS/results.json"' in text
    assert "SUBMISSION=/autograder/submission" in text and "RESULTS=/autograder/results" in text
    assert f"pip install {INSTALL}" in setup_script(INSTALL)


STUB = textwrap.dedent("""\
    #!{python}
    import json, os, sys
    sys.path.insert(0, {root!r})
    from grader.report import Report
    from grader.render.gradescope import gradescope_results
    args = sys.argv[1:]
    if args[0] == "check":
        if os.environ.get("STUB_MODE") == "crash":
            print("Traceback: boom", file=sys.stderr)
            sys.exit(3)
        assert os.path.isdir(args[1]), args
        out = args[args.index("--json") + 1]
        with open(out, "w") as fh:
            fh.write(os.environ["STUB_REPORT"])
        sys.exit(1)  # points were lost
    if args[0] == "gradescope-results":
        report = Report.from_json(open(args[1]).read())
        with open(args[2], "w") as fh:
            json.dump(gradescope_results(report), fh)
        sys.exit(0)
    sys.exit("unexpected " + repr(args))
""")


def _run_autograder(tmp_path: Path, mode: str) -> dict:
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "model.py").write_text("x = 1\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "grader"
    stub.write_text(STUB.format(python=sys.executable, root=str(Path(__file__).resolve().parents[1])))
    stub.chmod(0o755)
    script = tmp_path / "run_autograder"
    script.write_text(run_autograder_script(INSTALL).replace("/autograder", str(root)))
    script.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "STUB_REPORT": make_report().to_json(), "STUB_MODE": mode}
    proc = subprocess.run([str(script)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_writes_results(tmp_path):
    res = _run_autograder(tmp_path, "ok")
    assert res == json.loads(json.dumps(gradescope_results(make_report())))


def test_run_autograder_without_report_still_writes_results(tmp_path):
    res = _run_autograder(tmp_path, "crash")
    _check_format(res)
    assert res["score"] == 0
    assert "exit status 3" in res["output"] and "Traceback: boom" in res["output"]


def test_autograder_zip(tmp_path):
    p = write_autograder_zip(tmp_path / "out" / "autograder.zip", INSTALL)
    with zipfile.ZipFile(p) as zf:
        assert sorted(zf.namelist()) == ["run_autograder", "setup.sh"]
        for info in zf.infolist():
            assert stat.S_IMODE(info.external_attr >> 16) == 0o755
            assert zf.read(info).decode() == autograder_files(INSTALL)[info.filename]


def test_autograder_zip_carries_the_wheel(tmp_path):
    from grader.dist import Wheel

    wheel = Wheel("keras_arch_grader-0.1.0-py3-none-any.whl", b"PK\x05\x06" + b"\0" * 18, "test")
    p = write_autograder_zip(tmp_path / "autograder.zip", wheel=wheel)
    with zipfile.ZipFile(p) as zf:
        assert sorted(zf.namelist()) == sorted(["run_autograder", "setup.sh", wheel.filename])
        assert zf.read(wheel.filename) == wheel.data
        assert stat.S_IMODE(zf.getinfo(wheel.filename).external_attr >> 16) == 0o644
        assert wheel.filename in zf.read("setup.sh").decode()
