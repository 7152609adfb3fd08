"""Hostile submissions, graded in one `grader batch` beside honest ones: every
hostile case is contained and reported, and the honest grades are exactly what a
clean run gives (issue: hostile submissions cannot hurt the grader, the machine
or each other). The cases that forge the tracer's trace or blind the tracer are
also graded with `grader check` (issue 13: only the tracer's trace counts)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest

from grader import sandbox, trace
from grader.assignment import load as load_assignment
from grader.submission import load

HERE = Path(__file__).parent
HOSTILE = HERE / "hostile"
CASES = HERE / "data" / "cases"
HONEST = ["correct_functional.py", "fails_stride_conv2.py"]
MARKERS = [Path("/tmp/grader-hostile-marker"), Path("/root/grader-hostile-marker"), Path("/etc/grader-hostile-marker")]
#: cases that send a trace the tracer did not make for them: each must get no_model and 0
FORGED = ["fake_trace", "copied_trace", "replayed_trace", "hunts_the_secret", "frame_walker"]
#: cases that undo or switch off the tracer's hooks before building a faulty
#: model: each must get its real root finding, and no more than its "twin" (the
#: same file without the lines between the hostile markers)
BLINDING = {"hooks_undone": ("kernel_size", "inception/5x5"), "blinds_tracer": ("pool_type", "pool3/3x3_s2")}
#: cases that go around the hooks so that part of the model is never seen: no credit at all
BYPASSING = ["bypasses_hooks"]
#: sealed by the tracer itself with the places laundered away: flagged ``integrity``, worth 0
LAUNDERED = ["gc_sealed_null_places"]
HOSTILE_BLOCK = re.compile(r"# --- hostile: begin.*?# --- hostile: end\n", re.S)


@pytest.fixture(scope="module")
def recorded():
    """What a student could have recorded beforehand from a real run of the
    tracer on a correct GoogLeNet: the sealed bytes of its result channel, and
    the trace inside them (what `grader trace --json` prints)."""
    A = load_assignment()
    sub = load(CASES / "correct_functional.py", A.entry_files)
    files, key = trace.run_files(sub, A)
    rr = sandbox.run([sys.executable, "-B", str(trace.CHILD), trace.REQUEST_NAME], files=files,
                     env=trace.child_env(), sandbox=False,
                     limits=sandbox.Limits(wall_seconds=120, result_bytes=trace.MAX_RESULT_BYTES))
    assert rr.result, rr.stderr[-2000:]
    body = trace.unseal(rr.result, key)
    assert json.loads(body)["status"] == "ok"
    return {"recording": rr.result, "trace": body}


def hostile_text(f: Path, recorded, port: int = 0) -> str:
    """A case of the corpus as it is graded: the listener's port and the recorded trace filled in."""
    def embed(b: bytes) -> str:
        return base64.b64encode(zlib.compress(b, 9)).decode()

    return (f.read_text().replace("PORT = 0", f"PORT = {port}")
            .replace('TRACE = b""', f'TRACE = b"{embed(recorded["trace"])}"')
            .replace('RECORDING = b""', f'RECORDING = b"{embed(recorded["recording"])}"'))


def write_twin(f: Path, text: str, folder: Path) -> None:
    """The same submission without its hostile lines, when it has any."""
    if HOSTILE_BLOCK.search(text):
        (folder / f"{f.stem}_twin.py").write_text(HOSTILE_BLOCK.sub("", text))


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
def graded(tmp_path_factory, use_sandbox, recorded):
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
        text = hostile_text(f, recorded, listener.port)
        (mixed / f.name).write_text(text)
        write_twin(f, text, mixed)
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
    ("many_identity_layers", {"too_many_layers"}),
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


def test_a_model_of_thousands_of_layers_costs_the_grader_little(graded):
    r = graded["mixed"]["many_identity_layers"]
    (f,) = [f for f in r["findings"] if f["code"] == "too_many_layers"]
    assert "3105 layers" in f["message"]
    assert len(json.dumps(r)) < 200_000  # no row or finding per layer
    assert (graded["out"] / "many_identity_layers" / "report.html").stat().st_size < 500_000


def test_output_is_capped(graded):
    r = graded["mixed"]["huge_output"]
    assert len(r["stdout"]) < 200_000


def test_markup_is_escaped_everywhere(graded):
    out = graded["out"]
    for page in [out / "index.html", *out.glob("*/report.html")]:
        text = page.read_text()
        assert "<img src=x onerror" not in text, page
        assert "<script>alert" not in text, page


# --------------------------------------------------------------------------- only the tracer's trace counts


@pytest.fixture(scope="module")
def checked(tmp_path_factory, use_sandbox, recorded):
    """The forging and blinding cases graded one by one with `grader check`
    (a fresh sandboxed interpreter each: the cold path)."""
    if not use_sandbox:
        pytest.skip("the hostile corpus needs the sandbox (apt-get install bubblewrap)")
    root = tmp_path_factory.mktemp("hostile_check")
    env = {**os.environ, "NO_COLOR": "1"}
    out = {}
    for sid in FORGED + list(BLINDING) + BYPASSING + LAUNDERED:
        f = root / f"{sid}.py"
        f.write_text(hostile_text(HOSTILE / f.name, recorded))
        p = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(f), "--out", str(root / sid)],
                           env=env, capture_output=True, text=True, timeout=600)
        assert p.returncode in (0, 1), p.stderr[-3000:]
        out[sid] = json.loads((root / sid / "report.json").read_text())
    return out


def _no_credit(r):
    assert r["status"] == "failed" and r["score"] == 0
    assert all(p["score"] == 0 for p in r["parts"])
    assert roots(r) == {("no_model", "data")}, roots(r)


def _refusal(r) -> str:
    return next(f["message"] for f in r["findings"] if f["code"] == "no_model")


@pytest.mark.parametrize("sid", FORGED)
def test_a_forged_trace_gets_no_credit(graded, checked, sid):
    for how in (graded["mixed"][sid], checked[sid]):  # warm workers (batch) and a cold child (check)
        _no_credit(how)
        assert "refused" in _refusal(how)  # the trace reached the grader and was turned down


def test_the_secret_is_nowhere_a_submission_can_look(graded, checked):
    """The seal key is not in a file, the environment or a descriptor when the
    submission's first line runs, in a warm worker's child and in a cold one."""
    for r in (graded["mixed"]["hunts_the_secret"], checked["hunts_the_secret"]):
        line = next(l for l in r["stderr"].splitlines() if l.startswith("HUNT "))
        seen = json.loads(line[5:])
        assert not [p for p in seen["files"] if trace.SEAL_NAME in p], seen["files"]
        assert set(seen["fds"]) <= {0, 1, 2, 3}, seen["fds"]  # stdin, stdout, stderr, the result channel
        assert seen["keys"] == []  # nothing of the key's size anywhere: files, request, fds, environment, /proc
        assert seen["candidates"] > 10 and trace.REQUEST_NAME in " ".join(seen["files"])  # it really looked


def test_a_trace_sealed_by_the_tracer_itself_is_still_checked(graded, checked):
    """frame_walker gets the tracer's own emit() to seal a copied trace: the
    seal is genuine, and the parent's check of the places still refuses it."""
    for r in (graded["mixed"]["frame_walker"], checked["frame_walker"]):
        assert "WALKER found the tracer's emit" in r["stderr"]
        assert "correct_functional.py" in _refusal(r) and "not a Python file of the submission" in _refusal(r)


def _withheld(r):
    """Flagged for review: the integrity finding takes every point."""
    assert r["status"] == "failed" and r["score"] == 0
    assert all(p["score"] == 0 for p in r["parts"])
    assert ("integrity", "data") in roots(r), roots(r)


@pytest.mark.parametrize("sid", list(BLINDING))
def test_undoing_the_hooks_still_diagnoses_the_real_model_and_withholds_its_score(graded, checked, sid):
    """The model is traced again with the hooks back, so its real fault is
    found; but its layers have no construction line (the hooks that record it
    were off), so the score is withheld for review (integrity)."""
    twin = graded["mixed"][f"{sid}_twin"]
    assert BLINDING[sid] in roots(twin)  # the fault is real
    assert twin["status"] == "graded" and 0 < twin["score"] < twin["max_score"]
    for r in (graded["mixed"][sid], checked[sid]):
        _withheld(r)
        assert BLINDING[sid] in roots(r), roots(r)
        assert roots(r) - {("integrity", "data")} == roots(twin)
        assert r["model"]["total_params"] == twin["model"]["total_params"]
        assert "has no construction line" in next(f["message"] for f in r["findings"] if f["code"] == "integrity")


@pytest.mark.parametrize("sid", LAUNDERED)
def test_a_laundered_trace_is_flagged_and_worth_nothing(graded, checked, sid):
    """The tracer's own emit (found with gc) seals a correct trace whose places
    are null: the places check has nothing to refuse, the integrity check finds
    no line of the file that builds any of its layers."""
    for r in (graded["mixed"][sid], checked[sid]):
        assert "GC found the tracer's emit" in r["stderr"]
        _withheld(r)
    import pandas as pd

    csv = pd.read_csv(graded["out"] / "grades.csv", dtype=str, keep_default_na=False).set_index("id")
    assert csv.loc[sid, "review"].startswith("integrity: ")
    assert csv.loc["correct_functional", "review"] == ""
    assert "to review (integrity)" in (graded["out"] / "index.html").read_text()


def test_a_lying_activation_is_found_by_what_it_computes(graded):
    r = graded["mixed"]["lying_relu"]
    assert r["status"] == "graded"
    assert {("activation", "conv1/7x7_s2"), ("activation", "conv2/3x3")} <= roots(r), roots(r)
    msg = {f["location"]: f["message"] for f in r["findings"] if f["code"] == "activation"}
    assert "tanh" in msg["conv1/7x7_s2"] and "sigmoid" in msg["conv2/3x3"]


@pytest.mark.parametrize("sid", BYPASSING)
def test_a_model_the_tracer_cannot_see_gets_no_credit(graded, checked, sid):
    twin = graded["mixed"][f"{sid}_twin"]
    assert twin["status"] == "graded" and twin["score"] > 0  # the model itself would earn points
    for r in (graded["mixed"][sid], checked[sid]):
        assert r["status"] == "failed" and r["score"] == 0
        assert roots(r) in ({("no_model", "data")}, {("build_error", "data")}), roots(r)
