"""Run a submission in a child process and bring back its validated trace.

The child (``grader/_child.py``) runs inside the sandbox with the submission's
files in its scratch folder and writes one JSON document to file descriptor 3.
Only that channel counts: the submission's stdout, stderr and exit status never
make a result. The JSON is size-capped and validated here before anything uses
it; nothing from the child is ever unpickled.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox, tfenv
from .assignment import Assignment
from .submission import Submission

TRACE_SCHEMA = "grader.trace/1"
CHILD = Path(__file__).with_name("_child.py")
CHILD_IN_SANDBOX = "/opt/grader/_child.py"
REQUEST_NAME = ".grader_request.json"
MAX_NODES = 20000
MAX_RESULT_BYTES = 32 * 1024 * 1024


class TraceInvalid(ValueError):
    pass


@dataclass
class TraceResult:
    status: str  # ok | failed | no_model | timeout | memory_limit | crashed | invalid
    trace: dict | None
    stdout: str = ""
    stderr: str = ""
    wall_seconds: float = 0.0
    sandboxed: bool = False
    returncode: int | None = None
    detail: str = ""
    notes: list = field(default_factory=list)


def _is_src(x):
    return x is None or (isinstance(x, dict) and isinstance(x.get("file"), str) and isinstance(x.get("line"), int))


def _check_graph(g, what):
    if g is None:
        return
    if not isinstance(g, dict):
        raise TraceInvalid(f"{what} is not an object")
    nodes = g.get("nodes")
    if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
        raise TraceInvalid(f"{what}.nodes is not a list of at most {MAX_NODES} nodes")
    ids = set()
    for n in nodes:
        if not isinstance(n, dict) or not isinstance(n.get("id"), str) or not isinstance(n.get("class"), str):
            raise TraceInvalid(f"{what}: malformed node")
        if n["id"] in ids:
            raise TraceInvalid(f"{what}: duplicate node id {n['id']}")
        ids.add(n["id"])
        for k in ("inputs", "outputs"):
            if not isinstance(n.get(k, []), list) or not all(isinstance(t, str) for t in n.get(k, [])):
                raise TraceInvalid(f"{what}: node {n['id']} has malformed {k}")
        for k in ("in_shapes", "out_shapes"):
            v = n.get(k, [])
            if not isinstance(v, list) or not all(
                s is None or (isinstance(s, list) and all(d is None or (isinstance(d, int) and 0 <= d < 2**40) for d in s))
                for s in v
            ):
                raise TraceInvalid(f"{what}: node {n['id']} has malformed {k}")
        if not isinstance(n.get("config", {}), dict):
            raise TraceInvalid(f"{what}: node {n['id']} has a malformed config")
        if not _is_src(n.get("source")) or not _is_src(n.get("ctor")) or not (
                isinstance(n.get("stack", []), list) and len(n.get("stack", [])) <= 16 and all(_is_src(x) for x in n.get("stack", []))):
            raise TraceInvalid(f"{what}: node {n['id']} has a malformed source")
        if not isinstance(n.get("params", 0), int):
            raise TraceInvalid(f"{what}: node {n['id']} has malformed params")
    for p in g.get("aliases", []):
        if not (isinstance(p, list) and len(p) == 2 and all(isinstance(t, str) for t in p)):
            raise TraceInvalid(f"{what}: malformed alias")
    for k in ("inputs", "outputs"):
        if not isinstance(g.get(k, []), list) or not all(isinstance(t, str) for t in g.get(k, [])):
            raise TraceInvalid(f"{what}.{k} is malformed")
    if not isinstance(g.get("input_sources", []), list) or not all(_is_src(x) for x in g.get("input_sources", [])):
        raise TraceInvalid(f"{what}.input_sources is malformed")


def validate(doc) -> dict:
    """Check the trace's schema; raise TraceInvalid naming the first problem."""
    if not isinstance(doc, dict) or doc.get("schema") != TRACE_SCHEMA:
        raise TraceInvalid("not a grader trace")
    if doc.get("status") not in ("ok", "failed", "no_model"):
        raise TraceInvalid(f"unknown status {doc.get('status')!r}")
    err = doc.get("error")
    if err is not None and not (isinstance(err, dict) and isinstance(err.get("type", ""), str)
                                and isinstance(err.get("message", ""), str) and _is_src(err.get("source"))):
        raise TraceInvalid("malformed error")
    _check_graph(doc.get("graph"), "graph")
    probe = doc.get("probe")
    if probe is not None:
        if not isinstance(probe, dict):
            raise TraceInvalid("malformed probe")
        if "nodes" in probe:
            _check_graph(probe, "probe")
        if not isinstance(probe.get("arguments", {}), dict):
            raise TraceInvalid("malformed probe arguments")
    notes = doc.get("notes", [])
    if not isinstance(notes, list) or len(notes) > 1000 or not all(isinstance(x, dict) and _is_src(x.get("source")) for x in notes):
        raise TraceInvalid("malformed notes")
    if not isinstance(doc.get("candidates", []), list):
        raise TraceInvalid("malformed candidates")
    return doc


def child_env() -> dict:
    return {
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "",
        "MPLBACKEND": "Agg",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "KERAS_BACKEND": "tensorflow",
    }


def run_trace(sub: Submission, assignment: Assignment, *, use_sandbox: bool = True,
              timeout_s: float | None = None, memory_mb: int | None = None, extra_request: dict | None = None,
              python: str | None = None, pool=None) -> TraceResult:
    """Run ``sub`` in a fresh sandboxed interpreter (or in a child of a warm
    worker from ``pool``, see ``grader.workers``) and return its validated trace."""
    req = dict(assignment.request())
    req.update({"entry": sub.entry, "root": ".", "result_fd": 3})
    if extra_request:
        req.update(extra_request)
    files = dict(sub.files)
    files[REQUEST_NAME] = json.dumps(req).encode()
    limits = sandbox.Limits(
        wall_seconds=float(timeout_s or assignment.timeout_s),
        cpu_seconds=max(int(assignment.cpu_s), int((timeout_s or assignment.timeout_s) * 2)),
        memory_mb=int(memory_mb or assignment.memory_mb),
        result_bytes=MAX_RESULT_BYTES,
    )
    st = sandbox.sandbox_status()
    sandboxed = use_sandbox and st.available
    child = CHILD_IN_SANDBOX if sandboxed else str(CHILD)
    argv = [python or sys.executable, "-B", child, REQUEST_NAME]
    if pool is not None:
        # a warm worker: same files, request, limits and result channel, no new interpreter
        rr = pool.run(files=files, request=REQUEST_NAME, env=child_env(), limits=limits)
    else:
        rr = sandbox.run(argv, files=files, ro_binds=[(str(CHILD), CHILD_IN_SANDBOX)] if sandboxed else [],
                         env=child_env(), limits=limits, sandbox=sandboxed)
    # the student's stderr stays; TensorFlow's C++ start-up lines (if any got through) go
    res = TraceResult("crashed", None, rr.stdout, tfenv.strip_noise(rr.stderr), rr.wall_seconds, rr.sandboxed,
                      rr.returncode)
    if rr.timed_out:
        res.status = "timeout"
        res.detail = f"{limits.wall_seconds:g}"
        return res
    if rr.memory_exceeded:
        res.status = "memory_limit"
        res.detail = f"{limits.memory_mb} MB"
        return res
    if not rr.result:
        # The child never reported: the code exited (sys.exit/os._exit) or was killed.
        sig = f" (killed by signal {rr.killed_signal})" if rr.killed_signal else ""
        res.status = "no_model" if rr.returncode == 0 else "crashed"
        res.detail = f"the program ended with exit status {rr.returncode}{sig} before a model could be traced"
        return res
    if rr.result_truncated:
        res.status = "invalid"
        res.detail = "the trace was larger than the cap"
        return res
    try:
        doc = validate(json.loads(rr.result.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, TraceInvalid, RecursionError) as e:
        res.status = "invalid"
        res.detail = f"the child's trace was rejected: {e}"
        return res
    res.trace = doc
    res.status = doc["status"]
    return res
