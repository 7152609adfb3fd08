"""Hostile submissions, graded in one `grader batch` beside honest ones: every
hostile case is contained and reported, and the honest grades are exactly what a
clean run gives (issue: hostile submissions cannot hurt the grader, the machine
or each other)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
HOSTILE = HERE / "hostile"
CASES = HERE / "data" / "cases"
HONEST = ["correct_functional.py", "fails_stride_conv2.py"]
MARKERS = [Path("/tmp/grader-hostile-marker"), Path("/root/grader-hostile-marker"), Path("/etc/grader-hostile-marker")]


class Listener:
    """A TCP listener on the host's loopback that records what reaches it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        deadline = time.time() + 900  # bounded: it stops by itself
        while not self.stop and time.time() < deadline:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.received.append(c.recv(1024) or b"<connected>")
            c.close()

    def close(self):
        self.stop = True
        self.t.join(5)
        self.sock.close()


def batch(src: Path, out: Path, *extra):
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "grader.cli", "batch", str(src), "--out", str(out), "--jobs", "2",
                           "--timeout", "45", "--quiet", *extra], env=env, capture_output=True, text=True, timeout=1200)


def reports(out: Path) -> dict:
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/report.json")}


def sleepers() -> list:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if "grader-hostile-sleeper-marker" in l and "ps -eo" not in l]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, use_sandbox):
    if not use_sandbox:
        pytest.skip("the hostile corpus needs the sandbox (apt-get install bubblewrap)")
    root = tmp_path_factory.mktemp("hostile")
    honest = root / "honest"
    honest.mkdir()
    for name in HONEST:
        shutil.copy(CASES / name, honest / name)
    clean = root / "clean_out"
    p = batch(honest, clean)
    assert p.returncode == 0, p.stderr[-3000:]

    mixed = root / "class"
    shutil.copytree(honest, mixed)
    shutil.copy(CASES / "correct_functional.py", mixed / "neighbour.py")
    listener = Listener()
    for f in HOSTILE.glob("*.py"):
        text = f.read_text().replace("PORT = 0", f"PORT = {listener.port}")
        (mixed / f.name).write_text(text)
    before = {p.name: p.read_bytes() for p in mixed.iterdir()}
    out = root / "out"
    t0 = time.time()
    p = batch(mixed, out)
    took = time.time() - t0
    time.sleep(1)
    listener.close()
    yield {"clean": reports(clean), "mixed": reports(out), "out": out, "proc": p, "listener": listener,
           "before": before, "class": mixed, "took": took}


def roots(r):
    return {(f["code"], f["location"]) for f in r["findings"] if f["caused_by"] is None}


def test_batch_finished_and_honest_grades_unchanged(graded):
    assert graded["proc"].returncode == 0, graded["proc"].stderr[-3000:]
    for name in HONEST:
        sid = Path(name).stem
        a, b = graded["clean"][sid], graded["mixed"][sid]
        assert (a["score"], a["status"], sorted(roots(a))) == (b["score"], b["status"], sorted(roots(b)))
    assert graded["mixed"]["neighbour"]["score"] == 100


@pytest.mark.parametrize("sid,codes", [
    ("infinite_loop", {"timeout"}),
    ("memory_hog", {"memory_limit"}),
    ("detached_sleeper", {"no_model"}),
    ("sys_exit_early", {"no_model"}),
    ("os_exit_early", {"no_model"}),
    ("writes_everywhere", {"no_model"}),
    ("network", {"no_model"}),
    ("huge_output", {"no_model"}),
    ("syntax_error", {"build_error"}),
    ("missing_package", {"no_model"}),
    ("billions_of_params", {"memory_limit"}),
])
def test_each_hostile_case_gets_its_finding(graded, sid, codes):
    r = graded["mixed"][sid]
    assert r["status"] == "failed" and r["score"] == 0
    assert {c for c, _ in roots(r)} & codes, roots(r)


def test_missing_package_is_a_stand_in_noted_at_its_import(graded):
    r = graded["mixed"]["missing_package"]
    (note,) = [f for f in r["findings"] if f["code"] == "import_stubbed"]
    assert note["severity"] == "info" and note["source"]["line"] == 3
    assert "definitely_not_a_real_package_for_grading" in note["message"]


def test_lies_do_not_change_the_grade(graded):
    r = graded["mixed"]["liar"]
    assert ("strides", "conv2/3x3") in roots(r)
    assert r["score"] < r["max_score"]
    assert r["model"]["total_params"] != 13_378_280  # what count_params claimed


def test_nothing_changed_outside_scratch(graded):
    now = {p.name: p.read_bytes() for p in graded["class"].iterdir()}
    assert now == graded["before"]
    for m in MARKERS:
        assert not m.exists()
    names = {p.name for p in graded["out"].iterdir() if not p.name.startswith(".")}
    assert names <= {"grades.csv", "index.html", "gradescope"} | set(graded["mixed"]) | {p.stem for p in graded["class"].iterdir()}


def test_no_process_survives(graded):
    assert sleepers() == []


def test_no_connection_left_the_sandbox(graded):
    assert graded["listener"].received == []


def test_output_is_capped(graded):
    r = graded["mixed"]["huge_output"]
    assert len(r["stdout"]) < 200_000


def test_markup_is_escaped_everywhere(graded):
    out = graded["out"]
    for page in [out / "index.html", *out.glob("*/report.html")]:
        text = page.read_text()
        assert "<img src=x onerror" not in text, page
        assert "<script>alert" not in text, page
