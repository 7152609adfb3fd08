"""Warm workers: grade many submissions for about one model build each.

A fresh sandboxed interpreter per submission pays the Python start and the
TensorFlow + Keras import (~3.5 s) every time.  A :class:`WarmPool` keeps
``jobs`` long-lived workers instead; each one is ``grader/_zygote.py`` in its
OWN bubblewrap sandbox, built by the same code as :func:`grader.sandbox.run`
(no network, own pid/IPC/UTS namespaces, read-only system and venv, uid 65534
when the grader is root, size-capped tmpfs at /work, /tmp and /dev/shm, a
cgroup to kill it all), plus bwrap ``--as-pid-1`` so that the worker itself
is the namespace's init::

    grader (this process; one thread per busy worker reads its job's pipes)
      └─ launcher -> bwrap  (per worker, as in sandbox.run)
           └─ _zygote.py  pid 1 of the sandbox: imported TF + Keras, warmed,
              │            single-threaded, signals blocked, not dumpable
              └─ fork per submission -> child: new session, fresh fds 0-3
                   (stdout, stderr and the result channel are pipes of the
                   grader's, passed over the socket), reads the job memfd,
                   writes the files into /work, chdir, rlimits, runs the tracer
                   (its entry file `_child.py`) as `__main__`, exits

The worker waits for the child with the wall clock, polls the memory of the
job's processes (RssAnon + RssShmem, as ``sandbox.run`` does without a memory
cgroup), then ``kill(-1, SIGKILL)`` (everything in the namespace but pid 1),
reaps, empties /work, /tmp and /dev/shm, removes SysV IPC objects, clears the
keyrings, and reports.  The grader captures stdout and stderr with the same
head + tail caps as ``sandbox.run`` and returns a :class:`sandbox.RunResult`
to ``trace.run_trace(..., pool=pool)``.

Fork safety: the worker only imports (TensorFlow, Keras, the tracer's
package, lazily imported modules); it never builds a layer, makes a variable
or runs an op, so TF's eager context and thread pools do not exist when it forks.  It checks
before every fork (one thread in ``/proc/self/task``, no eager context) and
refuses otherwise; the child starts TF afresh.

A worker that dies, stops answering (wall clock + :data:`GRACE_SECONDS`) or
cannot clean up is killed and replaced in the background; the submission it
was running is reported as crashed (or timed out), never the next one.
"""

from __future__ import annotations

import array
import json
import os
import queue
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from . import sandbox
from .sandbox import MiB, Limits, RunResult, SandboxError

__all__ = ["WarmPool", "WorkerError", "GRACE_SECONDS"]

ZYGOTE = Path(__file__).with_name("_zygote.py")
ZYGOTE_IN_SANDBOX = "/opt/grader/_zygote.py"
# the child's entry file and the tracer's package, as grader.trace has them
CHILD = Path(__file__).with_name("_child.py")
CHILD_IN_SANDBOX = "/opt/grader/_child.py"
CHILD_PACKAGE = Path(__file__).with_name("_grader_child")
CHILD_PACKAGE_IN_SANDBOX = "/opt/grader/_grader_child"
#: the tracer's modules, imported by the worker up front (every child imports
#: them first thing anyway, before any submission's code): the entry file finds
#: them in sys.modules and only runs the tracer
CHILD_MODULES = ("_grader_child.channel",)

#: beyond a job's wall clock, how long the grader waits for the worker's
#: report before it takes the worker for wedged, kills and replaces it
GRACE_SECONDS = 20.0
#: how long a worker may take to start (bwrap + TF import + warm-up)
START_TIMEOUT = 180.0
START_ATTEMPTS = 3
_DRAIN_SECONDS = 3.0
_MAX_FRAME = 1 << 20

#: Modules that a model build imports lazily, imported by the worker up front
#: (all of them submodules of packages the tracer imports anyway, so a
#: submission's own top-level module names resolve exactly as in a cold child).
WARM_MODULES = (
    "keras.src.backend.tensorflow.trainer",
    "keras.src.layers",
    "keras.src.models",
    "keras.src.ops",
    "keras.src.initializers",
    "keras.src.utils.summary_utils",
    "tensorflow.python.ops.init_ops_v2",
    "tensorflow.python.ops.stateless_random_ops",
)


class WorkerError(SandboxError):
    """A warm worker could not be started (not a failure of a submission)."""


class _NotRun(Exception):
    """The worker refused the job before forking (its own problem): retry elsewhere."""


def _default_env() -> dict:
    from .trace import child_env

    return child_env()


# --------------------------------------------------------------------------- one worker


class _Worker:
    def __init__(self, slot: int, *, python: str, use_sandbox: bool, limits: Limits, env: dict) -> None:
        self.slot = slot
        self.python = python
        self.use_sandbox = use_sandbox
        self.limits = limits
        self.env = env
        self.started: sandbox.Started | None = None
        self.sock: socket.socket | None = None
        self.ready: dict = {}
        self.out_tail = sandbox._HeadTail(8 * 1024)
        self.err_tail = sandbox._HeadTail(8 * 1024)
        self.pidfd: int | None = None
        self.jobs = 0
        self.peak_rss = 0
        self.last_done: dict | None = None
        self.child_cpu = 0.0  # CPU seconds of all its submissions' children
        self._buf = bytearray()

    # -- start ------------------------------------------------------------------------------
    def start(self) -> None:
        self.launch()
        self.await_ready()

    def launch(self) -> None:
        """Start the sandboxed process.  Must run on a thread that outlives the
        worker: the launcher's PR_SET_PDEATHSIG fires when the *thread* that
        forked it ends (see ``WarmPool._spawner_loop``)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cfg = {
            "sandboxed": self.use_sandbox,
            "scratch": sandbox.SCRATCH_IN_SANDBOX if self.use_sandbox else ".",
            "child": CHILD_IN_SANDBOX if self.use_sandbox else str(CHILD),
            "child_modules": list(CHILD_MODULES),
            "warm_modules": list(WARM_MODULES),
        }
        zyg = ZYGOTE_IN_SANDBOX if self.use_sandbox else str(ZYGOTE)
        if not self.use_sandbox:
            cfg["scratch"] = None  # the worker's starting folder (Started.workdir)
        try:
            self.started = sandbox.start(
                [self.python, "-B", zyg, json.dumps(cfg)],
                channel_fd=theirs.fileno(),
                ro_binds=[(str(ZYGOTE), ZYGOTE_IN_SANDBOX), (str(CHILD), CHILD_IN_SANDBOX),
                          (str(CHILD_PACKAGE), CHILD_PACKAGE_IN_SANDBOX)] if self.use_sandbox else [],
                env=self.env,
                limits=self.limits,
                sandbox=self.use_sandbox,
                as_pid_1=True,
            )
        finally:
            theirs.close()
        self.sock = ours
        proc = self.started.proc
        for stream, sink in ((proc.stdout, self.out_tail), (proc.stderr, self.err_tail)):
            threading.Thread(target=_drain, args=(stream, sink), daemon=True,
                             name=f"grader-worker-{self.slot}-drain").start()
        try:
            self.pidfd = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            self.pidfd = None

    def await_ready(self) -> None:
        msg = self._read_frame(time.monotonic() + START_TIMEOUT)
        if msg is None or msg.get("type") != "ready":
            detail = msg.get("message") if isinstance(msg, dict) else "no answer"
            self.close()
            raise WorkerError(f"the warm worker did not start ({detail}); its stderr: "
                              f"{self.err_tail.text()[-2000:].strip()}")
        if msg.get("threads") != 1 or msg.get("tf_context"):
            self.close()
            raise WorkerError(f"the warm worker is not safe to fork after warming up "
                              f"({msg.get('threads')} threads, TF context started: {msg.get('tf_context')}); "
                              "set OMP_NUM_THREADS=1 / check the warm-up imports")
        self.ready = msg
        self.peak_rss = int(msg.get("rss") or 0)

    # -- framing ----------------------------------------------------------------------------
    def _read_frame(self, deadline: float) -> dict | None:
        """The next frame from the worker; None at EOF, when the worker died or at the deadline."""
        assert self.sock is not None
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        if self.pidfd is not None:
            sel.register(self.pidfd, selectors.EVENT_READ)
        try:
            while True:
                frame = self._parse_frame()
                if frame is not None:
                    return frame
                wait = deadline - time.monotonic()
                if wait <= 0:
                    return None
                for key, _ in sel.select(wait):
                    if key.fd == self.pidfd:
                        # gone: whatever it still wrote is in the socket buffer
                        self._read_available()
                        return self._parse_frame()
                    if not self._read_available():
                        return self._parse_frame()
        finally:
            sel.close()

    def _read_available(self) -> bool:
        """Read what is there; False at EOF."""
        assert self.sock is not None
        self.sock.setblocking(False)
        try:
            while True:
                try:
                    chunk = self.sock.recv(1 << 16)
                except BlockingIOError:
                    return True
                except OSError:
                    return False
                if not chunk:
                    return False
                self._buf += chunk
                if len(self._buf) > _MAX_FRAME + 4:
                    return False
        finally:
            self.sock.setblocking(True)

    def _parse_frame(self) -> dict | None:
        if len(self._buf) < 4:
            return None
        (n,) = struct.unpack("!I", self._buf[:4])
        if n > _MAX_FRAME or len(self._buf) < 4 + n:
            return None
        body = bytes(self._buf[4 : 4 + n])
        del self._buf[: 4 + n]
        try:
            obj = json.loads(body)
        except ValueError:
            return {"type": "garbage"}
        return obj if isinstance(obj, dict) else {"type": "garbage"}

    def _send_job(self, frame: dict, fds: list[int]) -> None:
        assert self.sock is not None
        data = json.dumps(frame).encode()
        data = struct.pack("!I", len(data)) + data
        n = self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        if n < len(data):
            self.sock.sendall(data[n:])

    # -- one job ----------------------------------------------------------------------------
    def child_env(self, env: dict | None) -> dict:
        return sandbox._child_env(env, self.ready.get("home") or "/work", self.ready.get("path") or "/usr/bin:/bin")

    def run_job(self, files: list[tuple[str, bytes]], request: str, env: dict | None,
                limits: Limits) -> tuple[RunResult, bool]:
        """Run one submission; (result, whether this worker may serve the next one)."""
        assert self.started is not None and self.sock is not None
        has_mem = self.started.has_memory_cgroup
        rlimits = sandbox._rlimits(limits, address_space=not has_mem,
                                   nproc=self.use_sandbox and os.geteuid() == 0)
        rlimits.append(["RLIMIT_MSGQUEUE", 0, 0])  # POSIX queues would outlive the job
        spec = json.dumps({"files": [[n, len(d)] for n, d in files], "env": self.child_env(env)}).encode()
        blob = struct.pack("!I", len(spec)) + spec + b"".join(d for _, d in files)
        frame = {
            "type": "job",
            "request": request,
            "wall_seconds": float(limits.wall_seconds),
            "memory_bytes": int(limits.memory_mb) * MiB,
            "watch_memory": True,
            "poll_seconds": sandbox._POLL_SECONDS,
            "rlimits": rlimits,
        }
        if has_mem:  # a backstop over the worker's own memory; the worker polls the job's
            self.started.set_memory_max(limits.memory_mb * MiB + int(self.ready.get("rss") or 0))
        oom_before = self.started.oom_kills()

        pipes = [os.pipe() for _ in range(3)]
        read_ends = [sandbox._high_fd(r) for r, _ in pipes]
        write_ends = [sandbox._high_fd(w) for _, w in pipes]
        job_fd = sandbox._memfd_with("grader-job", blob)
        del blob
        start = time.monotonic()
        try:
            self._send_job(frame, write_ends + [job_fd])
        except OSError:
            for fd in read_ends:
                os.close(fd)
            raise _NotRun("the worker is gone")
        finally:
            for fd in write_ends + [job_fd]:
                os.close(fd)

        out = sandbox._HeadTail(limits.output_bytes)
        errs = sandbox._HeadTail(limits.output_bytes)
        res = sandbox._Capped(limits.result_bytes)
        sinks = dict(zip(read_ends, (out, errs, res)))
        sel = selectors.DefaultSelector()
        for fd in read_ends:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        sel.register(self.sock, selectors.EVENT_READ)
        if self.pidfd is not None:
            sel.register(self.pidfd, selectors.EVENT_READ)
        deadline = start + limits.wall_seconds + GRACE_SECONDS
        done: dict | None = None
        done_at = None
        died = wedged = False
        try:
            while True:
                open_pipes = [fd for fd in read_ends if fd in sinks and _registered(sel, fd)]
                if (done is not None or died or wedged) and not open_pipes:
                    break
                now = time.monotonic()
                if done_at is not None and now >= done_at + _DRAIN_SECONDS:
                    break
                if done is None and not died and not wedged and now >= deadline:
                    wedged = True
                    self.kill()
                    done_at = now
                    continue
                wait = (done_at + _DRAIN_SECONDS - now) if done_at is not None else (deadline - now)
                for key, _ in sel.select(max(0.001, min(wait, 1.0))):
                    fd = key.fd
                    if fd == self.pidfd or key.fileobj is self.sock:
                        if fd == self.pidfd:
                            sel.unregister(fd)
                            alive = False
                        else:
                            alive = self._read_available()
                            if not alive:
                                sel.unregister(self.sock)
                        frame_in = self._parse_frame()
                        if frame_in is not None and done is None:
                            done = frame_in
                            done_at = time.monotonic()
                            if _registered(sel, self.sock):
                                sel.unregister(self.sock)
                        elif not alive and done is None:
                            died = True
                            self.kill()
                            done_at = time.monotonic()
                        continue
                    try:
                        data = os.read(fd, 1 << 16)
                    except BlockingIOError:
                        continue
                    if data:
                        sinks[fd].feed(data)
                    else:
                        sel.unregister(fd)
        except BaseException:
            self.kill()
            raise
        finally:
            sel.close()
            for fd in read_ends:
                os.close(fd)
        wall = time.monotonic() - start
        self.jobs += 1
        self.last_done = done if isinstance(done, dict) else None
        if self.last_done is not None and isinstance(self.last_done.get("child_cpu"), (int, float)):
            self.child_cpu += float(self.last_done["child_cpu"])

        note = ""
        if done is not None and done.get("type") == "done" and "error" in done and "returncode" not in done:
            # refused before forking (not the submission's fault)
            raise _NotRun(str(done.get("error")))
        healthy = (done is not None and not died and not wedged and done.get("type") == "done"
                   and done.get("clean") is True)
        if done is None or done.get("type") != "done" or not isinstance(done.get("returncode"), int):
            rc, killed = -signal.SIGKILL, signal.SIGKILL
            timed_out = wedged
            mem = self.started.oom_kills() > oom_before
            note = ("\n[grader: the warm worker stopped answering; it was replaced]\n" if wedged else
                    "\n[grader: the warm worker died during this submission; it was replaced]\n")
            result = None
        else:
            rc = int(done["returncode"])
            killed = -rc if rc < 0 else None
            timed_out = bool(done.get("timed_out"))
            mem = bool(done.get("memory_exceeded")) or self.started.oom_kills() > oom_before
            result = bytes(res.buf) if res.total else None
            nums = {k: done.get(k) if isinstance(done.get(k), int) else 0
                    for k in ("child_maxrss", "peak_job_rss", "worker_hwm", "worker_rss")}
            # an upper bound of the slot's footprint: the worker plus its child
            # (pages the child shares with the worker are counted twice)
            self.peak_rss = max(self.peak_rss, nums["worker_hwm"],
                                nums["worker_rss"] + max(nums["child_maxrss"], nums["peak_job_rss"]))
        stderr_text = errs.text() + note
        if not mem and rc != 0 and not timed_out and not self.started.has_memory_cgroup:
            mem = bool(sandbox._MEMORY_ERROR_RE.search(stderr_text[-4096:]))
        rr = RunResult(
            returncode=rc,
            result=result,
            result_truncated=res.total > len(res.buf) if result is not None else False,
            stdout=out.text(),
            stderr=stderr_text,
            timed_out=timed_out,
            memory_exceeded=mem,
            killed_signal=killed,
            wall_seconds=wall,
            sandboxed=self.use_sandbox,
        )
        return rr, healthy

    # -- end --------------------------------------------------------------------------------
    def kill(self) -> None:
        if self.started is not None:
            self.started.kill()

    def close(self) -> None:
        # Take each handle before closing it: close() can run from the thread
        # grading on this worker and from the pool's shutdown (Ctrl-C) at once.
        sock, self.sock = self.sock, None
        started, self.started = self.started, None
        pidfd, self.pidfd = self.pidfd, None
        if sock is not None:
            try:
                sock.close()  # EOF: the worker exits by itself
            except OSError:
                pass
        if started is not None:
            try:
                started.proc.wait(timeout=2)
            except Exception:  # noqa: BLE001
                pass
            started.close()
        if pidfd is not None:
            try:
                os.close(pidfd)
            except OSError:
                pass


def _registered(sel: selectors.BaseSelector, fileobj) -> bool:
    try:
        sel.get_key(fileobj)
        return True
    except KeyError:
        return False


def _drain(stream, sink) -> None:
    try:
        while True:
            data = stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16)
            if not data:
                return
            sink.feed(data)
    except (OSError, ValueError):
        return


class _Broken:
    def __init__(self, slot: int, error: BaseException) -> None:
        self.slot = slot
        self.error = error


# --------------------------------------------------------------------------- the pool


class WarmPool:
    """``jobs`` warm workers; :meth:`run` is a drop-in for ``sandbox.run`` of the
    tracer (thread-safe: each call takes a free worker, waiting for one).

    ``limits`` are the workers' own (tmpfs sizes, the rlimits ceilings: a job's
    limits above them are clipped); each call's ``limits`` apply to that
    submission.  ``use_sandbox=False`` runs the workers as plain processes
    (trusted code only: no namespaces, kills by process tree)."""

    def __init__(self, jobs: int, *, use_sandbox: bool = True, limits: Limits | None = None,
                 python: str | None = None, env: dict | None = None) -> None:
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        if use_sandbox:
            status = sandbox.sandbox_status()
            if not status.available:
                raise sandbox.SandboxUnavailable(status.reason)
        base = limits or Limits()
        # the workers' ceiling: no CPU limit of their own (children get theirs)
        self.limits = replace(base, cpu_seconds=10**8, fsize_mb=max(base.fsize_mb, 1024))
        self.jobs = jobs
        self.use_sandbox = use_sandbox
        self.python = python or sys.executable
        self.env = dict(env) if env is not None else _default_env()
        self._idle: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._workers: dict[int, _Worker] = {}
        self._peak = [0] * jobs
        self._replaced = 0
        self._retired_jobs = 0
        self._retired_cpu = 0.0
        self._closed = False
        # Every worker process is forked by this one thread, alive as long as the
        # pool: PR_SET_PDEATHSIG (which ties each sandbox to the grader) fires
        # when the forking *thread* exits, and the callers' threads may be short-lived.
        self._spawn_q: queue.Queue = queue.Queue()
        self._spawner = threading.Thread(target=self._spawner_loop, daemon=True, name="grader-worker-spawner")
        self._spawner.start()
        for slot in range(jobs):
            self._spawn_q.put((slot, 0, None))

    # -- workers ----------------------------------------------------------------------------
    def _spawner_loop(self) -> None:
        while True:
            item = self._spawn_q.get()
            if item is None or self._closed:
                return
            slot, attempt, err = item
            if attempt >= START_ATTEMPTS:
                self._idle.put(_Broken(slot, err or WorkerError("could not start")))
                continue
            w = _Worker(slot, python=self.python, use_sandbox=self.use_sandbox, limits=self.limits, env=self.env)
            try:
                w.launch()
            except BaseException as e:  # noqa: BLE001
                w.close()
                self._respawn_later(slot, attempt + 1, e)
                continue
            threading.Thread(target=self._await_worker, args=(w, attempt), daemon=True,
                             name=f"grader-worker-{slot}-ready").start()

    def _respawn_later(self, slot: int, attempt: int, err: BaseException | None) -> None:
        if attempt >= START_ATTEMPTS:
            self._spawn_q.put((slot, attempt, err))
            return
        t = threading.Timer(0.5 * attempt, self._spawn_q.put, args=((slot, attempt, err),))
        t.daemon = True
        t.start()

    def _await_worker(self, w: _Worker, attempt: int) -> None:
        try:
            w.await_ready()
        except BaseException as e:  # noqa: BLE001
            w.close()
            self._respawn_later(w.slot, attempt + 1, e)
            return
        with self._lock:
            if self._closed:
                w.close()
                return
            self._workers[w.slot] = w
            self._peak[w.slot] = max(self._peak[w.slot], w.peak_rss)
        self._idle.put(w)

    def _take(self) -> _Worker:
        while True:
            if self._closed:
                raise RuntimeError("the WarmPool is closed")
            try:
                w = self._idle.get(timeout=1.0)
            except queue.Empty:
                continue
            if isinstance(w, _Broken):
                self._idle.put(w)  # every caller learns it
                if isinstance(w.error, SandboxError):
                    raise w.error
                raise WorkerError(f"a warm worker could not be started: {w.error}") from w.error
            return w

    def _retire(self, w: _Worker) -> None:
        with self._lock:
            self._peak[w.slot] = max(self._peak[w.slot], w.peak_rss)
            self._workers.pop(w.slot, None)
            self._replaced += 1
            self._retired_jobs += w.jobs
            self._retired_cpu += w.child_cpu
        w.kill()
        w.close()
        if not self._closed:
            self._spawn_q.put((w.slot, 0, None))

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until every worker has started (or raise WorkerError)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                n = len(self._workers)
            if n == self.jobs:
                return
            # a broken slot shows up in the idle queue
            with self._idle.mutex:
                broken = [x for x in self._idle.queue if isinstance(x, _Broken)]
            if broken:
                raise WorkerError(f"a warm worker could not be started: {broken[0].error}")
            if time.monotonic() >= deadline:
                raise WorkerError("the warm workers did not start in time")
            time.sleep(0.05)

    # -- API --------------------------------------------------------------------------------
    def run(self, *, files: dict[str, bytes], request: str, env: dict | None = None,
            limits: Limits = Limits()) -> RunResult:
        """Run the tracer on ``files`` (``request``: the request file's name among
        them) in a fresh child of a warm worker; same result as
        ``sandbox.run([python, "-B", _child.py, request], files=files, ...)``."""
        checked = sandbox._check_files(files, limits)
        if limits.scratch_mb > self.limits.scratch_mb:
            limits = replace(limits, scratch_mb=self.limits.scratch_mb)
        tries = 0
        while True:
            w = self._take()
            healthy = False
            try:
                rr, healthy = w.run_job(checked, request, env, limits)
                return rr
            except _NotRun as e:
                tries += 1
                if tries >= 2:
                    raise WorkerError(f"the warm workers refuse the job: {e}") from None
            finally:
                if healthy and not self._closed:
                    self._idle.put(w)
                else:
                    self._retire(w)

    def peak_rss_bytes(self) -> list[int]:
        """Per worker slot: the peak resident memory of the worker and the
        submission it runs together (the worker's VmRSS plus the larger of its
        child's ru_maxrss and the polled sum of VmRSS of the job's processes).
        An upper bound: anonymous pages the child still shares with the worker
        after the fork count twice."""
        with self._lock:
            for slot, w in self._workers.items():
                self._peak[slot] = max(self._peak[slot], w.peak_rss)
            return list(self._peak)

    def stats(self) -> dict:
        """Counters for benchmarks: submissions run, their children's CPU
        seconds, the workers' warm-up times, replacements, peak RSS per slot."""
        with self._lock:
            live = list(self._workers.values())
        return {
            "jobs_run": self._retired_jobs + sum(w.jobs for w in live),
            "child_cpu_s": round(self._retired_cpu + sum(w.child_cpu for w in live), 3),
            "warm_s": [w.ready.get("warm_s") for w in live],
            "replaced": self._replaced,
            "peak_rss_bytes": self.peak_rss_bytes(),
        }

    @property
    def replaced(self) -> int:
        """How many workers were replaced (died, wedged, could not clean up)."""
        return self._replaced

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers.values())
            self._workers.clear()
        for w in workers:
            w.close()
        self._spawn_q.put(None)

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
