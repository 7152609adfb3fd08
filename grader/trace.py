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
from .submission import Submission, parse_python
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: loading an assignment can trace a solution through this module
    from .assignment import Assignment

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
#: Layers (traced calls that are not containers) the grader analyses: the assignments'
#: networks have a few hundred; above this the submission gets ``too_many_layers``
#: and no graph work (10,000 identity layers took minutes of analysis).
MAX_LAYERS = 3000
#: Containers inside containers: Keras models nest a few levels; a deeper chain is not a model.
MAX_NESTING = 64
#: Tensor references (inputs, outputs, aliases) of one graph, all nodes together.
MAX_TENSOR_REFS = 20 * MAX_NODES
#: Node ids and tensor names are the tracer's own ("n12", "t7"): longer ones are not.
MAX_ID_CHARS = 200
#: What the grader copies of the student's strings (layer names, classes, config
#: values, messages) is cut to this many characters, with an ellipsis.
MAX_NAME_CHARS = 200
MAX_CONFIG_CHARS = 1000
MAX_MESSAGE_CHARS = 4000
ELLIPSIS = "\u2026"


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
        if not isinstance(n.get("via_keras", False), bool):
            raise TraceInvalid(f"{what}: node {n['id']} has a malformed via_keras")
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
    check_structure(g, what)
    _cut_node_strings(nodes)


def check_structure(g: dict, what: str = "graph") -> None:
    """The graph's shape, in time linear in its size and before any graph work:
    ids and tensor names of the tracer's length, a bounded number of tensor
    references, every parent a node of the graph, and the parent links a forest
    of bounded depth (a loop of parents made the grader's container walk grow
    without end). Raises TraceInvalid naming the first problem."""
    nodes = g.get("nodes") or []
    parent_of: dict = {}
    refs = 0
    for n in nodes:
        if len(n["id"]) > MAX_ID_CHARS:
            raise TraceInvalid(f"{what}: a node id longer than {MAX_ID_CHARS} characters")
        for k in ("inputs", "outputs"):
            ts = n.get(k) or []
            refs += len(ts)
            if any(len(t) > MAX_ID_CHARS for t in ts):
                raise TraceInvalid(f"{what}: node {n['id']} has a tensor name longer than {MAX_ID_CHARS} characters")
        parent = n.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise TraceInvalid(f"{what}: node {n['id']} has a malformed parent")
        parent_of[n["id"]] = parent
    refs += 2 * len(g.get("aliases") or []) + len(g.get("inputs") or []) + len(g.get("outputs") or [])
    if refs > MAX_TENSOR_REFS:
        raise TraceInvalid(f"{what} has {refs} tensor references, more than {MAX_TENSOR_REFS}")
    for nid, parent in parent_of.items():
        if parent is not None and parent not in parent_of:
            raise TraceInvalid(f"{what}: node {nid} has a dangling parent {parent[:40]!r} (no node has that id)")
    depth: dict = {}  # id -> number of ancestors; each node joins one walk up to a known node: linear
    for nid in parent_of:
        chain, on_chain, x = [], set(), nid
        while x is not None and x not in depth:
            if x in on_chain:
                raise TraceInvalid(f"{what}: the parents of node {nid} form a loop")
            if len(chain) > MAX_NESTING:  # a loop longer than this ends here too
                raise TraceInvalid(f"{what}: containers nested more than {MAX_NESTING} deep, or their parents "
                                   "form a loop")
            chain.append(x)
            on_chain.add(x)
            x = parent_of[x]
        base = -1 if x is None else depth[x]
        for k, y in enumerate(reversed(chain), 1):
            depth[y] = base + k
        if depth[nid] > MAX_NESTING:
            raise TraceInvalid(f"{what}: containers nested more than {MAX_NESTING} deep")


def cut(text: str, limit: int) -> str:
    """``text`` of at most ``limit`` characters: longer is cut, with an ellipsis."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + ELLIPSIS


def _cut_value(v, limit: int, depth: int = 0):
    """A config value with its strings cut and its lists and objects bounded (nested
    at most 8 deep, 256 items each): what the grader copies into reports."""
    if isinstance(v, str):
        return cut(v, limit)
    if depth >= 8 and isinstance(v, (list, dict)):
        return ELLIPSIS
    if isinstance(v, list):
        return [_cut_value(x, limit, depth + 1) for x in v[:256]] + ([ELLIPSIS] if len(v) > 256 else [])
    if isinstance(v, dict):
        items = list(v.items())[:256]
        return {cut(str(k), MAX_NAME_CHARS): _cut_value(x, limit, depth + 1) for k, x in items}
    return v


def _cut_node_strings(nodes: list) -> None:
    """Cut, in place, the strings of each node that the grader copies into reports."""
    for n in nodes:
        for k in ("class", "name", "module", "kind"):
            if isinstance(n.get(k), str) and len(n[k]) > MAX_NAME_CHARS:
                n[k] = cut(n[k], MAX_NAME_CHARS)
        if isinstance(n.get("error"), str) and len(n["error"]) > MAX_MESSAGE_CHARS:
            n["error"] = cut(n["error"], MAX_MESSAGE_CHARS)
        if n.get("config"):
            n["config"] = _cut_value(n["config"], MAX_CONFIG_CHARS)


#: The notes the child may write, with their text fields.
NOTE_FIELDS = {
    "training_skipped": ("call",),
    "skipped": ("call",),
    "retraced": ("call",),  # the tracer put its hooks back and traced the model again
    "import_stubbed": ("module", "package"),
    "legacy_api": ("what", "old", "new"),
}
LEGACY_KINDS = ("module", "argument", "behaviour")
FOUND_HOWS = ("object", "builder", "global", "constructed", "task", "wrapped")
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
        if len(err.get("message", "")) > MAX_MESSAGE_CHARS:
            err["message"] = cut(err["message"], MAX_MESSAGE_CHARS)
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
        # numbers, tuples of numbers, and (a solution-derived probe's) flags and short strings
        if not (isinstance(ca, list) and len(ca) <= 16 and all(
                isinstance(x, (int, float)) or x is None or _is_text(x, 200) or isinstance(x, list) and len(x) <= 8
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
                tree = parse_python(data)
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


def layer_count(g: dict | None) -> int:
    """The traced layers of a (validated) graph: its nodes that are not containers."""
    return sum(1 for n in (g or {}).get("nodes") or () if not n.get("container"))


def check_wiring(doc: dict) -> None:
    """The traced graphs hang together (``graph.check_wiring``); raise TraceInvalid otherwise.
    A trace whose configs contradict its shapes is left to the report (``graph.TraceError``);
    one of more than MAX_LAYERS layers is not built here (it is graded ``too_many_layers``)."""
    for what, g in _graphs(doc):
        if not isinstance(g, dict) or g.get("nodes") is None or layer_count(g) > MAX_LAYERS:
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
