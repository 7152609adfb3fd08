"""Run a submission in a child process and bring back its validated trace.

The child (the entry file ``grader/_child.py`` and the tracer's package
``grader/_grader_child/``) runs inside the sandbox with the submission's
files in its scratch folder and writes one JSON document to file descriptor 3.
Only that channel counts: the submission's stdout, stderr and exit status never
make a result. The JSON is size-capped and validated here before anything uses
it; nothing from the child is ever unpickled.

What is believed, in order (see the README's sandbox section):

- the seal: each run gets a fresh random key (``SEAL_NAME`` among its files,
  read and deleted by the tracer before the submission's first line); a trace
  without this run's HMAC is not the tracer's and is refused;
- the places: every layer's call line, construction line and stack frame is a
  line of one of the submission's own files that can do it (a call, an
  operator, a subscript; a line of code for outer frames);
- the wiring: the model's outputs are reached from its input, and each
  layer's input shape is what its input gives (``graph.check_wiring``).

A trace that fails any of these is refused as a whole (``invalid``: graded as
no model): a forged trace never earns part of a score.
"""

from __future__ import annotations

import ast
import hmac
import json
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import graph, sandbox, tfenv
from .assignment import Assignment
from .submission import Submission

TRACE_SCHEMA = "grader.trace/1"
#: the child's entry file, and the tracer's package beside it (bound together,
#: read-only, into the sandbox's /opt/grader: the entry imports the package
#: from its own folder)
CHILD = Path(__file__).with_name("_child.py")
CHILD_IN_SANDBOX = "/opt/grader/_child.py"
CHILD_PACKAGE = Path(__file__).with_name("_grader_child")
CHILD_PACKAGE_IN_SANDBOX = "/opt/grader/_grader_child"
REQUEST_NAME = ".grader_request.json"
SEAL_NAME = ".grader_seal"
SEAL_PREFIX = b"grader.trace-seal/1 "  # as in _grader_child/channel.py
SEAL_BYTES = 32
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


#: The notes the child may write, with their text fields.
NOTE_FIELDS = {
    "training_skipped": ("call",),
    "skipped": ("call",),
    "retraced": ("call",),  # the tracer put its hooks back and traced the model again
    "import_stubbed": ("module", "package"),
    "legacy_api": ("what", "old", "new"),
}
LEGACY_KINDS = ("module", "argument", "behaviour")
FOUND_HOWS = ("object", "builder", "global", "constructed", "task")
STATEMENT_ROLES = ("script", "build", "cause")
MAX_STATEMENT_ERRORS = 200


def _is_text(x, limit=4000) -> bool:
    return isinstance(x, str) and len(x) <= limit


def _check_cause(c, what):
    if c is None:
        return
    if not isinstance(c, dict) or c.get("kind") not in ("standin", "statement"):
        raise TraceInvalid(f"{what}: malformed cause")
    fields = ("module", "name") if c["kind"] == "standin" else ("name", "type", "message")
    if not all(_is_text(c.get(k)) for k in fields) or not _is_src(c.get("source")) or not _is_src(c.get("used")):
        raise TraceInvalid(f"{what}: malformed cause")


def _check_found(f):
    if f is None:
        return
    if not (isinstance(f, dict) and f.get("how") in FOUND_HOWS and _is_text(f.get("name"), 200)
            and (f.get("call") is None or _is_text(f["call"], 2000)) and _is_src(f.get("source"))
            and isinstance(f.get("wrapped", False), bool)):
        raise TraceInvalid("malformed found")


def _check_statement_errors(errs):
    if not isinstance(errs, list) or len(errs) > MAX_STATEMENT_ERRORS:
        raise TraceInvalid("malformed statement_errors")
    for i, e in enumerate(errs):
        ok = (isinstance(e, dict) and _is_text(e.get("type"), 200) and _is_text(e.get("message")) and _is_src(e.get("source"))
              and isinstance(e.get("line"), int) and not isinstance(e.get("line"), bool) and e["line"] >= 1
              and isinstance(e.get("count"), int) and not isinstance(e.get("count"), bool) and e["count"] >= 1
              and e.get("role") in STATEMENT_ROLES
              and (e.get("caused_by") is None or (isinstance(e["caused_by"], int) and not isinstance(e["caused_by"], bool)
                                                  and 0 <= e["caused_by"] < i)))
        if not ok:
            raise TraceInvalid(f"malformed statement error {i}")
        _check_cause(e.get("cause"), f"statement error {i}")


def _check_numbers(v, what):
    if not (isinstance(v, list) and len(v) <= 4 and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                         and abs(x) < 2**40 for x in v)):
        raise TraceInvalid(f"malformed {what}")


def probes_of(t: dict) -> list:
    """The trace's probes of block functions (older traces: one, ``probe``)."""
    return list(t.get("probes") or ([t["probe"]] if t.get("probe") else []))


def _graphs(doc: dict):
    """("graph" | "probe", graph) of every graph a (validated) trace holds."""
    yield "graph", doc.get("graph")
    for g in probes_of(doc):
        yield "probe", g


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
    if err is not None:
        _check_cause(err.get("cause"), "error")
    _check_found(doc.get("found"))
    _check_statement_errors(doc.get("statement_errors", []))
    _check_graph(doc.get("graph"), "graph")
    probes = doc.get("probes")
    if probes is not None and (not isinstance(probes, list) or len(probes) > 8):
        raise TraceInvalid("malformed probes")
    for probe in ([doc["probe"]] if doc.get("probe") is not None else []) + list(probes or []):
        if not isinstance(probe, dict):
            raise TraceInvalid("malformed probe")
        if "nodes" in probe:
            _check_graph(probe, "probe")
        if not isinstance(probe.get("arguments", {}), dict):
            raise TraceInvalid("malformed probe arguments")
        _check_numbers(probe.get("returned", []), "probe returned")
        ca = probe.get("call_args", [])
        if not (isinstance(ca, list) and len(ca) <= 8 and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) or isinstance(x, list) and len(x) <= 8
                and all(isinstance(y, (int, float)) and not isinstance(y, bool) for y in x) for x in ca)):
            raise TraceInvalid("malformed probe call_args")
    _check_numbers(doc.get("returned", []), "returned")
    notes = doc.get("notes", [])
    if not isinstance(notes, list) or len(notes) > 1000 or not all(isinstance(x, dict) and _is_src(x.get("source")) for x in notes):
        raise TraceInvalid("malformed notes")
    for x in notes:
        fields = NOTE_FIELDS.get(x.get("kind"))
        if (fields is None or not all(_is_text(x.get(k), 300) for k in fields)
                or (x["kind"] == "legacy_api" and x["what"] not in LEGACY_KINDS)):
            raise TraceInvalid(f"malformed note of kind {str(x.get('kind'))[:40]!r}")
    if not isinstance(doc.get("candidates", []), list):
        raise TraceInvalid("malformed candidates")
    return doc


def unseal(data: bytes, key: bytes) -> bytes:
    """The trace's JSON, when ``data`` carries this run's seal; TraceInvalid otherwise."""
    head, sep, body = data.partition(b"\n")
    if not sep or not head.startswith(SEAL_PREFIX):
        raise TraceInvalid("it does not carry the tracer's seal (the program wrote a trace of its own)")
    want = hmac.new(key, body, "sha256").hexdigest().encode("ascii")
    if not hmac.compare_digest(head[len(SEAL_PREFIX):], want):
        raise TraceInvalid("its seal is not this run's (the program wrote or replayed a trace of its own)")
    return body


# Expressions that can run code, so that a layer can be called or built on their line.
_CAN_CALL = (ast.Call, ast.BinOp, ast.UnaryOp, ast.Subscript, ast.Compare, ast.AugAssign)
_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
             ast.With, ast.AsyncWith, ast.Try, ast.Match) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


class _Lines:
    """Which lines of the submission's files can do what a trace says happened there."""

    def __init__(self, files: dict):
        self.files = files
        self.cache: dict = {}

    def _of(self, name: str):
        if name not in self.cache:
            calls = code = None
            data = self.files.get(name)
            if data is not None and name.endswith(".py"):
                tree = None
                for src in (data, data.decode("utf-8", "replace")):
                    try:
                        tree = ast.parse(src)
                        break
                    except (SyntaxError, ValueError):
                        continue
                if tree is not None:
                    calls, code = set(), set()
                    for n in ast.walk(tree):
                        end = getattr(n, "end_lineno", None) or getattr(n, "lineno", 0)
                        if isinstance(n, _CAN_CALL):
                            calls.update(range(n.lineno, end + 1))
                        if isinstance(n, (ast.expr, ast.stmt)) and not isinstance(n, _COMPOUND):
                            code.update(range(n.lineno, end + 1))
            self.cache[name] = (calls, code)
        return self.cache[name]

    def problem(self, src, *, call: bool) -> str | None:
        if src is None:
            return None
        calls, code = self._of(src["file"])
        where = f"{src['file']}:{src['line']}"
        if calls is None:
            return f"{where}, which is not a Python file of the submission"
        if src["line"] not in (calls if call else code):
            return f"{where}, which is not a line that {'calls or builds anything' if call else 'runs code'}"
        return None


def check_places(doc: dict, files: dict) -> None:
    """Every place the trace gives for a layer is a line of the submission that
    can call or build it; raise TraceInvalid naming the first that is not."""
    lines = _Lines(files)
    for what, g in _graphs(doc):
        if not isinstance(g, dict):
            continue
        for n in g.get("nodes") or []:
            checks = [(n.get("source"), True), (n.get("ctor"), True)]
            checks += [(f, i == 0) for i, f in enumerate(n.get("stack") or [])]
            for src, call in checks:
                p = lines.problem(src, call=call)
                if p:
                    raise TraceInvalid(f"it places {n['class']} {str(n.get('name', ''))[:60]!r} at {p}")
        for src in g.get("input_sources") or []:
            p = lines.problem(src, call=True)
            if p:
                raise TraceInvalid(f"it places the model's input at {p}")


def check_wiring(doc: dict) -> None:
    """The traced graphs hang together (``graph.check_wiring``); raise TraceInvalid otherwise.
    A trace whose configs contradict its shapes is left to the report (``graph.TraceError``)."""
    for what, g in _graphs(doc):
        if not isinstance(g, dict) or g.get("nodes") is None:
            continue
        partial = bool(g.get("partial")) if what == "graph" else bool(g.get("error"))
        try:
            built = graph.build(g, partial=partial)
        except graph.TraceError:
            continue
        try:
            graph.check_wiring(built)
        except graph.TraceError as e:
            raise TraceInvalid(f"its {'model' if what == 'graph' else 'probe'} does not hang together ({e})") from None


def child_files() -> list[Path]:
    """Every file the child runs: its entry file and the tracer's package."""
    return [CHILD, *sorted(CHILD_PACKAGE.rglob("*.py"))]


def child_binds() -> list[tuple[str, str]]:
    """The child's read-only binds into the sandbox: (host path, sandbox path)."""
    return [(str(CHILD), CHILD_IN_SANDBOX), (str(CHILD_PACKAGE), CHILD_PACKAGE_IN_SANDBOX)]


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


def run_files(sub: Submission, assignment: Assignment, extra_request: dict | None = None) -> tuple[dict, bytes]:
    """The files of one run (the submission's, the request, a fresh seal key) and the key."""
    key = secrets.token_bytes(SEAL_BYTES)
    req = dict(assignment.request())
    req.update({"entry": sub.entry, "root": ".", "result_fd": 3, "seal_file": SEAL_NAME})
    if extra_request:
        req.update(extra_request)
    files = sub.files_to_run()
    files[REQUEST_NAME] = json.dumps(req).encode()
    files[SEAL_NAME] = key
    return files, key


def run_trace(sub: Submission, assignment: Assignment, *, use_sandbox: bool = True,
              timeout_s: float | None = None, memory_mb: int | None = None, extra_request: dict | None = None,
              python: str | None = None, pool=None) -> TraceResult:
    """Run ``sub`` in a fresh sandboxed interpreter (or in a child of a warm
    worker from ``pool``, see ``grader.workers``) and return its validated trace."""
    files, key = run_files(sub, assignment, extra_request)
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
        rr = sandbox.run(argv, files=files, ro_binds=child_binds() if sandboxed else [],
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
        doc = validate(json.loads(unseal(rr.result, key).decode("utf-8")))
        check_places(doc, sub.files_to_run())
        check_wiring(doc)
    except (UnicodeDecodeError, json.JSONDecodeError, TraceInvalid, RecursionError) as e:
        res.status = "invalid"
        res.detail = f"the trace was refused: {e}"
        return res
    res.trace = doc
    res.status = doc["status"]
    return res
