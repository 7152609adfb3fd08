"""A warm worker: runs inside the sandbox, imports TensorFlow and Keras once and
forks one fresh child per submission (see ``grader/workers.py`` for the grader's
side and the whole picture).

Started as ``python -B /opt/grader/_zygote.py CONFIG_JSON`` with the grader's
end of a Unix socket pair as fd 3.  Standard library only (plus the warm-up
imports and the tracer's package ``_grader_child``, bound beside it); it never
imports the grader package, and it never reads a submission: each job's files
and environment come in a memfd that only the forked child reads, so nothing
of one submission is ever in the memory that the next submission's child
inherits.

In the sandbox the worker is pid 1 of its own pid namespace (bwrap
``--as-pid-1``): the kernel delivers no signal from inside the namespace to it
unless it handles that signal, and it handles none (all are blocked), so a
submission can neither kill nor stop it; it is not dumpable, so a submission
(same uid) cannot ptrace it or read its memory or its file descriptors.  After
each job it kills every other process of the namespace (``kill(-1, SIGKILL)``),
reaps them all, empties the scratch, ``/tmp`` and ``/dev/shm``, removes SysV IPC
objects and clears the uid's keyrings, and says whether all that succeeded;
the grader replaces a worker that could not clean up.

Protocol on fd 3 (both ways): frames of a 4-byte big-endian length and a JSON
object.  grader -> worker: ``{"type": "job", ...}`` with four file descriptors
attached (stdout, stderr and result pipes of the child, the job's memfd);
worker -> grader: ``{"type": "ready", ...}`` once warm, then one
``{"type": "done", ...}`` per job.  EOF from the grader: the worker exits.
"""

from __future__ import annotations

import array
import ctypes
import json
import os
import select
import signal
import socket
import stat
import struct
import sys
import time

CHAN = 3
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
SYS_KEYCTL = 250  # x86_64
KEYCTL_CLEAR = 7
KEY_SPEC_USER_KEYRING = -4
KEY_SPEC_USER_SESSION_KEYRING = -5
IPC_RMID = 0
MAX_FRAME = 1 << 20

_libc = ctypes.CDLL(None, use_errno=True)
_ALL_SIGNALS = set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}


# --------------------------------------------------------------------------- framing


def send_frame(sock: socket.socket, obj: dict) -> None:
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack("!I", len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket) -> tuple[dict | None, list[int]]:
    """One frame and the file descriptors that came with it; (None, []) at EOF."""
    fds = array.array("i")
    msg, anc, _flags, _addr = sock.recvmsg(4, socket.CMSG_SPACE(16 * fds.itemsize), socket.MSG_CMSG_CLOEXEC)
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if not msg:
        return None, list(fds)
    if len(msg) < 4:
        rest = _recv_exact(sock, 4 - len(msg))
        if rest is None:
            return None, list(fds)
        msg += rest
    (n,) = struct.unpack("!I", msg)
    if n > MAX_FRAME:
        raise ValueError("frame too large")
    body = _recv_exact(sock, n)
    if body is None:
        return None, list(fds)
    return json.loads(body), list(fds)


# --------------------------------------------------------------------------- helpers


def _prctl(option: int, arg: int) -> None:
    _libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def tf_context_started() -> bool:
    """Whether TensorFlow's eager context exists with a C handle (thread pools)."""
    ctx_mod = sys.modules.get("tensorflow.python.eager.context")
    if ctx_mod is None:
        return False
    ctx = getattr(ctx_mod, "_context", None)
    return ctx is not None and getattr(ctx, "_context_handle", None) is not None


def status_kb(pid: int | str, keys: tuple[bytes, ...]) -> int:
    total = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(keys):
                    total += int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return total


def own_fds() -> set[int]:
    """The open descriptors (not the one the listing itself used, closed by now)."""
    out = set()
    for fd in (int(x) for x in os.listdir("/proc/self/fd")):
        try:
            os.fstat(fd)
        except OSError:
            continue
        out.add(fd)
    return out


def _descendants(root: int) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    kids = [int(c) for c in f.read().split()]
            except (OSError, ValueError):
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def _rmtree_contents(path: str) -> None:
    """Remove everything inside *path* (not *path* itself), whatever the modes."""
    try:
        os.chmod(path, 0o700 if os.path.isdir(path) and not os.path.islink(path) else 0o600)
    except OSError:
        pass
    try:
        entries = os.listdir(path)
    except OSError:
        return
    for name in entries:
        p = os.path.join(path, name)
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            _rmtree_contents(p)
            try:
                os.rmdir(p)
            except OSError:
                pass
        else:
            try:
                os.unlink(p)
            except OSError:
                pass


def _remove_sysv_ipc() -> bool:
    """Remove every SysV IPC object of this IPC namespace; True when none is left."""
    ok = True
    for kind, fn, extra in (("shm", "shmctl", ()), ("msg", "msgctl", ()), ("sem", "semctl", (0,))):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 2:
                continue
            ident = int(fields[1])
            if kind == "sem":
                rc = _libc.semctl(ctypes.c_int(ident), ctypes.c_int(0), ctypes.c_int(IPC_RMID), ctypes.c_int(0))
            else:
                rc = getattr(_libc, fn)(ctypes.c_int(ident), ctypes.c_int(IPC_RMID), None)
            if rc != 0:
                ok = False
    return ok


# --------------------------------------------------------------------------- the worker


class Zygote:
    def __init__(self, cfg: dict) -> None:
        self.cfg = cfg
        self.sandboxed = bool(cfg["sandboxed"])
        self.pid1 = os.getpid() == 1
        self.scratch = os.path.abspath(cfg["scratch"] or os.getcwd())
        # directories emptied after every job (in the sandbox all three are tmpfs
        # private to this worker; unsandboxed only our own scratch folder)
        self.wipe_dirs = [self.scratch] + (["/tmp", "/dev/shm"] if self.sandboxed else [])
        self.child_path = cfg["child"]
        self.sock = socket.socket(fileno=CHAN)
        self.orig_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _ALL_SIGNALS)
        _prctl(PR_SET_DUMPABLE, 0)
        if not self.pid1:
            _prctl(PR_SET_CHILD_SUBREAPER, 1)
        os.chdir("/")
        self.child_code = None
        self.base_fds: set[int] = set()
        self.jobs = 0

    # -- warm-up ----------------------------------------------------------------------
    def warm(self) -> dict:
        t0 = time.monotonic()
        import keras  # noqa: F401
        try:
            import tensorflow  # noqa: F401
        except Exception:
            tensorflow = None
        t_import = time.monotonic() - t0
        # The tracer, compiled and imported once: its entry file (run in each
        # child as __main__) and its package beside it (found by the entry file
        # in sys.modules, as a cold child imports it first thing, before any
        # submission's code); and the modules that the first model build would
        # import lazily (symbolic only: no layer is built, no variable made, no
        # TF op run, no thread started).
        with open(self.child_path, encoding="utf-8") as f:
            self.child_code = compile(f.read(), self.child_path, "exec")
        for name in self.cfg.get("child_modules", []):
            __import__(name)  # from this worker's own folder: the entry file's
        for name in self.cfg.get("warm_modules", []):
            try:
                __import__(name)
            except Exception:
                pass
        if tensorflow is not None:
            try:
                tensorflow.keras  # resolves TF's lazy loader (keras is imported already)
            except Exception:
                pass
        self.wipe()  # keras made ~/.keras while importing
        # Keep the children from copying the warm heap: a collection in the
        # child would touch (write) every object's header, page after page.
        import gc

        gc.collect()
        gc.freeze()
        self.base_fds = own_fds() - {CHAN}
        return {
            "type": "ready",
            "pid": os.getpid(),
            "pid1": self.pid1,
            "threads": thread_count(),
            "tf_context": tf_context_started(),
            "import_s": round(t_import, 3),
            "warm_s": round(time.monotonic() - t0, 3),
            "rss": status_kb("self", (b"VmRSS:",)) * 1024,
            "home": os.environ.get("HOME", ""),
            "path": os.environ.get("PATH", ""),
            "fds": sorted(self.base_fds),
        }

    # -- cleanup ----------------------------------------------------------------------------
    def job_pids(self) -> list[int]:
        if self.pid1:
            return [int(p) for p in os.listdir("/proc") if p.isdigit() and p != "1"]
        return _descendants(os.getpid())

    def kill_all(self) -> None:
        if self.pid1:
            try:
                os.kill(-1, signal.SIGKILL)  # every process of the namespace but us
            except ProcessLookupError:
                pass
            return
        for _ in range(3):  # unsandboxed: our descendants (we are their subreaper)
            pids = self.job_pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def reap_all(self, timeout: float = 10.0) -> bool:
        """Kill and reap every other process; True once none is left."""
        deadline = time.monotonic() + timeout
        while True:
            self.kill_all()
            try:
                while True:
                    pid, _ = os.waitpid(-1, os.WNOHANG)
                    if pid == 0:
                        break
            except ChildProcessError:
                if not self.job_pids():
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    def wipe(self) -> bool:
        ok = True
        for d in self.wipe_dirs:
            _rmtree_contents(d)
            try:
                if os.listdir(d):
                    ok = False
            except OSError:
                pass
        if self.sandboxed:
            ok = _remove_sysv_ipc() and ok
            for ring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
                _libc.syscall(ctypes.c_long(SYS_KEYCTL), ctypes.c_long(KEYCTL_CLEAR), ctypes.c_long(ring))
        return ok

    # -- one job ------------------------------------------------------------------------------
    def run_job(self, job: dict, fds: list[int]) -> dict:
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            return {"type": "done", "error": f"expected 4 file descriptors, got {len(fds)}", "clean": False}
        threads = thread_count()
        if threads != 1 or tf_context_started():
            for fd in fds:
                os.close(fd)
            return {"type": "done", "clean": False,
                    "error": f"not safe to fork: {threads} threads, TF context started: {tf_context_started()}"}
        self.jobs += 1
        sys.stdout.flush()
        sys.stderr.flush()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:  # ---- the child: never returns
            try:
                self.child(job, fds)
            except BaseException as e:  # noqa: BLE001
                try:
                    os.write(2, f"grader worker: could not start the submission: {type(e).__name__}: {e}\n".encode())
                finally:
                    os._exit(70)
            os._exit(70)
        for fd in fds:
            os.close(fd)
        return self.supervise(pid, job, t0)

    def supervise(self, pid: int, job: dict, t0: float) -> dict:
        wall = float(job["wall_seconds"])
        mem_limit = int(job["memory_bytes"])
        watch = bool(job.get("watch_memory", True))
        poll_s = float(job.get("poll_seconds", 0.05))
        deadline = t0 + wall
        timed_out = mem_killed = grader_gone = False
        peak_job_rss = 0
        status = rusage = None
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = None
        poller = select.poll()
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        poller.register(self.sock.fileno(), select.POLLIN)
        next_mem = t0
        while status is None:
            now = time.monotonic()
            wait = poll_s if (timed_out or mem_killed) else max(0.0, min(poll_s, deadline - now))
            events = poller.poll(max(1, int(wait * 1000)))
            for fd, _ev in events:
                if fd == self.sock.fileno() and not grader_gone:
                    # nothing is expected from the grader during a job: EOF (it is
                    # gone) or anything else means stop now
                    grader_gone = True
                    poller.unregister(fd)
                    self.kill_all()
            wpid, st, ru = os.wait4(pid, os.WNOHANG)
            if wpid == pid:
                status, rusage = st, ru
                break
            now = time.monotonic()
            if not (timed_out or mem_killed):
                if now >= deadline:
                    timed_out = True
                    self.kill_all()
                elif watch and now >= next_mem:
                    next_mem = now + poll_s
                    pids = self.job_pids()
                    anon = sum(status_kb(p, (b"RssAnon:", b"RssShmem:")) for p in pids) * 1024
                    peak_job_rss = max(peak_job_rss, sum(status_kb(p, (b"VmRSS:",)) for p in pids) * 1024)
                    if anon > mem_limit:
                        mem_killed = True
                        self.kill_all()
            elif pidfd is None:
                time.sleep(0.005)
        wall_s = time.monotonic() - t0
        if pidfd is not None:
            os.close(pidfd)
        no_procs = self.reap_all()
        clean = self.wipe() and no_procs
        rc = os.waitstatus_to_exitcode(status)
        return {
            "type": "done",
            "returncode": rc,
            "killed_signal": -rc if rc < 0 else None,
            "timed_out": timed_out,
            "memory_exceeded": mem_killed,
            "wall_seconds": round(wall_s, 4),
            "child_maxrss": int(rusage.ru_maxrss) * 1024 if rusage else 0,
            "child_cpu": round(rusage.ru_utime + rusage.ru_stime, 4) if rusage else 0.0,
            "child_minflt": int(rusage.ru_minflt) if rusage else 0,
            "peak_job_rss": peak_job_rss,
            "worker_rss": status_kb("self", (b"VmRSS:",)) * 1024,
            "worker_hwm": status_kb("self", (b"VmHWM:",)) * 1024,
            "clean": clean and not grader_gone,
            "grader_gone": grader_gone,
            "jobs": self.jobs,
        }

    # -- the forked child --------------------------------------------------------------------
    def child(self, job: dict, fds: list[int]) -> None:
        out_w, err_w, res_w, job_fd = fds
        os.setsid()
        self.sock.detach()  # fd 3 is replaced below; the socket object must not close it
        _prctl(PR_SET_DUMPABLE, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        try:
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")  # the first the OOM killer takes, never the worker
        except OSError:
            pass
        null = os.open("/dev/null", os.O_RDONLY)
        for src, dst in ((null, 0), (out_w, 1), (err_w, 2), (res_w, 3)):
            os.dup2(src, dst)  # inheritable
        for fd in {null, out_w, err_w, res_w} - {0, 1, 2, 3}:
            os.close(fd)  # the originals: fds 0-3 are the only ways out
        keep = {0, 1, 2, 3} | self.base_fds
        for fd in own_fds() - keep - {job_fd}:
            try:
                os.close(fd)
            except OSError:
                pass
        # the job: files and environment, read here only (never in the worker)
        data = bytearray()
        while True:
            chunk = os.read(job_fd, 1 << 20)
            if not chunk:
                break
            data += chunk
        os.close(job_fd)
        (n,) = struct.unpack("!I", data[:4])
        spec = json.loads(bytes(data[4 : 4 + n]))
        pos = 4 + n
        os.environ.clear()
        os.environ.update(spec["env"])
        umask = os.umask(0o022)
        for name, size in spec["files"]:
            path = os.path.join(self.scratch, *name.split("/"))
            parent = os.path.dirname(path)
            if parent != self.scratch:
                os.makedirs(parent, mode=0o755, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            view = memoryview(data)[pos : pos + size]
            while view:
                view = view[os.write(fd, view):]
            os.close(fd)
            pos += size
        os.umask(umask)
        # the job held the run's seal key among its files: leave no copy in memory
        data[:] = bytes(len(data))
        del data
        os.chdir(self.scratch)
        import resource

        for name, soft, hard in job["rlimits"]:
            which = getattr(resource, name)
            _cur_soft, cur_hard = resource.getrlimit(which)
            if cur_hard != resource.RLIM_INFINITY:
                hard = cur_hard if hard == resource.RLIM_INFINITY else min(hard, cur_hard)
                soft = hard if soft == resource.RLIM_INFINITY else min(soft, hard)
            resource.setrlimit(which, (soft, hard))
        np = sys.modules.get("numpy")
        if np is not None:
            try:
                np.random.seed()  # a fresh process would have a fresh seed
            except Exception:
                pass
        signal.pthread_sigmask(signal.SIG_SETMASK, self.orig_mask)
        # run the tracer exactly as `python -B _child.py REQUEST` would: its
        # entry file as __main__ (its package was imported by warm())
        import builtins
        import types

        main = types.ModuleType("__main__")
        main.__file__ = self.child_path
        main.__builtins__ = builtins
        main.__cached__ = None
        sys.modules["__main__"] = main
        sys.argv = [self.child_path, job["request"]]
        code = 0
        try:
            exec(self.child_code, main.__dict__)  # defines; `if __name__ == "__main__"` runs main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # noqa: BLE001 - as an uncaught exception in a script
            import traceback

            traceback.print_exc()
            code = 1
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)

    # -- main loop ------------------------------------------------------------------------------
    def serve(self) -> None:
        while True:
            try:
                job, fds = recv_frame(self.sock)
            except (OSError, ValueError):
                return
            if job is None:
                for fd in fds:
                    os.close(fd)
                return
            if job.get("type") != "job":
                for fd in fds:
                    os.close(fd)
                continue
            try:
                reply = self.run_job(job, fds)
            except Exception as e:  # noqa: BLE001 - a bug here must not leave the job running
                self.reap_all()
                reply = {"type": "done", "error": f"{type(e).__name__}: {e}", "clean": False}
            try:
                send_frame(self.sock, reply)
            except OSError:
                return
            if not reply.get("clean"):
                return  # the grader starts a fresh worker


def main(argv: list[str]) -> None:
    z = Zygote(json.loads(argv[1]))
    try:
        ready = z.warm()
    except BaseException as e:  # noqa: BLE001
        send_frame(z.sock, {"type": "error", "message": f"warm-up failed: {type(e).__name__}: {e}"})
        os._exit(1)
    send_frame(z.sock, ready)
    z.serve()
    z.reap_all(timeout=5)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
