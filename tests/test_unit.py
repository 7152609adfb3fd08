"""The deep-CNN unit as a course runs it: a class whose folders each hold all of
the unit's task files, graded with one `grader batch` against the unit file,
and `grader reference` for every architecture's paper table. Real `grader`
processes, the real sandbox."""

from __future__ import annotations

import csv
import json
import shutil

from test_cli import CASES, run
from test_html import parse, texts

UNIT = CASES.parent.parent.parent / "reference" / "deep_cnn_unit.toml"
TASKS = ["identity_block", "projection_block", "resnet50_course", "dense_block", "transition_layer",
         "densenet121_course"]


def test_a_class_graded_task_by_task_into_one_gradebook(tmp_path):
    klass = tmp_path / "class"
    klass.mkdir()
    shutil.copytree(CASES / "correct_unit_folder", klass / "ada")
    shutil.copytree(CASES / "fails_unit_folder_identity_block_bn", klass / "ben")
    shutil.copytree(CASES / "correct_unit_folder", klass / "cy")
    (klass / "cy" / "5-dense_block.py").unlink()  # cy never handed in the dense block
    out = tmp_path / "out"
    p = run(["batch", str(klass), "--out", str(out), "--assignment", str(UNIT), "--jobs", "2"], timeout=1800)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "unit of 6 tasks" in p.stdout
    # each task graded on its own, with its own reports and overview
    for t in TASKS:
        assert (out / t / "index.html").is_file() and (out / t / "grades.csv").is_file()
        for sid in ("ada", "ben", "cy"):
            assert (out / t / sid / "report.json").is_file(), (t, sid)
    # one gradebook, a column per task
    rows = {r["id"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert set(rows) == {"ada", "ben", "cy"}
    assert list(rows["ada"])[:4] == ["id", "score", "max_score", "percent"]
    assert all(t in rows["ada"] for t in TASKS)
    ada, ben, cy = rows["ada"], rows["ben"], rows["cy"]
    assert all(float(ada[t]) == float(ada[f"{t}_max"]) == 100 for t in TASKS)
    assert float(ada["score"]) == float(ada["max_score"]) == 600
    # ben's identity block has no BN after its last 1x1: that task and the network using it lose points
    assert float(ben["identity_block"]) < 100 and float(ben["resnet50_course"]) < 100
    assert float(ben["dense_block"]) == 100
    root = {f["code"] + " " + f["location"] for f in json.loads((out / "identity_block" / "ben" / "report.json")
                                                                   .read_text())["findings"] if f["caused_by"] is None}
    assert "layer_missing identity_block/3_bn" in root
    # cy's missing file fails that task only (and the network that imports it)
    assert cy["dense_block_status"] == "failed" and float(cy["dense_block"]) == 0
    assert float(cy["identity_block"]) == 100
    # the unit's overview links every score to its report
    html = (out / "index.html").read_text(encoding="utf-8")
    doc = parse(html)
    body = " ".join(texts(doc).split())
    assert "ada" in body and "600 / 600" in body
    assert 'href="identity_block/ben/report.html"' in html and 'href="dense_block/index.html"' in html


def test_reference_tables_of_every_architecture(tmp_path):
    ref = CASES.parent.parent.parent / "reference"
    for name, params in (("resnet50", 25_636_712), ("densenet121", 8_062_504)):
        p = run(["reference", "--assignment", str(ref / f"{name}.toml"), "--json"], timeout=600)
        assert p.returncode == 0, p.stderr[-2000:]
        doc = json.loads(p.stdout)
        assert doc["totals"]["params"] == params
        assert len(doc["rows"]) >= 6 and all("params" in r and "mult_adds" in r for r in doc["rows"])
        p = run(["reference", "--assignment", str(ref / f"{name}.toml"), "--width", "80"], timeout=600)
        assert p.returncode == 0, p.stderr[-2000:]
        assert max(len(line) for line in p.stdout.splitlines()) <= 80
        assert f"{params:,}" in p.stdout
        assert "oneDNN" not in p.stderr and "cpu_feature_guard" not in p.stderr
    p = run(["reference", "--assignment", str(ref / "resnet50.toml")], timeout=600)
    assert "3.8x10^9" in p.stdout  # the paper's printed FLOPs beside the computed total
