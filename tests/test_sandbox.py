"""Tests of grader.sandbox against a real bubblewrap.

Without bubblewrap the tests try `apt-get install bubblewrap` (when root); they
are skipped only when that is impossible, and never when CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from grader import sandbox as sb

PY = sys.executable
PROJECT = Path(__file__).resolve().parents[1]
IS_ROOT = os.geteuid() == 0
ON_CI = os.environ.get("CI", "").lower() == "true"


def _try_install_bwrap() -> None:
    if shutil.which("bwrap") or not IS_ROOT or not shutil.which("apt-get"):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "install", "-y", "-q", "bubblewrap"],
                ["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "bubblewrap"]):
        try:
            subprocess.run(cmd, env=env, capture_output=True, timeout=300, check=False)
        except (OSError, subprocess.SubprocessError):
            return
        if shutil.which("bwrap"):
            return


@pytest.fixture(scope="session")
def bwrap() -> sb.SandboxStatus:
    _try_install_bwrap()
    sb._status_cache = None  # re-check after a possible install
    status = sb.sandbox_status()
    if not status.available:
        if ON_CI:
            pytest.fail(f"bubblewrap sandbox unavailable on CI: {status.reason}")
        pytest.skip(f"bubblewrap sandbox unavailable ({status.reason}); apt-get install bubblewrap")
    return status


def _script(code: str) -> dict[str, bytes]:
    return {"main.py": textwrap.dedent(code).encode()}


def _host_pids_with(marker: str, comm: str | None = None) -> list[int]:
    """Host pids whose command line contains *marker* (and whose name is *comm*)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            if comm is not None:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() != comm:
                        continue
        except OSError:
            continue
        if marker.encode() in cmdline:
            pids.append(int(entry))
    return pids


def _vm_hwm_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


# --------------------------------------------------------------------------- basics


def test_status_is_cached_and_names_bwrap(bwrap):
    assert bwrap.method == "bwrap" and bwrap.reason == ""
    assert sb.sandbox_status() is sb.sandbox_status()


def test_prints_and_writes_result_to_fd3(bwrap):
    files = _script(
        """
        import json, os, sys
        print("hello from the sandbox")
        print("to stderr", file=sys.stderr)
        data = open("data/input.txt").read()
        fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
        os.write(3, json.dumps({"cwd": os.getcwd(), "uid": os.getuid(), "data": data, "fds": fds,
                                "home": os.environ["HOME"], "prefix": sys.prefix}).encode())
        """
    )
    files["data/input.txt"] = b"42"
    r = sb.run([PY, "main.py"], files=files, limits=sb.Limits(wall_seconds=30))
    assert r.returncode == 0, r.stderr
    assert r.sandboxed and not r.timed_out and not r.memory_exceeded and r.killed_signal is None
    assert r.stdout == "hello from the sandbox\n"
    assert r.stderr == "to stderr\n"
    got = json.loads(r.result)
    assert got["cwd"] == "/work" and got["home"] == "/work" and got["data"] == "42"
    assert got["fds"][:4] == [0, 1, 2, 3] and len(got["fds"]) == 5  # + listdir's own: no leaks
    if IS_ROOT:
        assert got["uid"] == sb.SANDBOX_UID
    assert not r.result_truncated


def test_no_result_is_none_and_exit_code_and_signal(bwrap):
    r = sb.run([PY, "-c", "import sys; sys.exit(3)"], files={})
    assert r.returncode == 3 and r.result is None and r.killed_signal is None
    r = sb.run([PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"], files={})
    assert r.returncode == -11 and r.killed_signal == 11


def test_result_channel_is_capped(bwrap):
    code = "import os\nfor _ in range(64): os.write(3, b'r' * 65536)\nprint('done')"
    r = sb.run([PY, "-c", code], files={}, limits=sb.Limits(result_bytes=100_000))
    assert r.returncode == 0 and r.stdout == "done\n"
    assert r.result == b"r" * 100_000 and r.result_truncated


def test_env_is_cleared_and_pinned(bwrap):
    os.environ["GRADER_SECRET_TEST"] = "leak"
    try:
        r = sb.run(
            [PY, "-c", "import json, os, sys; os.write(3, json.dumps(dict(os.environ)).encode())"],
            files={},
            env={"FOO": "bar", "OMP_NUM_THREADS": "2", "TF_CPP_MIN_LOG_LEVEL": "0"},
        )
    finally:
        del os.environ["GRADER_SECRET_TEST"]
    env = json.loads(r.result)
    assert "GRADER_SECRET_TEST" not in env
    assert env["FOO"] == "bar" and env["HOME"] == "/work" and env["LANG"]
    assert env["OMP_NUM_THREADS"] == "2"  # caller may override the thread pins
    assert env["TF_NUM_INTRAOP_THREADS"] == "1" and env["TF_NUM_INTEROP_THREADS"] == "1"
    for key, value in {"CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg",
                       "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}.items():
        assert env[key] == value  # always forced


def test_rlimits_are_applied(bwrap):
    code = """
        import json, os, resource
        names = ["RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_NPROC", "RLIMIT_AS"]
        os.write(3, json.dumps({n: resource.getrlimit(getattr(resource, n)) for n in names}).encode())
        """
    limits = sb.Limits(cpu_seconds=7, fsize_mb=3, nproc=200)
    got = json.loads(sb.run([PY, "main.py"], files=_script(code), limits=limits).result)
    assert got["RLIMIT_CPU"][0] == 7
    assert got["RLIMIT_FSIZE"] == [3 << 20, 3 << 20]
    assert got["RLIMIT_CORE"] == [0, 0]
    if IS_ROOT:
        assert got["RLIMIT_NPROC"] == [200, 200]


def test_bad_arguments(bwrap):
    for name in ("../x.py", "/etc/x.py", "a/../../x", ""):
        with pytest.raises(ValueError):
            sb.run([PY, "-c", "pass"], files={name: b""})
    with pytest.raises(ValueError):
        sb.run([PY, "-c", "pass"], files={"a": b"", "a/b": b""})
    with pytest.raises(ValueError):
        sb.run([PY, "-c", "pass"], files={}, ro_binds=[("/nonexistent-xyz", "/data")])
    with pytest.raises(sb.SandboxError):  # bwrap cannot create a mount point in read-only /usr
        sb.run([PY, "-c", "pass"], files={}, ro_binds=[("/etc/hostname", "/usr/new/x")])


# --------------------------------------------------------------------------- limits


def test_infinite_loop_times_out_quickly(bwrap):
    t0 = time.monotonic()
    r = sb.run([PY, "-c", "print('spin', flush=True)\nwhile True: pass"], files={},
               limits=sb.Limits(wall_seconds=1.0))
    elapsed = time.monotonic() - t0
    assert r.timed_out and r.killed_signal == 9 and r.returncode == -9
    assert r.stdout == "spin\n"
    assert 1.0 <= r.wall_seconds < 3.0 and elapsed < 4.0


def test_cpu_limit_kills(bwrap):
    r = sb.run([PY, "-c", "while True: pass"], files={},
               limits=sb.Limits(wall_seconds=20, cpu_seconds=1))
    assert not r.timed_out and r.killed_signal in (9, 24)  # SIGXCPU, then SIGKILL
    assert r.wall_seconds < 6


_GROW_8_GIB = """
import sys
chunks = []
for i in range(128):                      # 128 x 64 MiB = 8 GiB
    chunks.append(b"\\x01" * (64 << 20))  # bytes * n writes (touches) every page
print("survived", len(chunks))
"""


def test_memory_growth_to_8_gib_is_stopped(bwrap):
    t0 = time.monotonic()
    r = sb.run([PY, "main.py"], files=_script(_GROW_8_GIB), limits=sb.Limits(memory_mb=512))
    assert r.memory_exceeded, r
    assert "survived" not in r.stdout and r.returncode != 0
    assert time.monotonic() - t0 < 15
    # the machine is fine: the next run works
    assert sb.run([PY, "-c", "print('ok')"], files={}).stdout == "ok\n"


def test_memory_address_space_fallback_raises_memoryerror(bwrap):
    r = sb.run([PY, "main.py"], files=_script(_GROW_8_GIB),
               limits=sb.Limits(memory_mb=8192, address_space_mb=1024))
    assert r.memory_exceeded and "survived" not in r.stdout
    if not r.killed_signal:  # RLIMIT_AS path (no memory cgroup): Python's MemoryError
        assert "MemoryError" in r.stderr


# --------------------------------------------------------------------------- nothing survives


def test_detached_grandchildren_are_gone(bwrap):
    marker = f"{4000 + os.getpid() % 1000}.{uuid.uuid4().int % 10**6}"
    code = f"""
        import os, subprocess, time
        subprocess.Popen(["/bin/sh", "-c", "setsid sleep {marker}1 >/dev/null 2>&1 & exit 0"]).wait()
        if os.fork() == 0:          # classic double fork into a new session
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "{marker}2"])
            os._exit(0)
        time.sleep(0.3)
        print("started")
        """
    r = sb.run([PY, "main.py"], files=_script(code))
    assert r.stdout == "started\n", r.stderr
    assert _host_pids_with(marker) == []


def test_grandchildren_are_gone_after_timeout(bwrap):
    marker = f"{5000 + os.getpid() % 1000}.{uuid.uuid4().int % 10**6}"
    code = f"""
        import subprocess, sys, time
        subprocess.Popen(["/bin/sh", "-c", "setsid sleep {marker} & exit 0"]).wait()
        time.sleep(0.3)
        print("started", flush=True)
        while True:
            pass
        """
    r = sb.run([PY, "main.py"], files=_script(code), limits=sb.Limits(wall_seconds=1.5))
    assert r.timed_out and r.stdout == "started\n"
    assert _host_pids_with(marker) == []


def test_everything_dies_with_the_grader(bwrap, tmp_path):
    marker = f"{6000 + os.getpid() % 1000}.{uuid.uuid4().int % 10**6}"
    payload = (
        "import subprocess, time\n"
        f"subprocess.Popen(['/bin/sh', '-c', 'setsid sleep {marker} & exit 0']).wait()\n"
        "time.sleep(120)\n"
    )
    grader_script = tmp_path / "grader_script.py"
    grader_script.write_text(
        "import sys\nfrom grader import sandbox as sb\n"
        f"sb.run([sys.executable, '-c', {payload!r}], files={{}})\n"
    )
    grader = subprocess.Popen([PY, str(grader_script)], cwd=str(PROJECT))
    try:
        deadline = time.monotonic() + 30
        # wait for the real `sleep`: the sandbox is fully set up then (a grader
        # killed during bwrap's first milliseconds is a separate, known window)
        while not _host_pids_with(marker, comm="sleep"):
            assert time.monotonic() < deadline, "payload did not start"
            assert grader.poll() is None, "grader exited early"
            time.sleep(0.05)
    finally:
        grader.kill()
        grader.wait()
    deadline = time.monotonic() + 5
    while _host_pids_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _host_pids_with(marker) == []


def test_closed_pipes_do_not_defeat_the_timeout(bwrap):
    code = "import os\nfor fd in (1, 2, 3): os.close(fd)\nwhile True: pass"
    r = sb.run([PY, "-c", code], files={}, limits=sb.Limits(wall_seconds=1))
    assert r.timed_out and r.wall_seconds < 3


@pytest.mark.skipif(not IS_ROOT, reason="RLIMIT_NPROC is only set when the child gets its own uid")
def test_fork_bomb_is_bounded_by_nproc(bwrap):
    code = """
        import os, time
        n = 0
        try:
            while n < 2000:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
            print("unbounded", n)
        except OSError as e:
            print("stopped", n)
        """
    r = sb.run([PY, "main.py"], files=_script(code), limits=sb.Limits(nproc=64, wall_seconds=20))
    assert r.stdout.startswith("stopped"), r
    assert int(r.stdout.split()[1]) < 64


# --------------------------------------------------------------------------- isolation


def test_writes_outside_scratch_change_nothing_on_host(bwrap, tmp_path):
    tag = uuid.uuid4().hex
    info = sb._probe_python(PY)
    site_packages = Path(info.site_packages[0])
    venv_inside = (f"{sb.VENV_IN_SANDBOX}/{site_packages.relative_to(info.prefix)}"
                   if info.is_venv else str(site_packages))
    targets = [
        f"/tmp/grader-escape-{tag}",                  # the host's /tmp
        str(PROJECT / f"escape-{tag}"),               # the project folder
        str(PROJECT / "submissions" / f"escape-{tag}"),
        f"/var/tmp/grader-escape-{tag}",
        f"/root/grader-escape-{tag}",
        f"/etc/grader-escape-{tag}",
        str(site_packages / f"escape-{tag}.pth"),     # (lands in the scratch inside)
        f"{venv_inside}/escape-{tag}.pth",
        f"/usr/lib/grader-escape-{tag}",
    ]
    code = f"""
        import json, os
        seen = {{p: os.path.exists(p) for p in {[str(PROJECT / "submissions"), str(PROJECT / "reference"),
                                                   str(PROJECT / ".git"), "/home", str(PROJECT),
                                                   "/etc/shadow", "/var", "/sys/fs/cgroup"]!r}}}
        import ctypes
        userns = ctypes.CDLL(None, use_errno=True).unshare(0x10000000)  # CLONE_NEWUSER
        wrote, listing = [], {{"userns": userns}}
        for path in {targets!r}:
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write("escaped")
                wrote.append(path)
            except OSError:
                pass
        for d in ["/", "/root", "/opt", "/etc", "/work"]:
            try:
                listing[d] = sorted(os.listdir(d))
            except OSError as e:
                listing[d] = str(e)
        os.write(3, json.dumps({{"wrote": wrote, "listing": listing, "seen": seen}}).encode())
        """
    r = sb.run([PY, "main.py"], files=_script(code))
    assert r.returncode == 0, r.stderr
    got = json.loads(r.result)
    for path in targets:
        assert not os.path.exists(path), f"{path} was written on the host"
    assert not (site_packages / f"escape-{tag}.pth").exists()
    # inside, only the private tmpfs mounts (/tmp, /work) are writable
    assert set(got["wrote"]) <= {p for p in targets if p.startswith(("/tmp/", "/work/"))}
    assert targets[-2] not in got["wrote"]  # the venv is read-only
    assert not any(got["seen"].values()), got["seen"]
    assert set(got["listing"]["/"]) <= {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc",
                                        "proc", "dev", "tmp", "work", "opt", "root", "sys"}
    # the scratch holds main.py (and what the escape attempts created there)
    assert set(got["listing"]["/work"]) <= {"main.py", *Path(PROJECT).parts[2:3]}
    assert got["listing"]["/opt"] == ["venv"]
    assert got["listing"]["userns"] == -1  # no nested user namespaces


def test_the_grader_itself_is_hidden_inside(bwrap):
    """Wherever a bind exposes the grader's own package (a wheel install sits in the
    venv's site-packages, which the sandbox shares), the submission finds an empty
    folder there: not the grader, its reference builders or its assignment files."""
    import grader

    own = Path(grader.__file__).resolve().parent
    code = """
        import json, os
        out = {p: sorted(os.listdir(p)) for p in ["/data", "/data/grader"]}
        try:
            import importlib, sys
            sys.path.insert(0, "/data")
            importlib.import_module("grader.architectures.googlenet.model")
            out["import"] = "imported"
        except ImportError as e:
            out["import"] = type(e).__name__
        os.write(3, json.dumps(out).encode())
        """
    r = sb.run([PY, "main.py"], files=_script(code), ro_binds=[(str(own.parent), "/data")])
    assert r.returncode == 0, r.stderr
    got = json.loads(r.result)
    assert "grader" in got["/data"] and "reference" in got["/data"]  # the bind itself is there
    assert got["/data/grader"] == []
    assert got["import"] == "ModuleNotFoundError"


def test_etc_shadow_unreadable(bwrap, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    secret.chmod(0o600)
    code = """
        import json, os
        out = {"uid": os.getuid(), "euid": os.geteuid()}
        for p in ["/etc/shadow", "/data/secret.txt"]:
            try:
                open(p).read()
                out[p] = "READ"
            except OSError as e:
                out[p] = type(e).__name__
        os.write(3, json.dumps(out).encode())
        """
    r = sb.run([PY, "main.py"], files=_script(code),
               ro_binds=[("/etc/shadow", "/etc/shadow"), (str(tmp_path), "/data")])
    got = json.loads(r.result)
    if IS_ROOT:
        assert got["uid"] == got["euid"] == sb.SANDBOX_UID
    assert got["/etc/shadow"] == "PermissionError"
    assert got["/data/secret.txt"] == "PermissionError"


def test_ro_binds_are_readable_and_read_only(bwrap, tmp_path):
    data = tmp_path / "dataset"
    data.mkdir()
    data.chmod(0o755)
    tmp_path.chmod(0o755)
    (data / "x.csv").write_text("a,b\n1,2\n")
    (data / "x.csv").chmod(0o644)
    code = """
        import os
        print(open("/data/x.csv").read(), end="")
        try:
            open("/data/new", "w")
        except OSError as e:
            print(type(e).__name__)
        """
    r = sb.run([PY, "main.py"], files=_script(code), ro_binds=[(str(data), "/data")])
    assert r.stdout == "a,b\n1,2\nOSError\n", r.stderr
    assert not (data / "new").exists()


def test_no_network_to_host_loopback(bwrap):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    port = server.getsockname()[1]
    code = f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"leak")
            print("CONNECTED")
        except OSError as e:
            print("refused", type(e).__name__)
        try:
            socket.create_connection(("10.255.255.1", 80), timeout=1)
            print("CONNECTED")
        except OSError as e:
            print("refused", type(e).__name__)
        """
    try:
        r = sb.run([PY, "main.py"], files=_script(code), limits=sb.Limits(wall_seconds=20))
        assert "CONNECTED" not in r.stdout and r.stdout.count("refused") == 2, r
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()


# --------------------------------------------------------------------------- output


def test_200_mb_of_output_is_capped_and_parent_memory_stays_flat(bwrap):
    code = """
        import sys
        sys.stdout.buffer.write(b"HEAD")
        block = b"y" * (1 << 20)
        for _ in range(200):
            sys.stdout.buffer.write(block)
        sys.stdout.buffer.write(b"TAIL")
        sys.stderr.write("e" * 300_000 + "END")
        """
    before = _vm_hwm_kb()
    limits = sb.Limits(output_bytes=64 * 1024)
    r = sb.run([PY, "main.py"], files=_script(code), limits=limits)
    grown_mb = (_vm_hwm_kb() - before) / 1024
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("HEAD") and r.stdout.endswith("TAIL")
    omitted = 4 + 200 * (1 << 20) + 4 - 2 * 64 * 1024
    assert f"\n…[{omitted} bytes omitted]…\n" in r.stdout
    assert len(r.stdout) < 2 * 64 * 1024 + 100
    assert r.stderr.endswith("END") and "bytes omitted" in r.stderr
    assert grown_mb < 16, f"parent peak RSS grew by {grown_mb:.1f} MB"


# --------------------------------------------------------------------------- the real payload


def test_tensorflow_and_keras_import_inside(bwrap):
    code = """
        import json, os
        import tensorflow as tf
        import keras
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"),
                                  keras.layers.Dense(2)])
        out = model(tf.zeros((3, 8)))
        os.write(3, json.dumps({"shape": list(out.shape), "params": model.count_params(),
                                "keras": keras.__version__, "tf": tf.__version__}).encode())
        """
    r = sb.run([PY, "main.py"], files=_script(code), limits=sb.Limits(wall_seconds=90))
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.result)
    assert got["shape"] == [3, 2] and got["params"] == 8 * 4 + 4 + 4 * 2 + 2


# --------------------------------------------------------------------------- without the sandbox


def test_plain_subprocess_mode():
    files = _script(
        """
        import json, os, sys
        print("plain")
        os.write(3, json.dumps({"cwd": os.getcwd(), "data": open("sub/d.txt").read(),
                                "home": os.environ["HOME"],
                                "mpl": os.environ["MPLBACKEND"]}).encode())
        """
    )
    files["sub/d.txt"] = b"dd"
    r = sb.run([PY, "main.py"], files=files, sandbox=False)
    assert r.returncode == 0, r.stderr
    assert not r.sandboxed and r.stdout == "plain\n"
    got = json.loads(r.result)
    assert got["data"] == "dd" and got["cwd"] == got["home"] and got["mpl"] == "Agg"
    assert not os.path.exists(got["cwd"])  # temp dir removed

    r = sb.run([PY, "-c", "while True: pass"], files={}, sandbox=False,
               limits=sb.Limits(wall_seconds=0.5))
    assert r.timed_out and not r.sandboxed and r.wall_seconds < 3


def test_auto_mode_uses_bwrap_when_available(bwrap):
    r = sb.run([PY, "-c", "print(1)"], files={}, sandbox="auto")
    assert r.sandboxed and r.stdout == "1\n"


def test_unavailable_sandbox_raises_or_falls_back(monkeypatch):
    monkeypatch.setattr(sb, "_status_cache", sb.SandboxStatus(False, "none", "no bwrap here"))
    with pytest.raises(sb.SandboxUnavailable, match="no bwrap here"):
        sb.run([PY, "-c", "pass"], files={})
    r = sb.run([PY, "-c", "print('fallback')"], files={}, sandbox="auto")
    assert not r.sandboxed and r.stdout == "fallback\n"


@pytest.mark.skipif(sb._cgroup2_base() is None or not os.access(sb._cgroup2_base() or "/", os.W_OK),
                    reason="no writable cgroup v2 here: without the sandbox, setsid'd children may survive")
def test_plain_mode_kills_detached_children_via_cgroup():
    marker = f"{7000 + os.getpid() % 1000}.{uuid.uuid4().int % 10**6}"
    code = f"import subprocess\nsubprocess.Popen(['/bin/sh', '-c', 'setsid sleep {marker} & exit 0']).wait()"
    r = sb.run([PY, "-c", code], files={}, sandbox=False)
    assert r.returncode == 0 and r.wall_seconds < 3
    assert _host_pids_with(marker) == []
