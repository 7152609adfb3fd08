"""The command line as users run it: a real `grader` process each time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "data" / "cases"
GRADER = [sys.executable, "-m", "grader.cli"]


def run(args, cwd=None, env=None, timeout=300):
    e = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_STEP_SUMMARY")}
    e.update({"NO_COLOR": "1", "COLUMNS": "200", **(env or {})})
    return subprocess.run(GRADER + args, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)


def test_check_correct_submission_exits_0_and_writes_reports(tmp_path):
    out = tmp_path / "r"
    p = run(["check", str(CASES / "correct_functional.py"), "--out", str(out), "--json", str(tmp_path / "x.json")])
    assert p.returncode == 0, p.stdout + p.stderr
    assert "100/100" in p.stdout and "report:" in p.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["score"] == report["max_score"] == 100
    assert (out / "report.html").stat().st_size > 1000
    assert json.loads((tmp_path / "x.json").read_text())["submission"]["id"] == "correct_functional"


def test_check_multi_fault_under_github_actions(tmp_path):
    # a student repository with the submission in a subfolder
    repo = tmp_path / "repo"
    (repo / "hw3").mkdir(parents=True)
    shutil.copy(CASES / "fails_multi_student.py", repo / "hw3" / "googlenet.py")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    summary = tmp_path / "summary.md"
    junit = tmp_path / "junit.xml"
    cq = tmp_path / "cq.json"
    p = run(["check", "hw3/googlenet.py", "--ci", "--junit", str(junit), "--codequality", str(cq), "--out", str(tmp_path / "out")],
            cwd=repo, env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "CI": "true"})
    assert p.returncode == 1, p.stderr
    lines = [l for l in p.stdout.splitlines() if l.startswith("::")]
    src = (CASES / "fails_multi_student.py").read_text().splitlines()
    stride_line = next(i for i, l in enumerate(src, 1) if "Conv2D(192" in l)
    assert any(l.startswith(f"::error file=hw3/googlenet.py,line={stride_line},title=strides at conv2/3x3::") for l in lines), lines
    typo_line = next(i for i, l in enumerate(src, 1) if "114" in l and not l.startswith("#"))
    assert any(f"line={typo_line},title=filters at inception_4d/3x3_reduce" in l for l in lines), lines
    assert any(l.startswith("::warning file=hw3/googlenet.py") and "norm_type" in l for l in lines)
    assert "conv2/3x3" in summary.read_text()
    from lxml import etree

    xsd = etree.XMLSchema(etree.parse(str(Path(__file__).parent.parent / "grader" / "schemas" / "junit.xsd")))
    assert xsd.validate(etree.parse(str(junit)))
    entries = json.loads(cq.read_text())
    assert {e["location"]["path"] for e in entries} == {"hw3/googlenet.py"}


def test_check_without_argument_finds_the_file_or_lists_candidates(tmp_path):
    shutil.copy(CASES / "fails_stride_conv2.py", tmp_path / "googlenet.py")
    p = run(["check", "--quiet", "--out", str(tmp_path / "o")], cwd=tmp_path)
    assert p.returncode == 1 and (tmp_path / "o" / "report.json").exists()
    amb = tmp_path / "amb"
    amb.mkdir()
    (amb / "a.py").write_text("x = 1\n")
    (amb / "b.py").write_text("y = 2\n")
    p = run(["check"], cwd=amb)
    assert p.returncode == 2 and "a.py, b.py" in p.stderr


def test_bad_inputs_exit_2_with_a_clear_message(tmp_path):
    p = run(["check", str(tmp_path / "nope.py")])
    assert p.returncode == 2 and "no such file" in p.stderr
    bad = tmp_path / "a.toml"
    bad.write_text('[assignment]\naux = "sometimes"\n')
    p = run(["check", str(CASES / "correct_functional.py"), "--assignment", str(bad)])
    assert p.returncode == 2 and "assignment.aux" in p.stderr and "required" in p.stderr
    bad.write_text('[parts]\nstem = "many"\n')
    p = run(["check", str(CASES / "correct_functional.py"), "--assignment", str(bad)])
    assert p.returncode == 2 and "parts.stem" in p.stderr


def test_check_says_which_model_was_graded_and_how(tmp_path):
    call = "googleNet(shape=(224, 224, 3), weights_path=None)"
    for lang, words in (("en", "built by calling"), ("ko", "호출로 만든 모델")):
        out = tmp_path / lang
        p = run(["check", str(CASES / "correct_builder_never_called.py"), "--out", str(out), "--lang", lang])
        assert p.returncode == 0, p.stdout + p.stderr
        assert f"model: built by calling {call}" in p.stdout
        origin = json.loads((out / "report.json").read_text())["model"]["origin"]
        assert origin["how"] == "builder" and origin["call"] == call and origin["source"]["line"] > 1
        html = (out / "report.html").read_text()
        assert call in html and words in html
    bad = tmp_path / "a.toml"
    bad.write_text('[entry]\nnever_stub = ["d2l", "not a module"]\n')
    p = run(["check", str(CASES / "correct_functional.py"), "--assignment", str(bad)])
    assert p.returncode == 2 and "entry.never_stub" in p.stderr and "'not a module'" in p.stderr


def test_min_score(tmp_path):
    p = run(["check", str(CASES / "fails_stride_conv2.py"), "--quiet", "--min-score", "50", "--out", str(tmp_path)])
    assert p.returncode == 0


def test_reference_table():
    p = run(["reference"])
    assert p.returncode == 0
    for name in ("conv1/7x7_s2", "inception_4d", "loss3/classifier"):
        assert name in p.stdout
    rows = json.loads(run(["reference", "--json"]).stdout)
    by = {r["name"]: r for r in rows}
    assert by["inception_3a"]["n1x1"] == 64 and by["inception_5b"]["pool_proj"] == 128


def test_trace_shows_nodes_and_lines():
    p = run(["trace", str(CASES / "correct_sequential_stem.py")])
    assert p.returncode == 0
    assert "Conv2D" in p.stdout and "correct_sequential_stem.py:" in p.stdout
    d = json.loads(run(["trace", str(CASES / "correct_sequential_stem.py"), "--json"]).stdout)
    assert d["status"] == "ok" and d["trace"]["graph"]["nodes"]


def test_init_ci_writes_a_workflow(tmp_path):
    p = run(["init-ci", "--github", "--repo", str(tmp_path), "--install", "git+https://example.invalid/grader.git"])
    assert p.returncode == 0
    wf = tmp_path / ".github" / "workflows" / "grader.yml"
    assert "grader check --ci" in wf.read_text()
    p = run(["init-ci", "--gitlab", "--repo", str(tmp_path)])
    assert p.returncode == 0 and (tmp_path / ".gitlab-ci.yml").exists()
