"""Warm workers (grader.workers) against a real bubblewrap: warm and cold
grading give the same reports, and one submission can never see, change or
outlive into another.

One pool with ONE worker serves the whole module, so every submission after
the first runs in the very worker the previous ones ran in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from grader import check, sandbox as sb, trace
from grader.submission import load
from grader.workers import WarmPool

CASES = Path(__file__).resolve().parent / "data" / "cases"
ON_CI = os.environ.get("CI", "").lower() == "true"


def _try_install_bwrap() -> None:
    if shutil.which("bwrap") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "install", "-y", "-q", "bubblewrap"], ["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "bubblewrap"]):
        try:
            subprocess.run(cmd, env=env, capture_output=True, timeout=300, check=False)
        except (OSError, subprocess.SubprocessError):
            return
        if shutil.which("bwrap"):
            return


@pytest.fixture(scope="module")
def pool():
    _try_install_bwrap()
    sb._status_cache = None
    status = sb.sandbox_status()
    if not status.available:
        if ON_CI:
            pytest.fail(f"bubblewrap sandbox unavailable on CI: {status.reason}")
        pytest.skip(f"bubblewrap sandbox unavailable ({status.reason})")
    with WarmPool(1) as p:
        p.wait_ready()
        yield p


@pytest.fixture(scope="module")
def ref(ref_graph):
    return ref_graph


def _sub(tmp_path: Path, code: str, name: str = "main.py"):
    d = tmp_path / uuid.uuid4().hex[:8]
    d.mkdir()
    f = d / name
    f.write_text(textwrap.dedent(code))
    return f


def _trace(pool, assignment, path: Path, **kw):
    sub = load(path, assignment.entry_files)
    return trace.run_trace(sub, assignment, pool=pool, **kw)


def _comparable(report) -> dict:
    d = report.to_dict() if hasattr(report, "to_dict") else json.loads(report.to_json())
    for k in ("duration_s", "graded_at"):
        d.pop(k, None)
    return d


# --------------------------------------------------------------------------- warm == cold


@pytest.mark.parametrize("case", ["correct_functional.py", "fails_multi_student.py", "fails_missing_package.py"])
def test_warm_and_cold_reports_are_identical(pool, assignment, ref, case):
    path = CASES / case
    cold, _ = check.grade(path, assignment, use_sandbox=True, ref=ref, pool=None)
    warm, _ = check.grade(path, assignment, use_sandbox=True, ref=ref, pool=pool)
    assert warm.sandboxed and cold.sandboxed
    assert [f.code for f in warm.findings] == [f.code for f in cold.findings]
    assert warm.score == cold.score and warm.status == cold.status
    assert warm.model.total_params == cold.model.total_params
    assert _comparable(warm) == _comparable(cold)
    if case.startswith("correct"):
        assert warm.status == "graded" and warm.model.total_params
    if case == "fails_missing_package.py":
        assert warm.status == "failed" and warm.findings[0].code == "build_error"


def test_worker_is_pid1_single_threaded_and_warm(pool):
    (w,) = pool._workers.values()
    assert w.ready["pid1"] is True
    assert w.ready["threads"] == 1 and w.ready["tf_context"] is False
    peak = pool.peak_rss_bytes()
    assert len(peak) == 1 and 0 < peak[0] <= 1536 * 1024 * 1024


# --------------------------------------------------------------------------- isolation


def test_files_of_one_submission_are_gone_for_the_next(pool, assignment, tmp_path):
    marker = uuid.uuid4().hex
    first = _sub(tmp_path, f"""
        import os, ctypes
        open("left_in_cwd_{marker}.txt", "w").write("x")
        os.makedirs("sub/dir", exist_ok=True)
        open("sub/dir/f", "w").write("x")
        os.chmod("sub/dir", 0)  # try to make it undeletable
        open("/tmp/left_in_tmp_{marker}.txt", "w").write("x")
        open("/dev/shm/left_in_shm_{marker}", "w").write("x")
        os.environ["LEAK_{marker}"] = "1"
        libc = ctypes.CDLL(None)
        print("shmget", libc.shmget(0x4711, 4096, 0o1666))  # IPC_CREAT | 0666
        for target in ("/", "/opt", "/opt/venv", "/etc"):
            try:
                open(target + "/x_{marker}", "w")
                print("WROTE", target)
            except OSError:
                pass
        print("cwd", os.getcwd())
    """)
    r1 = _trace(pool, assignment, first)
    assert r1.status == "no_model", r1.stderr
    assert "WROTE" not in r1.stdout
    assert "shmget 0" in r1.stdout or "shmget" in r1.stdout

    second = _sub(tmp_path, f"""
        import os
        seen = []
        for d in (".", "/tmp", "/dev/shm", "/work"):
            for root, dirs, files in os.walk(d):
                seen += [os.path.join(root, n) for n in dirs + files]
        print("SEEN", sorted(seen))
        print("LEAK", [k for k in os.environ if "{marker}" in k])
        print("SHM", open("/proc/sysvipc/shm").read().splitlines()[1:])
    """)
    r2 = _trace(pool, assignment, second)
    assert r2.status == "no_model", r2.stderr
    assert marker not in r2.stdout.replace(f'"{marker}"', ""), r2.stdout
    line = next(ln for ln in r2.stdout.splitlines() if ln.startswith("SEEN"))
    assert "left_in" not in line and "sub/dir" not in line
    assert "LEAK []" in r2.stdout
    assert "SHM []" in r2.stdout
    assert pool.replaced == 0


def test_submission_cannot_signal_or_inspect_the_worker(pool, assignment, tmp_path):
    code = """
        import os, signal
        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGINT, signal.SIGSEGV):
            try:
                os.kill(1, sig)
            except OSError as e:
                print("kill", sig, type(e).__name__)
        for f in ("/proc/1/mem", "/proc/1/environ", "/proc/1/fd/3"):
            try:
                open(f, "rb").read(1)
                print("READ", f)
            except OSError as e:
                print("denied", f)
        print("ppid", os.getppid())
    """
    r = _trace(pool, assignment, _sub(tmp_path, code))
    assert r.status == "no_model", r.stderr
    assert "READ" not in r.stdout
    # the worker is still there and serves the next submission
    r2 = _trace(pool, assignment, _sub(tmp_path, "print('alive')"))
    assert r2.status == "no_model" and "alive" in r2.stdout
    assert pool.replaced == 0


def _host_pids_with(marker: str) -> list[int]:
    out = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open(f"/proc/{e}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        out.append(int(e))
            except OSError:
                pass
    return out


def test_detached_processes_die_with_their_submission(pool, assignment, tmp_path):
    secs = f"{900 + int(uuid.uuid4().int % 99)}.{uuid.uuid4().int % 1000:03d}"
    code = f"""
        import os, subprocess, time
        subprocess.Popen(["setsid", "sleep", "{secs}"], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.fork() == 0:  # a classic double-fork daemon
            os.setsid()
            if os.fork() == 0:
                os.execvp("sleep", ["sleep", "{secs}"])
            os._exit(0)
        time.sleep(0.5)
        print("started")
    """
    r = _trace(pool, assignment, _sub(tmp_path, code))
    assert "started" in r.stdout, r.stderr
    assert _host_pids_with(secs) == []
    assert pool.replaced == 0


# --------------------------------------------------------------------------- limits


def test_infinite_loop_times_out_and_the_worker_keeps_serving(pool, assignment, tmp_path):
    r = _trace(pool, assignment, _sub(tmp_path, "while True:\n    pass\n"), timeout_s=3)
    assert r.status == "timeout"
    assert 2.5 < r.wall_seconds < 3 + 10
    assert pool.replaced == 0
    r2 = _trace(pool, assignment, _sub(tmp_path, "print('next')"))
    assert r2.status == "no_model" and "next" in r2.stdout


def test_memory_hog_is_stopped_and_the_pool_goes_on(pool, assignment, tmp_path):
    code = """
        chunks = []
        while True:
            chunks.append(bytearray(64 * 1024 * 1024))  # zero-filled: really resident
            for i in range(0, len(chunks[-1]), 4096):
                chunks[-1][i] = 1
    """
    r = _trace(pool, assignment, _sub(tmp_path, code), memory_mb=1200, timeout_s=60)
    assert r.status == "memory_limit", (r.status, r.detail, r.stderr[-500:])
    r2 = _trace(pool, assignment, _sub(tmp_path, "print('after')"))
    assert r2.status == "no_model" and "after" in r2.stdout
    assert max(pool.peak_rss_bytes()) <= 1536 * 1024 * 1024 + 1200 * 1024 * 1024


def test_output_is_captured_per_submission_with_head_and_tail(pool, assignment, tmp_path):
    code = """
        import sys
        print("HEAD")
        sys.stdout.write("x" * 300000)
        print()
        print("TAIL")
        print("ERR", file=sys.stderr)
    """
    r = _trace(pool, assignment, _sub(tmp_path, code))
    assert r.stdout.startswith("HEAD") and r.stdout.rstrip().endswith("TAIL")
    assert "bytes omitted" in r.stdout
    assert r.stderr.strip() == "ERR"
    r2 = _trace(pool, assignment, _sub(tmp_path, "print('own output')"))
    assert r2.stdout == "own output\n"


def test_a_dead_worker_is_replaced_and_only_its_submission_fails(assignment, tmp_path):
    if not sb.sandbox_status().available:
        pytest.skip("no bubblewrap")
    with WarmPool(1) as p:
        p.wait_ready()
        (w,) = p._workers.values()
        code = "import time\nprint('sleeping', flush=True)\ntime.sleep(30)\n"
        import threading

        threading.Timer(2.0, w.kill).start()  # the worker dies mid-submission
        t0 = time.monotonic()
        r = _trace(p, assignment, _sub(tmp_path, code))
        assert r.status == "crashed" and time.monotonic() - t0 < 20
        assert "worker died" in r.stderr
        r2 = _trace(p, assignment, _sub(tmp_path, "print('fresh')"))
        assert r2.status == "no_model" and "fresh" in r2.stdout
        assert p.replaced == 1
