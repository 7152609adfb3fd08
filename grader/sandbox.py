"""Run one untrusted Python process in a bubblewrap sandbox.

The module is stdlib only and imports without TensorFlow.  :func:`run` starts
``argv`` (``argv[0]`` is a Python interpreter on the host, usually a venv's
``sys.executable``) with a private scratch directory holding ``files`` and
returns a :class:`RunResult`; :func:`sandbox_status` says whether bubblewrap can
be used on this machine.

How one sandboxed run is put together::

    grader (this process: reads stdout/stderr/fd 3 with a selector, caps them,
      │     enforces the wall clock and, without a memory cgroup, the memory)
      └─ launcher: `python -I -S -c _LAUNCHER`  (tiny, stdlib; no preexec_fn)
           * joins a fresh cgroup v2 child (when one can be made),
           * moves the result pipe to fd 3,
           * as root: enters a private mount namespace and bind-mounts the host
             paths to expose (the Python install, the venv's site-packages, the
             caller's ro_binds) into a staging tmpfs, because after the next step
             they may be out of reach (/root is mode 700),
           * sets the rlimits, drops to uid/gid 65534 without groups when root
             (bwrap alone, as root, would leave root-owned files such as
             /etc/shadow readable), sets PR_SET_PDEATHSIG, execs bwrap
      └─ bwrap (unprivileged: user namespace) --unshare-all --die-with-parent ...
           └─ bwrap's init (pid 1 of a new pid namespace)
                └─ /bin/sh shim: signals "set up" on fd 4, execs the command
                   (cwd /work: a size-capped tmpfs; venv at /opt/venv)

Everything inside dies with the pid namespace when the untrusted process exits
or when the run is killed; the cgroup (``cgroup.kill``) is a second net.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

__all__ = [
    "Limits",
    "RunResult",
    "SandboxError",
    "SandboxStatus",
    "SandboxUnavailable",
    "Started",
    "run",
    "sandbox_status",
    "start",
]

MiB = 1024 * 1024

#: uid/gid the untrusted process runs as when the grader runs as root.
SANDBOX_UID = 65534
SANDBOX_GID = 65534
#: Where the venv (if argv[0] belongs to one) appears inside the sandbox.
VENV_IN_SANDBOX = "/opt/venv"
#: The scratch directory inside the sandbox (also the working directory and HOME).
SCRATCH_IN_SANDBOX = "/work"

_INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`)"
_POLL_SECONDS = 0.05
_DRAIN_SECONDS = 3.0


# --------------------------------------------------------------------------- API types


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run."""

    wall_seconds: float = 60.0
    cpu_seconds: int = 120
    #: cgroup v2 ``memory.max`` when a cgroup with the memory controller can be
    #: made; otherwise enforced by polling the resident memory (anonymous + shmem)
    #: of every process of the run, with ``address_space_mb`` as RLIMIT_AS backstop.
    memory_mb: int = 4096
    #: RLIMIT_AS, only without a memory cgroup.  TF reserves far more address
    #: space than it uses (GoogLeNet: ~2.5 GB AS for 0.8 GB RSS): keep it generous.
    address_space_mb: int = 16384
    #: RLIMIT_NPROC (threads count), only when the process runs as its own uid
    #: (grader as root); also ``pids.max`` of the cgroup where available.
    nproc: int = 512
    fsize_mb: int = 64
    #: size of the private tmpfs at /work; /tmp and /dev/shm get a tmpfs each of
    #: the same size.
    scratch_mb: int = 256
    #: keep the first and the last this many bytes of stdout and of stderr each
    output_bytes: int = 64 * 1024
    #: cap on the result channel (fd 3)
    result_bytes: int = 32 * 1024 * 1024


@dataclass(frozen=True)
class SandboxStatus:
    available: bool
    method: str  # "bwrap" | "none"
    reason: str  # why not, and what to install ("" when available)


@dataclass(frozen=True)
class RunResult:
    returncode: int | None  # exit code, or -N when killed by signal N (as subprocess)
    result: bytes | None  # what the child wrote to fd 3, capped; None if nothing
    result_truncated: bool
    stdout: str  # head + "\n…[N bytes omitted]…\n" + tail
    stderr: str
    timed_out: bool
    memory_exceeded: bool
    killed_signal: int | None
    wall_seconds: float
    sandboxed: bool


class SandboxError(RuntimeError):
    """The sandbox itself could not be set up (not a failure of the child)."""


class SandboxUnavailable(SandboxError):
    """``run(sandbox=True)`` was asked for but bubblewrap cannot be used here."""


# --------------------------------------------------------------------------- launcher

# Runs as `python -I -S -c _LAUNCHER CONFIG_JSON` between fork and the real exec,
# so that nothing has to happen in a preexec_fn (unsafe with threads).  On
# failure it writes the reason to the error pipe and exits 127; on success the
# error pipe (close-on-exec) just closes.
_LAUNCHER = r"""
import json, os, sys
cfg = json.loads(sys.argv[1])
err_fd = cfg["err_fd"]
os.set_inheritable(err_fd, False)  # closes on the exec below: "no error"
def fail(what, exc):
    os.write(err_fd, ("%s: %s" % (what, exc)).encode("utf-8", "replace"))
    os._exit(127)
try:
    if cfg.get("cgroup_procs"):
        with open(cfg["cgroup_procs"], "w") as f:
            f.write(str(os.getpid()))
except OSError as e:
    fail("joining cgroup " + cfg["cgroup_procs"], e)
for fd, target in ((cfg.get("result_fd"), 3), (cfg.get("sync_fd"), 4)):
    if fd is not None:
        os.dup2(fd, target)  # inheritable
        os.close(fd)
stage = cfg.get("stage")
if stage:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                           ctypes.c_ulong, ctypes.c_void_p]
    MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
    def mount(src, dst, fstype, flags, data):
        if libc.mount(src and src.encode(), dst.encode(), fstype and fstype.encode(), flags,
                      data and data.encode()) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "mount %s on %s: %s" % (src, dst, os.strerror(e)))
    try:
        if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
            e = ctypes.get_errno()
            raise OSError(e, "unshare(CLONE_NEWNS): " + os.strerror(e))
        mount(None, "/", None, MS_REC | MS_PRIVATE, None)
        # open the sources first: the tmpfs may hide them (e.g. a source in /tmp)
        srcs = [(os.open(src, os.O_PATH | os.O_CLOEXEC), is_dir) for src, is_dir in stage["binds"]]
        mount("tmpfs", stage["dir"], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
        for i, (src_fd, is_dir) in enumerate(srcs):
            dst = "%s/%d" % (stage["dir"], i)
            if is_dir:
                os.mkdir(dst)
            else:
                os.close(os.open(dst, os.O_CREAT | os.O_WRONLY, 0o644))
            mount("/proc/self/fd/%d" % src_fd, dst, None, MS_BIND | MS_REC, None)
            os.close(src_fd)
    except OSError as e:
        fail("staging bind mounts", e)
try:
    import resource
    for name, soft, hard in cfg["rlimits"]:
        resource.setrlimit(getattr(resource, name), (soft, hard))
except (OSError, ValueError) as e:
    fail("setrlimit", e)
drop = cfg.get("drop")
if drop:
    try:
        os.setgroups([])
        os.setresgid(drop[1], drop[1], drop[1])
        os.setresuid(drop[0], drop[0], drop[0])
    except OSError as e:
        fail("dropping privileges", e)
    if os.getuid() != drop[0] or os.geteuid() != drop[0]:
        fail("dropping privileges", "uid still %d" % os.geteuid())
try:
    import ctypes
    ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL (after setresuid)
except Exception:
    pass
if os.getppid() != cfg["parent_pid"]:
    os._exit(126)  # the grader is already gone
try:
    os.execv(cfg["argv"][0], cfg["argv"])
except OSError as e:
    fail("exec " + cfg["argv"][0], e)
"""


# --------------------------------------------------------------------------- helpers


def _high_fd(fd: int) -> int:
    """Move *fd* to a number >= 10 (close-on-exec) so that it never collides
    with fd 3 in the child; closes the original."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _memfd_with(name: str, data: bytes) -> int:
    fd = os.memfd_create(name[:200] or "file", os.MFD_CLOEXEC)
    try:
        _write_all(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
        return _high_fd(fd)
    except BaseException:
        os.close(fd)
        raise


class _HeadTail:
    """Keeps the first and the last *cap* bytes of a stream."""

    def __init__(self, cap: int) -> None:
        self.cap = max(0, cap)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data and self.cap:
            self.tail += data
            if len(self.tail) > self.cap:
                del self.tail[: len(self.tail) - self.cap]

    def text(self) -> str:
        omitted = self.total - len(self.head) - len(self.tail)
        head = bytes(self.head).decode("utf-8", errors="replace")
        tail = bytes(self.tail).decode("utf-8", errors="replace")
        if omitted > 0:
            return f"{head}\n…[{omitted} bytes omitted]…\n{tail}"
        return head + tail


class _Capped:
    """Keeps the first *cap* bytes of a stream, drains (and drops) the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = max(0, cap)
        self.buf = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.cap - len(self.buf)
        if room > 0:
            self.buf += data[:room]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------- cgroup v2

_cg_counter = itertools.count()
_CG_PREFIX = "grader-sandbox-"


def _cgroup2_base() -> str | None:
    """The directory of this process's own cgroup in the v2 hierarchy, if mounted."""
    mount = None
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                if right.split(" ", 1)[0] == "cgroup2":
                    mount = left.split(" ")[4]
                    break
        if mount is None:
            return None
        with open("/proc/self/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    rel = line[3:].strip()
                    break
            else:
                return None
    except OSError:
        return None
    base = os.path.normpath(mount + "/" + rel.lstrip("/"))
    return base if os.path.isdir(base) else None


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


class _Cgroup:
    """A child cgroup (v2) holding every process of one run."""

    def __init__(self, path: str, has_memory: bool) -> None:
        self.path = path
        self.has_memory = has_memory

    @classmethod
    def create(cls, limits: Limits) -> _Cgroup | None:
        base = _cgroup2_base()
        if base is None or not os.access(base, os.W_OK):
            return None
        cls._remove_stale(base)
        try:
            available = set(_read(base + "/cgroup.controllers").split())
            enabled = set(_read(base + "/cgroup.subtree_control").split())
        except OSError:
            return None
        for ctl in ("memory", "pids"):
            if ctl in available and ctl not in enabled:
                try:  # fails (EBUSY) when our own cgroup holds processes and is not the root
                    _write(base + "/cgroup.subtree_control", "+" + ctl)
                except OSError:
                    pass
        path = f"{base}/{_CG_PREFIX}{os.getpid()}-{next(_cg_counter)}"
        try:
            os.mkdir(path)
        except OSError:
            return None
        has_memory = False
        if os.path.exists(path + "/memory.max"):
            try:
                _write(path + "/memory.max", str(limits.memory_mb * MiB))
                has_memory = True
            except OSError:
                pass
            for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                try:
                    _write(f"{path}/{name}", value)
                except OSError:
                    pass
        if os.path.exists(path + "/pids.max"):
            try:
                _write(path + "/pids.max", str(limits.nproc))
            except OSError:
                pass
        return cls(path, has_memory)

    @staticmethod
    def _remove_stale(base: str) -> None:
        """Kill and remove the cgroups of graders that died (SIGKILL) mid-run.

        Normally nothing is left in them: the sandbox dies with the grader
        (PR_SET_PDEATHSIG on bwrap, --die-with-parent).  bwrap 0.8's pid 1 sets
        its PDEATHSIG only after a few ms of setup, so a grader killed in that
        window can orphan a sandbox: this reaps it on the next run."""
        try:
            names = os.listdir(base)
        except OSError:
            return
        for name in names:
            if not name.startswith(_CG_PREFIX):
                continue
            try:
                pid = int(name[len(_CG_PREFIX) :].split("-")[0])
            except ValueError:
                continue
            if pid != os.getpid() and not _pid_alive(pid):
                stale = _Cgroup(os.path.join(base, name), False)
                stale.kill()
                stale.destroy(wait_seconds=1.0)

    def procs(self) -> list[int]:
        try:
            return [int(x) for x in _read(self.path + "/cgroup.procs").split()]
        except (OSError, ValueError):
            return []

    def populated(self) -> bool:
        try:
            for line in _read(self.path + "/cgroup.events").splitlines():
                if line.startswith("populated "):
                    return line.split()[1] != "0"
        except OSError:
            pass
        return bool(self.procs())

    def kill(self) -> None:
        try:
            _write(self.path + "/cgroup.kill", "1")
            return
        except OSError:
            pass
        for pid in self.procs():  # kernels before 5.14
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def oom_killed(self) -> bool:
        if not self.has_memory:
            return False
        try:
            for line in _read(self.path + "/memory.events").splitlines():
                key, _, value = line.partition(" ")
                if key in ("oom_kill", "oom_group_kill") and int(value) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    def destroy(self, wait_seconds: float = 5.0) -> None:
        deadline = time.monotonic() + wait_seconds
        while self.populated() and time.monotonic() < deadline:
            self.kill()
            time.sleep(0.01)
        while True:
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() >= deadline:
                    return  # left for _remove_stale
                time.sleep(0.02)


# --------------------------------------------------------------------------- memory watchdog


def _descendants(root: int) -> list[int]:
    """*root* and all its descendants, via /proc/PID/task/TID/children."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                todo.extend(int(c) for c in _read(f"/proc/{pid}/task/{tid}/children").split())
            except (OSError, ValueError):
                pass
    return out


def _resident_bytes(pids: list[int]) -> int:
    """Sum of RssAnon + RssShmem (what the process itself allocated) of *pids*."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith((b"RssAnon:", b"RssShmem:")):
                        total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass
    return total


_MEMORY_ERROR_RE = re.compile(r"MemoryError\b|std::bad_alloc|Cannot allocate memory")


# --------------------------------------------------------------------------- interpreter probe


@dataclass(frozen=True)
class _PyInfo:
    executable: str  # as given
    realexe: str  # symlinks resolved
    prefix: str
    base_prefix: str
    base_exec_prefix: str
    site_packages: tuple[str, ...]
    version: str  # "3.11"

    @property
    def is_venv(self) -> bool:
        return os.path.realpath(self.prefix) != os.path.realpath(self.base_prefix)


_PROBE = (
    "import json, os, site, sys; print(json.dumps(dict("
    "executable=sys.executable, realexe=os.path.realpath(sys.executable), prefix=sys.prefix,"
    " base_prefix=sys.base_prefix, base_exec_prefix=sys.base_exec_prefix,"
    " site_packages=site.getsitepackages(),"
    " version='%d.%d' % sys.version_info[:2])))"
)
_probe_cache: dict[tuple[str, float], _PyInfo] = {}
_probe_lock = threading.Lock()


def _probe_python(exe: str) -> _PyInfo:
    real = os.path.realpath(exe)
    try:
        key = (os.path.abspath(exe), os.stat(real).st_mtime)
    except OSError as e:
        raise ValueError(f"argv[0] {exe!r} is not an existing Python interpreter: {e}") from None
    with _probe_lock:
        if key in _probe_cache:
            return _probe_cache[key]
    try:
        out = subprocess.run(
            [exe, "-I", "-c", _PROBE],
            capture_output=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            cwd="/",
            check=True,
        ).stdout
        d = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        raise ValueError(f"argv[0] {exe!r} does not run as a Python interpreter: {e}") from None
    info = _PyInfo(
        executable=os.path.abspath(exe),
        realexe=d["realexe"],
        prefix=d["prefix"],
        base_prefix=d["base_prefix"],
        base_exec_prefix=d["base_exec_prefix"],
        site_packages=tuple(d["site_packages"]),
        version=d["version"],
    )
    with _probe_lock:
        _probe_cache[key] = info
    return info


# --------------------------------------------------------------------------- sandbox layout

# Host paths exposed as they are (read-only) in every sandbox.
_SYSTEM_DIRS = ("/usr",)
_SYSTEM_TOPLEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_ETC = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/fonts",
    "/etc/os-release",
    "/etc/mime.types",
)
_SYSTEM_OTHER = ("/sys/devices/system/cpu",)  # CPU count/topology for numpy/TF


def _covered(path: str, dirs) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in dirs)


def _system_args() -> list[str]:
    args: list[str] = []
    for d in _SYSTEM_DIRS:
        args += ["--ro-bind", d, d]
    for p in _SYSTEM_TOPLEVEL:
        if os.path.islink(p):
            args += ["--symlink", os.readlink(p), p]
        elif os.path.isdir(p):
            args += ["--ro-bind", p, p]
    for p in _SYSTEM_ETC + _SYSTEM_OTHER:
        args += ["--ro-bind-try", p, p]
    return args


def _python_mounts(info: _PyInfo) -> tuple[list[tuple[str, str]], list[str], str, str]:
    """(host path, sandbox path) binds, extra bwrap args, the interpreter path
    inside the sandbox, and its bin directory."""
    binds: list[tuple[str, str]] = []
    bound: list[str] = list(_SYSTEM_DIRS)
    for p in (info.base_prefix, info.base_exec_prefix):
        p = os.path.realpath(p)
        if not _covered(p, bound):
            binds.append((p, p))
            bound.append(p)
    if not _covered(info.realexe, bound):
        binds.append((info.realexe, info.realexe))
        bound.append(info.realexe)
    extra: list[str] = []
    if not info.is_venv:
        return binds, extra, info.realexe, os.path.dirname(info.realexe)
    prefix = os.path.realpath(info.prefix)
    venv_bin = VENV_IN_SANDBOX + "/bin"
    cfg = os.path.join(info.prefix, "pyvenv.cfg")
    if os.path.exists(cfg):
        binds.append((cfg, VENV_IN_SANDBOX + "/pyvenv.cfg"))
    for sp in info.site_packages:
        real = os.path.realpath(sp)
        if _covered(real, [prefix]) and os.path.isdir(real):
            binds.append((real, VENV_IN_SANDBOX + "/" + os.path.relpath(real, prefix)))
    extra += ["--dir", venv_bin]
    for name in ("python", "python3", "python" + info.version):
        extra += ["--symlink", info.realexe, f"{venv_bin}/{name}"]
    return binds, extra, venv_bin + "/python", venv_bin


def _hide_grader(binds: list[tuple[str, str]]) -> list[str]:
    """bwrap arguments that lay an empty folder over the grader's own package
    wherever a bind exposes it (a wheel install in the venv's site-packages,
    or a system-wide one under /usr): the submission shares the Python
    installation, but must not import the grader, its reference builders or
    its assignment files. The tracer the child needs is bound on its own."""
    own = os.path.dirname(os.path.realpath(__file__))
    args: list[str] = []
    for host, inside in [*binds, *((d, d) for d in _SYSTEM_DIRS)]:
        if _covered(own, [host]):
            args += ["--tmpfs", inside.rstrip("/") + own[len(host.rstrip("/")):]]
    return args


def _check_files(files: dict[str, bytes], limits: Limits) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    total = 0
    for name, data in files.items():
        p = PurePosixPath(name)
        if (
            not name
            or "\0" in name
            or p.is_absolute()
            or not p.parts
            or any(part in ("..", "") for part in p.parts)
        ):
            raise ValueError(f"file name {name!r} must be a relative path without '..'")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"content of {name!r} must be bytes")
        data = bytes(data)
        if len(data) > limits.fsize_mb * MiB:
            raise ValueError(f"file {name!r} is larger than fsize_mb={limits.fsize_mb}")
        total += len(data)
        out.append(("/".join(p.parts), data))
    if total > limits.scratch_mb * MiB:
        raise ValueError(f"files ({total} bytes) do not fit in scratch_mb={limits.scratch_mb}")
    names = {n for n, _ in out}
    for n in names:
        parts = n.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in names:
                raise ValueError(f"{'/'.join(parts[:i])!r} is both a file and a folder")
    return out


def _child_env(env: dict[str, str] | None, home: str, path: str) -> dict[str, str]:
    out = {
        "PATH": path,
        "HOME": home,
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
    }
    out.update(env or {})
    out.update(
        {
            "CUDA_VISIBLE_DEVICES": "",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
        }
    )
    return out


def _rlimits(limits: Limits, *, address_space: bool, nproc: bool) -> list[list]:
    import resource  # stdlib, Unix only

    inf = resource.RLIM_INFINITY
    cpu = max(1, int(limits.cpu_seconds))
    out = [
        ["RLIMIT_CPU", cpu, cpu + 2],  # SIGXCPU, then SIGKILL
        ["RLIMIT_FSIZE", limits.fsize_mb * MiB, limits.fsize_mb * MiB],
        ["RLIMIT_CORE", 0, 0],
    ]
    if address_space:
        out.append(["RLIMIT_AS", limits.address_space_mb * MiB, limits.address_space_mb * MiB])
    if nproc:
        out.append(["RLIMIT_NPROC", limits.nproc, limits.nproc])
    # never raise a limit above what the grader itself may set
    clipped = []
    for name, soft, hard in out:
        cur_soft, cur_hard = resource.getrlimit(getattr(resource, name))
        if cur_hard != inf:
            hard = min(hard, cur_hard)
            soft = min(soft, hard)
        clipped.append([name, soft, hard])
    return clipped


def _passwd_group(uid: int, gid: int) -> tuple[bytes, bytes]:
    passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    group = "root:x:0:\n"
    if uid != 0:
        passwd += f"sandbox:x:{uid}:{gid}:sandbox:{SCRATCH_IN_SANDBOX}:/usr/sbin/nologin\n"
    if gid != 0:
        group += f"sandbox:x:{gid}:\n"
    return passwd.encode(), group.encode()


_SHIM = 'printf x >&4; exec 4>&-; exec "$0" "$@"'

_HOSTS = b"127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n"


# --------------------------------------------------------------------------- status


_status_cache: SandboxStatus | None = None
_status_lock = threading.Lock()


def sandbox_status() -> SandboxStatus:
    """Whether bubblewrap works here (cached; really starts a sandbox once)."""
    global _status_cache
    with _status_lock:
        if _status_cache is None:
            _status_cache = _check_bwrap()
        return _status_cache


def _bwrap_path() -> str | None:
    return shutil.which("bwrap") or next(
        (p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap") if os.access(p, os.X_OK)), None
    )


def _check_bwrap() -> SandboxStatus:
    bwrap = _bwrap_path()
    if bwrap is None:
        return SandboxStatus(False, "none", f"bwrap not found: {_INSTALL_HINT}")
    # a real (tiny) run through the whole machinery: launcher, staging, bwrap
    try:
        r = _run_bwrap([sys.executable, "-I", "-S", "-c", "pass"], [], [], None,
                       Limits(wall_seconds=30))
    except (SandboxError, OSError, ValueError) as e:
        return SandboxStatus(
            False,
            "none",
            f"bwrap is installed but cannot create a sandbox here ({e}); it needs unprivileged"
            " user namespaces (sysctl kernel.unprivileged_userns_clone=1 and"
            " user.max_user_namespaces > 0; Ubuntu >= 23.10: an AppArmor profile for bwrap;"
            " in Docker: --security-opt seccomp=unconfined --security-opt apparmor=unconfined)"
            " and, when the grader runs as root, CAP_SYS_ADMIN",
        )
    if r.returncode != 0:
        return SandboxStatus(
            False, "none", f"a test run in bwrap failed (exit {r.returncode}): {r.stderr.strip()}"
        )
    return SandboxStatus(True, "bwrap", "")


# --------------------------------------------------------------------------- spawning


def _launch(argv, *, drop, stage, pass_fds, rlimits, cgroup, result_fd, sync_fd, env, cwd):
    """Start the launcher; returns (Popen, error message from the launcher or "")."""
    err_r, err_w = os.pipe()
    err_w = _high_fd(err_w)
    cfg = {
        "err_fd": err_w,
        "cgroup_procs": cgroup.path + "/cgroup.procs" if cgroup else None,
        "result_fd": result_fd,
        "sync_fd": sync_fd,
        "stage": stage,
        "rlimits": rlimits,
        "drop": [SANDBOX_UID, SANDBOX_GID] if drop else None,
        "parent_pid": os.getpid(),
        "argv": list(argv),
    }
    fds = tuple(pass_fds) + tuple(fd for fd in (result_fd, sync_fd) if fd is not None)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _LAUNCHER, json.dumps(cfg)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=fds + (err_w,),
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except BaseException:
        os.close(err_r)
        raise
    finally:
        os.close(err_w)
    try:
        chunks = []
        while True:
            chunk = os.read(err_r, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(err_r)
    return proc, b"".join(chunks).decode("utf-8", "replace")


def run(
    argv: list[str],
    *,
    files: dict[str, bytes],
    ro_binds: list[tuple[str, str]] = (),
    env: dict[str, str] | None = None,
    limits: Limits = Limits(),
    sandbox: bool | Literal["auto"] = True,
) -> RunResult:
    """Run ``argv`` (``argv[0]``: a Python interpreter on the host) on ``files``.

    ``sandbox=True`` requires bubblewrap (raises :class:`SandboxUnavailable`
    otherwise), ``False`` runs a plain subprocess in a temporary directory with
    the same rlimits, ``"auto"`` uses bubblewrap when :func:`sandbox_status`
    says it works and falls back to the plain subprocess otherwise.
    Raises ``ValueError`` for bad arguments and :class:`SandboxError` when the
    sandbox could not be set up; whatever the child does ends up in the result.
    """
    if not argv:
        raise ValueError("argv is empty")
    argv = list(argv)
    if os.sep not in argv[0]:
        found = shutil.which(argv[0])
        if found is None:
            raise ValueError(f"argv[0] {argv[0]!r} not found on PATH")
        argv[0] = found
    checked = _check_files(files, limits)
    if sandbox == "auto":
        sandbox = sandbox_status().available
    elif sandbox:
        status = sandbox_status()
        if not status.available:
            raise SandboxUnavailable(status.reason)
    for host, inside in ro_binds:
        if not os.path.isabs(host) or not os.path.isabs(inside):
            raise ValueError(f"ro_binds entries must be absolute paths: {(host, inside)!r}")
        if not os.path.exists(host):
            raise ValueError(f"ro_binds source {host!r} does not exist")
        if os.path.normpath(inside) == "/" or _covered(os.path.normpath(inside), ("/proc", "/dev")):
            raise ValueError(f"cannot bind over {inside!r} inside the sandbox")
    if sandbox:
        return _run_bwrap(argv, checked, list(ro_binds), env, limits)
    return _run_plain(argv, checked, env, limits)


def _bwrap_command(argv, files, ro_binds, env, limits: Limits, *, as_pid_1: bool = False,
                   to_close: list[int]) -> tuple[list[str], dict | None, bool]:
    """The bwrap command line of one sandbox: (args, staging config for the
    launcher, whether the grader runs as root).  The memfds it makes for the
    files are appended to *to_close* (the caller passes them and closes them).

    ``as_pid_1``: no bwrap reaper in the sandbox, the command itself is pid 1 of
    the new pid namespace (signals from inside the namespace then reach it only
    when it handles them; see :mod:`grader.workers`)."""
    info = _probe_python(argv[0])
    bwrap = _bwrap_path()
    assert bwrap is not None
    as_root = os.geteuid() == 0
    uid, gid = (SANDBOX_UID, SANDBOX_GID) if as_root else (os.getuid(), os.getgid())
    py_binds, py_extra, py_inside, py_bin = _python_mounts(info)
    child_env = _child_env(env, SCRATCH_IN_SANDBOX, f"{py_bin}:/usr/local/bin:/usr/bin:/bin")

    # host paths to expose: when root, staged through a private mount
    # namespace of the launcher, since uid 65534 may not reach them.
    all_binds = py_binds + [(os.path.realpath(h), os.path.normpath(i)) for h, i in ro_binds]
    stage_dir = "/tmp"
    stage = None
    bind_args: list[str] = []
    if as_root:
        stage = {"dir": stage_dir, "binds": [[h, os.path.isdir(h)] for h, _ in all_binds]}
        for i, (_, inside) in enumerate(all_binds):
            bind_args += ["--ro-bind", f"{stage_dir}/{i}", inside]
    else:
        for host, inside in all_binds:
            bind_args += ["--ro-bind", host, inside]

    scratch = str(limits.scratch_mb * MiB)
    args = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--hostname", "sandbox",
        "--clearenv",
        *(["--as-pid-1"] if as_pid_1 else []),
        *_system_args(),
    ]
    passwd, group = _passwd_group(uid, gid)
    for data, dest in ((passwd, "/etc/passwd"), (group, "/etc/group"), (_HOSTS, "/etc/hosts")):
        fd = _memfd_with(os.path.basename(dest), data)
        to_close.append(fd)
        args += ["--ro-bind-data", str(fd), dest]
    args += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", scratch, "--tmpfs", "/dev/shm",
        "--size", scratch, "--tmpfs", "/tmp",
        "--size", scratch, "--tmpfs", SCRATCH_IN_SANDBOX,
    ]
    made_dirs: set[str] = set()
    for name, data in files:
        parts = name.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in made_dirs:
                made_dirs.add(d)
                args += ["--dir", f"{SCRATCH_IN_SANDBOX}/{d}"]
        fd = _memfd_with(parts[-1], data)
        to_close.append(fd)
        args += ["--perms", "0644", "--file", str(fd), f"{SCRATCH_IN_SANDBOX}/{name}"]
    args += py_extra + bind_args + _hide_grader(all_binds)
    args += ["--remount-ro", "/", "--chdir", SCRATCH_IN_SANDBOX]
    for k, v in child_env.items():
        args += ["--setenv", k, v]
    # The shim tells the grader (a byte on fd 4) that bwrap finished setting
    # up, closes fd 4 and execs the real command: bwrap's own errors can so
    # never be mistaken for the child's, nor the other way round.
    args += ["--", "/bin/sh", "-c", _SHIM, py_inside, *argv[1:]]
    return args, stage, as_root


def _run_bwrap(argv, files, ro_binds, env, limits: Limits) -> RunResult:
    to_close: list[int] = []
    cgroup = None
    try:
        args, stage, as_root = _bwrap_command(argv, files, ro_binds, env, limits, to_close=to_close)
        cgroup = _Cgroup.create(limits)
        rl = _rlimits(
            limits,
            address_space=not (cgroup and cgroup.has_memory),
            nproc=as_root,
        )
        return _supervise(
            args,
            pass_fds=to_close,  # closed (and emptied) by _supervise once spawned
            sync=True,
            drop=as_root,
            stage=stage,
            rlimits=rl,
            cgroup=cgroup,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            cwd="/",
            limits=limits,
            sandboxed=True,
        )
    finally:
        for fd in to_close:
            os.close(fd)
        if cgroup is not None:
            cgroup.destroy()


class Started:
    """A long-lived process started by :func:`start` (see :mod:`grader.workers`).

    ``proc`` is the launcher's Popen (its stdout and stderr are pipes the caller
    must drain); the process has the caller's ``channel_fd`` as its fd 3."""

    def __init__(self, proc: subprocess.Popen, cgroup: _Cgroup | None, sandboxed: bool,
                 workdir: str | None) -> None:
        self.proc = proc
        self.cgroup = cgroup
        self.sandboxed = sandboxed
        self.workdir = workdir  # the scratch folder of an unsandboxed process

    @property
    def has_memory_cgroup(self) -> bool:
        return bool(self.cgroup and self.cgroup.has_memory)

    def oom_kills(self) -> int:
        """How many processes the memory cgroup's OOM killer killed so far."""
        if not self.has_memory_cgroup:
            return 0
        n = 0
        try:
            for line in _read(self.cgroup.path + "/memory.events").splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    n = int(value)
        except (OSError, ValueError):
            pass
        return n

    def set_memory_max(self, nbytes: int) -> None:
        if self.has_memory_cgroup:
            try:
                _write(self.cgroup.path + "/memory.max", str(int(nbytes)))
            except OSError:
                pass

    def kill(self) -> None:
        """SIGKILL everything the process started (the cgroup, the launcher's group)."""
        if self.cgroup is not None:
            self.cgroup.kill()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass

    def close(self) -> None:
        self.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except (OSError, AttributeError):
                pass
        if self.cgroup is not None:
            self.cgroup.destroy()
            self.cgroup = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def start(
    argv: list[str],
    *,
    channel_fd: int,
    ro_binds: list[tuple[str, str]] = (),
    env: dict[str, str] | None = None,
    limits: Limits = Limits(),
    rlimits: list[list] | None = None,
    sandbox: bool = True,
    as_pid_1: bool = True,
    start_timeout: float = 60.0,
) -> Started:
    """Start a long-lived ``argv`` with the isolation of :func:`run` (same bwrap
    command line, launcher, dropped uid, cgroup) but without supervising it:
    the caller talks to it over ``channel_fd`` (its fd 3 inside), drains
    ``proc.stdout``/``proc.stderr`` and eventually calls :meth:`Started.close`.

    ``rlimits`` replaces the rlimits derived from ``limits`` (a long-lived
    process sets the per-task ones on its children itself).  With
    ``sandbox=True`` returns once bwrap has finished setting up (raises
    :class:`SandboxError` otherwise); ``sandbox=False`` runs a plain process in
    a fresh temporary folder (``Started.workdir``)."""
    argv = list(argv)
    if os.sep not in argv[0]:
        found = shutil.which(argv[0])
        if found is None:
            raise ValueError(f"argv[0] {argv[0]!r} not found on PATH")
        argv[0] = found
    if sandbox and not sandbox_status().available:
        raise SandboxUnavailable(sandbox_status().reason)
    for host, inside in ro_binds:
        if not os.path.isabs(host) or not os.path.isabs(inside) or not os.path.exists(host):
            raise ValueError(f"bad ro_binds entry {(host, inside)!r}")
    chan = fcntl.fcntl(channel_fd, fcntl.F_DUPFD_CLOEXEC, 10)
    to_close: list[int] = [chan]
    cgroup = None
    workdir = None
    sync_r = sync_w = None
    try:
        if sandbox:
            args, stage, as_root = _bwrap_command(argv, [], list(ro_binds), env, limits,
                                                  as_pid_1=as_pid_1, to_close=to_close)
            sync_r, sync_w = os.pipe()
            sync_r, sync_w = _high_fd(sync_r), _high_fd(sync_w)
            cwd, launch_env = "/", {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        else:
            workdir = tempfile.mkdtemp(prefix="grader-worker-")
            exe = os.path.abspath(argv[0])
            args, stage, as_root = [exe, *argv[1:]], None, False
            cwd = workdir
            launch_env = _child_env(env, workdir, f"{os.path.dirname(exe)}:/usr/local/bin:/usr/bin:/bin")
        cgroup = _Cgroup.create(limits)
        if cgroup is not None and cgroup.has_memory:
            try:  # a long-lived process: only its children get OOM-killed
                _write(cgroup.path + "/memory.oom.group", "0")
            except OSError:
                pass
        rl = rlimits if rlimits is not None else _rlimits(
            limits, address_space=not (cgroup and cgroup.has_memory), nproc=as_root and sandbox)
        proc, err = _launch(args, drop=as_root and sandbox, stage=stage,
                            pass_fds=[fd for fd in to_close if fd != chan], rlimits=rl, cgroup=cgroup,
                            result_fd=chan, sync_fd=sync_w, env=launch_env, cwd=cwd)
    except BaseException:
        for fd in to_close + [x for x in (sync_r, sync_w) if x is not None]:
            os.close(fd)
        if cgroup is not None:
            cgroup.destroy()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    for fd in to_close + [x for x in (sync_w,) if x is not None]:
        os.close(fd)
    started = Started(proc, cgroup, sandbox, workdir)
    if err:
        if sync_r is not None:
            os.close(sync_r)
        started.close()
        raise SandboxError(err)
    if sync_r is not None:
        ok = False
        try:
            sel = selectors.DefaultSelector()
            sel.register(sync_r, selectors.EVENT_READ)
            if sel.select(start_timeout):
                ok = os.read(sync_r, 1) == b"x"
            sel.close()
        finally:
            os.close(sync_r)
        if not ok:
            started.kill()
            try:
                _, stderr = proc.communicate(timeout=5)
            except (subprocess.TimeoutExpired, ValueError, OSError):
                stderr = b""
            started.close()
            raise SandboxError("bwrap could not set up the sandbox: "
                               + (stderr or b"").decode("utf-8", "replace").strip()
                               + f" (exit status {proc.returncode})")
    return started


def _run_plain(argv, files, env, limits: Limits) -> RunResult:
    workdir = tempfile.mkdtemp(prefix="grader-run-")
    cgroup = None
    try:
        for name, data in files:
            path = os.path.join(workdir, *name.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        exe = os.path.abspath(argv[0])
        child_env = _child_env(
            env, workdir, f"{os.path.dirname(exe)}:/usr/local/bin:/usr/bin:/bin"
        )
        cgroup = _Cgroup.create(limits)
        rl = _rlimits(limits, address_space=not (cgroup and cgroup.has_memory), nproc=False)
        return _supervise(
            [exe, *argv[1:]],
            pass_fds=[],
            sync=False,
            drop=False,
            stage=None,
            rlimits=rl,
            cgroup=cgroup,
            env=child_env,
            cwd=workdir,
            limits=limits,
            sandboxed=False,
        )
    finally:
        if cgroup is not None:
            cgroup.destroy()
        shutil.rmtree(workdir, ignore_errors=True)


def _supervise(argv, *, pass_fds, sync, drop, stage, rlimits, cgroup,
               env, cwd, limits: Limits, sandboxed: bool) -> RunResult:
    result_r, result_w = os.pipe()
    result_r, result_w = _high_fd(result_r), _high_fd(result_w)
    sync_r = sync_w = None
    if sync:
        sync_r, sync_w = os.pipe()
        sync_r, sync_w = _high_fd(sync_r), _high_fd(sync_w)
    start = time.monotonic()
    try:
        proc, err = _launch(argv, drop=drop, stage=stage, pass_fds=pass_fds, rlimits=rlimits,
                            cgroup=cgroup, result_fd=result_w, sync_fd=sync_w, env=env, cwd=cwd)
    except BaseException:
        for fd in (result_r, result_w, sync_r, sync_w):
            if fd is not None:
                os.close(fd)
        raise
    for fd in (result_w, sync_w, *pass_fds):
        if fd is not None:
            os.close(fd)
    pass_fds.clear()
    if err:
        for fd in (result_r, sync_r):
            if fd is not None:
                os.close(fd)
        proc.kill()
        proc.communicate()
        raise SandboxError(err)

    out = _HeadTail(limits.output_bytes)
    errs = _HeadTail(limits.output_bytes)
    res = _Capped(limits.result_bytes)
    started = bytearray()
    sel = selectors.DefaultSelector()
    sinks = {proc.stdout.fileno(): out, proc.stderr.fileno(): errs, result_r: res}
    if sync_r is not None:
        sinks[sync_r] = started
    for fd in sinks:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    pidfd = None
    try:  # readable as soon as the process exits: no polling delay at the end
        pidfd = os.pidfd_open(proc.pid)
        sel.register(pidfd, selectors.EVENT_READ)
    except (AttributeError, OSError):
        pass

    def kill_all() -> None:
        if cgroup is not None:
            cgroup.kill()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass

    deadline = start + limits.wall_seconds
    timed_out = mem_killed = False
    finished_at: float | None = None
    next_mem = start
    mem_limit = limits.memory_mb * MiB
    watch_memory = not (cgroup and cgroup.has_memory)

    def exited() -> bool:
        # WNOWAIT: leave the zombie, so its pid (= our process group) cannot be
        # reused before kill_all() has run
        try:
            return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    try:
        while finished_at is None or sel.get_map():
            now = time.monotonic()
            if finished_at is None:
                wait = _POLL_SECONDS if timed_out or mem_killed else min(_POLL_SECONDS, deadline - now)
            else:
                wait = finished_at + _DRAIN_SECONDS - now
            wait = max(0.001, wait)
            if sel.get_map():
                ready = sel.select(wait)
            else:
                time.sleep(wait)
                ready = []
            for key, _ in ready:
                fd = key.fd
                if fd == pidfd:
                    sel.unregister(fd)
                    continue
                try:
                    data = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                if data:
                    sink = sinks[fd]
                    if isinstance(sink, bytearray):
                        sink += data[:1]
                    else:
                        sink.feed(data)
                else:
                    sel.unregister(fd)
            now = time.monotonic()
            if finished_at is None:
                if exited():
                    finished_at = now
                    if pidfd is not None and pidfd in sel.get_map():
                        sel.unregister(pidfd)
                    kill_all()  # whatever it left behind (bwrap: the pid namespace is gone already)
                elif timed_out or mem_killed:
                    pass
                elif now >= deadline:
                    timed_out = True
                    kill_all()
                elif watch_memory and now >= next_mem:
                    next_mem = now + _POLL_SECONDS
                    pids = cgroup.procs() if cgroup is not None else _descendants(proc.pid)
                    if _resident_bytes(pids) > mem_limit:
                        mem_killed = True
                        kill_all()
            elif now >= finished_at + _DRAIN_SECONDS:
                break  # something still holds a pipe open (only possible without sandbox)
    except BaseException:
        kill_all()  # e.g. KeyboardInterrupt in the grader: do not leave the child behind
        raise
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
        proc.wait()
        for f in (proc.stdout, proc.stderr):
            f.close()
        for fd in (result_r, sync_r):
            if fd is not None:
                os.close(fd)
    wall = time.monotonic() - start

    if sync and not started:
        raise SandboxError(
            "bwrap could not set up the sandbox: "
            + (errs.text().strip() or "timed out" if timed_out else errs.text().strip())
            + f" (exit status {proc.returncode})"
        )

    rc = proc.returncode
    killed = -rc if rc is not None and rc < 0 else None
    if sandboxed and killed is None and rc is not None and 128 < rc <= 128 + 64:
        # bwrap's init reports a child killed by signal N as exit status 128 + N
        killed = rc - 128
        rc = -killed
    stderr_text = errs.text()
    memory_exceeded = mem_killed or bool(cgroup and cgroup.oom_killed())
    if not memory_exceeded and rc != 0 and not timed_out and not (cgroup and cgroup.has_memory):
        memory_exceeded = bool(_MEMORY_ERROR_RE.search(stderr_text[-4096:]))
    return RunResult(
        returncode=rc,
        result=bytes(res.buf) if res.total else None,
        result_truncated=res.total > len(res.buf),
        stdout=out.text(),
        stderr=stderr_text,
        timed_out=timed_out,
        memory_exceeded=memory_exceeded,
        killed_signal=killed,
        wall_seconds=wall,
        sandboxed=sandboxed,
    )
