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
    bad.write_text('[part_titles.ko]\nstems = "줄기"\n')
    p = run(["check", str(CASES / "correct_functional.py"), "--assignment", str(bad)])
    assert p.returncode == 2 and "part_titles.ko.stems: unknown part" in p.stderr and "inception" in p.stderr


def test_version_is_the_distributions():
    from importlib import metadata

    import grader

    p = run(["--version"])
    assert p.returncode == 0
    assert p.stdout.strip() == f"grader {grader.__version__} (keras-arch-grader)"
    assert metadata.version("keras-arch-grader") == grader.__version__


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
    doc = json.loads(run(["reference", "--json"]).stdout)
    assert set(doc) == {"title", "rows", "totals"}
    by = {r["name"]: r for r in doc["rows"]}
    assert by["inception_3a"]["n1x1"] == 64 and by["inception_5b"]["pool_proj"] == 128
    assert doc["totals"]["params_with_aux"] == 13_378_280
    assert doc["totals"]["params_without_aux"] == 6_998_552
    # the ops total is the sum of the rows' computed multiply-adds
    assert doc["totals"]["ops"] == sum(r["computed_ops"] or 0 for r in doc["rows"])
    assert 1.5e9 < doc["totals"]["ops"] < 1.6e9  # "1.5 billion multiply-adds" (Szegedy et al., section 5)


@pytest.mark.parametrize("width", [80, 100])
def test_reference_reads_at_80_columns_in_a_pipe(width):
    # a pipe (capture_output): the width comes from COLUMNS, as in a terminal of that size
    p = run(["reference"], env={"COLUMNS": str(width)})
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert max(len(l) for l in lines) <= width, [l for l in lines if len(l) > width]
    head = lines.index(next(l for l in lines if l.startswith("layer") or l.lstrip().startswith("#1x1")))
    row = next(l for l in lines if l.startswith("inception_3a "))
    cells = row.split()
    # the name, the output size and all six filter columns, unabbreviated
    assert [c for c in cells if c not in ("inception", "(3a)", "2")][:8] == \
        ["inception_3a", "28x28x256", "64", "96", "128", "16", "32", "32"], row
    assert row.endswith("159K | 159.5K") or "159K | 159.5K  " in row, row
    assert head > 0
    # notes wrapped under their row, never squeezed into a column
    note = lines[lines.index(next(l for l in lines if l.startswith("conv1/7x7_s2"))) + 1]
    assert note.startswith("    note: Printed 2.7K params"), note
    text = p.stdout
    assert "13,378,280" in text and "6,998,552" in text and "1,582,671,872" in text
    if width == 80:
        assert "Not shown at 80 columns: type, patch/stride, depth, ops" in text.replace("\n", " ")
        wide = run(["reference", "--wide"], env={"COLUMNS": str(width)}).stdout
        row = next(l for l in wide.splitlines() if l.startswith("conv1/7x7_s2 "))
        assert "convolution" in row and "7x7/2" in row and "34M | 118M" in row and "Not shown" not in wide
    else:
        assert "Not shown at 100 columns: type, depth" in text.replace("\n", " ")


TF_NOISE = ("oneDNN", "absl", "cpu_feature_guard", "All log messages before absl::InitializeLog()",
            "rebuild TensorFlow with the appropriate compiler flags")


@pytest.mark.parametrize("command", ["reference", "reference --json", "check", "trace", "batch"])
def test_no_tensorflow_start_up_lines_on_stderr(command, tmp_path):
    """Through the real CLI, with none of TensorFlow's quieting variables set by the caller."""
    sub = tmp_path / "class"
    sub.mkdir()
    shutil.copy(CASES / "fails_stride_conv2.py", sub / "alice.py")
    args = {"reference": ["reference"], "reference --json": ["reference", "--json"],
            "check": ["check", str(sub / "alice.py"), "--out", str(tmp_path / "r")],
            "trace": ["trace", str(sub / "alice.py")],
            "batch": ["batch", str(sub), "--out", str(tmp_path / "out"), "--jobs", "1"]}[command]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "TF_ENABLE"))}
    p = subprocess.run(GRADER + args, env={**env, "NO_COLOR": "1"}, capture_output=True, text=True, timeout=600)
    assert p.returncode in (0, 1), p.stderr
    assert p.stdout.strip()
    found = [n for n in TF_NOISE if n in p.stderr]
    assert not found, p.stderr
    if command == "check":
        assert not [n for n in TF_NOISE if n in json.loads((tmp_path / "r" / "report.json").read_text())["stderr"]]


def test_strip_noise_keeps_the_students_lines():
    from grader import tfenv

    # lines as TensorFlow 2.21 writes them when it loads (this machine, unquieted)
    noise = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796116968.280581   11295 port.cc:153] oneDNN custom operations are on. You may see "
        "slightly different numerical results due to floating-point round-off errors from different "
        "computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
        "I0000 00:00:1796116968.426425   11295 cpu_feature_guard.cc:227] This TensorFlow binary is optimized "
        "to use available CPU instructions in performance-critical operations.",
        "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with "
        "the appropriate compiler flags.",
    ]
    student = ["epoch 1: building the stem", "W: my own warning about port.cc:153", "Traceback (most recent call last):"]
    text = "\n".join([student[0], *noise[:2], student[1], *noise[2:], student[2]]) + "\n"
    assert tfenv.strip_noise(text) == "\n".join(student) + "\n"
    assert all(tfenv.is_noise(l) for l in noise) and not any(tfenv.is_noise(l) for l in student)


def test_trace_shows_nodes_and_lines():
    p = run(["trace", str(CASES / "correct_sequential_stem.py")])
    assert p.returncode == 0
    assert "Conv2D" in p.stdout and "correct_sequential_stem.py:" in p.stdout
    d = json.loads(run(["trace", str(CASES / "correct_sequential_stem.py"), "--json"]).stdout)
    assert d["status"] == "ok" and d["trace"]["graph"]["nodes"]


def test_init_ci_writes_a_workflow(tmp_path):
    import yaml

    from grader import __version__

    p = run(["init-ci", "--github", "--repo", str(tmp_path), "--install", "git+https://example.invalid/grader.git"])
    assert p.returncode == 0
    wf = tmp_path / ".github" / "workflows" / "grader.yml"
    assert "grader check --ci" in wf.read_text()
    runs = [s["run"] for s in yaml.safe_load(wf.read_text())["jobs"]["grade"]["steps"] if "run" in s]
    # a runner has no TensorFlow: the [cpu] extra comes with the URL
    assert runs[0] == "pip install 'keras-arch-grader[cpu] @ git+https://example.invalid/grader.git'"
    p = run(["init-ci", "--gitlab", "--repo", str(tmp_path)])
    assert p.returncode == 0 and (tmp_path / ".gitlab-ci.yml").exists()
    # by default: exactly the running grader, by its own distribution name
    script = yaml.safe_load((tmp_path / ".gitlab-ci.yml").read_text())["grader"]["script"]
    assert script[0] == f"pip install 'keras-arch-grader[cpu]=={__version__}'"
    # the unrelated project that owns the name `grader` on PyPI is refused
    p = run(["init-ci", "--repo", str(tmp_path / "x"), "--install", "grader"])
    assert p.returncode == 2 and "unrelated project" in p.stderr and not (tmp_path / "x").exists()
