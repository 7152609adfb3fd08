"""Grading one submission: load -> sandboxed trace -> graph -> diagnose -> score -> Report.

The reference graph is traced once and cached on disk, keyed by the grader's
version, the TensorFlow and Keras versions, the assignment file and the
reference's own source, so a self-check never rebuilds it.

Reached as ``grader.check``, this module is also callable: ``grader.check()`` in
Jupyter runs :func:`grader.notebook.check` (wired in ``grader/__init__.py``, so
that this module does not import the notebook module, which imports it).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import diagnose as dg, graph, integrity, trace
from ._version import __version__
from .report import Finding, ModelOrigin, ModelSummary, Report, SubmissionInfo
from .score import score
from .submission import LoadError, Submission, load
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: loading an assignment can trace a solution through this module
    from .assignment import Assignment

REPO_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    d = os.environ.get("GRADER_CACHE")
    if d:
        return Path(d)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "grader"


def _version(pkg: str) -> str:
    from .tfenv import TF_DISTRIBUTIONS

    # TensorFlow comes under several distribution names (tensorflow, tensorflow-cpu, ...)
    for name in (TF_DISTRIBUTIONS if pkg == "tensorflow" else (pkg,)):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "none"


def reference_key(assignment: Assignment) -> str:
    h = hashlib.sha256()
    for part in (__version__, _version("keras"), _version("tensorflow"), assignment.sha256, assignment.architecture,
                 str(assignment.input_shape), str(assignment.num_classes), assignment.aux, str(assignment.lrn)):
        h.update(part.encode() + b"\0")
    for f in (*assignment.arch.source_files(), Path(graph.__file__), *trace.child_files()):
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:32]


class ReferenceError(RuntimeError):
    pass


def reference_graph(assignment: Assignment) -> graph.Graph:
    """The canonical reference graph for this assignment, from the disk cache when it is there."""
    if getattr(assignment.arch, "graph", None) is not None:
        return assignment.arch.graph  # a solution file's, traced when the assignment was loaded
    key = reference_key(assignment)
    path = cache_dir() / f"reference-{key}.json"
    try:
        return graph.Graph.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    g = _trace_reference(assignment)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(g.to_dict()))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home still grades, just without the cache
    return g


def _trace_reference(assignment: Assignment) -> graph.Graph:
    arch = assignment.arch
    script = arch.reference_task_script(assignment) if assignment.task else arch.reference_script(assignment)
    sub = Submission("reference", "reference", "py", {"reference_model.py": script.encode()}, "reference_model.py", "")
    env_path = str(REPO_ROOT)
    res = trace.run_trace(sub, assignment, use_sandbox=False, timeout_s=max(120.0, assignment.timeout_s),
                          extra_request={"objects": ["model"], "builders": [], "probes": [],
                                         "task": None, "sys_path": [env_path]})
    if res.status != "ok" or res.trace is None:
        raise ReferenceError(f"could not build the reference model ({res.status}: {res.detail or res.stderr[-2000:]})")
    return assignment.arch.adjust_reference(graph.build(res.trace["graph"]), assignment)


def grade(path: str | Path, assignment: Assignment, *, use_sandbox: bool = True, timeout_s: float | None = None,
          memory_mb: int | None = None, submission: Submission | None = None, ref: graph.Graph | None = None,
          commit: dict | None = None, pool=None) -> tuple[Report, Submission | None]:
    """Grade one submission; every failure of the submission becomes a finding,
    only a failure of the grader itself (bad assignment, missing reference) raises."""
    t0 = time.time()
    ref = ref if ref is not None else reference_graph(assignment)
    try:
        sub = submission or load(path, assignment.entry_files)
    except LoadError as e:
        return _failed_report(path, assignment, ref, "build_error", str(e), t0), None
    res = trace.run_trace(sub, assignment, use_sandbox=use_sandbox, timeout_s=timeout_s, memory_mb=memory_mb, pool=pool)
    report = build_report(sub, res, assignment, ref, t0, commit=commit)
    return report, sub


def _function_of(sub: Submission):
    """(file, line) -> the name of the innermost function or method of the
    student's code that holds that line (None at module level)."""
    cache: dict = {}

    def spans(file):
        if file not in cache:
            out = []
            try:
                tree = ast.parse(sub.text(file) or "")
            except (SyntaxError, ValueError):
                tree = None
            for node in ast.walk(tree) if tree is not None else ():
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out.append((node.lineno, node.end_lineno or node.lineno, node.name))
            cache[file] = out
        return cache[file]

    def f(src):
        if src is None:
            return None
        inside = [(a, b, name) for a, b, name in spans(src[0]) if a <= src[1] <= b]
        return max(inside)[2] if inside else None

    return f


def _source_of(sub: Submission):
    def f(src):
        if src is None:
            return None
        return sub.source(src[0], src[1])

    return f


#: The finding of a model too large to analyse (a template: translated in grader/locale).
M_INTEGRITY = ("{location}: the score is withheld for the instructor to review: {count} of the {layers} layers are "
               "not backed by a line of the submission that constructs them ({actual}).")
M_TOO_MANY_LAYERS = ("{location}: the model has {actual} layers, more than the {limit} the grader analyses; "
                     "the assignment's network has a few hundred.")


def build_report(sub: Submission, res: trace.TraceResult, assignment: Assignment, ref: graph.Graph, t0: float,
                 commit: dict | None = None) -> Report:
    t = res.trace or {}
    status = res.status
    student = None
    probe_graphs = []
    invalid = None
    layers = trace.layer_count(t.get("graph"))
    if layers > trace.MAX_LAYERS:  # no graph work at all: its cost grows faster than the layers
        return report_from_graphs(sub, res, assignment, ref, t0, None, [], too_many_layers=layers, commit=commit)
    if status in ("ok", "failed") and t.get("graph") is not None:
        try:
            student = graph.build(t["graph"], partial=bool(t["graph"].get("partial")))
            for p in probes_of(t):
                probe_graphs.append(graph.build(p, partial=bool(p.get("error")))
                                    if p.get("nodes") is not None else None)
        except graph.TraceError as e:
            invalid = str(e)
            student = None
    unbacked = integrity.check(t.get("graph"), sub.files_to_run()) if student is not None else None
    return report_from_graphs(sub, res, assignment, ref, t0, student, probe_graphs, invalid=invalid, commit=commit,
                              unbacked=unbacked)


#: The findings a report lists (the score counts them all): 5,000 identity layers
#: made 5,000 ``layer_extra`` findings and a report.json of several MB.
MAX_REPORTED_FINDINGS = 500


def _bounded(findings: list) -> list:
    """At most MAX_REPORTED_FINDINGS findings, in their order: the root findings
    first, then the consequences of the roots kept (none points at a dropped one)."""
    if len(findings) <= MAX_REPORTED_FINDINGS:
        return findings
    roots = [f for f in findings if f.caused_by is None][:MAX_REPORTED_FINDINGS]
    kept = {f.id for f in roots}
    room = MAX_REPORTED_FINDINGS - len(kept)
    for f in findings:
        if room <= 0:
            break
        if f.caused_by is not None and f.caused_by in kept:
            kept.add(f.id)
            room -= 1
    return [f for f in findings if f.id in kept]


def _src_tuple(src):
    return (src["file"], src["line"]) if isinstance(src, dict) and src.get("file") else None


probes_of = trace.probes_of


def report_from_graphs(sub: Submission, res: trace.TraceResult, assignment: Assignment, ref: graph.Graph, t0: float,
                       student: graph.Graph | None, probe_graphs, *, invalid: str | None = None,
                       too_many_layers: int | None = None, commit: dict | None = None,
                       unbacked: integrity.Problems | None = None) -> Report:
    """The report of a traced submission whose canonical graphs are built
    (``student`` None: nothing could be traced, or the trace was rejected;
    ``probe_graphs``: one per probe of the trace, or a single graph)."""
    source_of = _source_of(sub)
    t = res.trace or {}
    status = res.status
    error = t.get("error")
    if isinstance(probe_graphs, graph.Graph) or probe_graphs is None:
        probe_graphs = [probe_graphs]
    probes = [(p, pg) for p, pg in zip(probes_of(t), probe_graphs) if pg is not None or p.get("returned")]
    d = dg.diagnose(student if not invalid else None, ref, assignment, probes=probes, error=error, status=status,
                    notes=t.get("notes") or (), source_of=source_of, function_of=_function_of(sub),
                    returned=t.get("returned"), returned_source=_src_tuple((t.get("found") or {}).get("source")))
    findings = list(d.findings)
    findings += ipython_findings(sub, source_of)
    failed = False
    fatal = None
    if too_many_layers:
        fatal = dg.F("too_many_layers", "error", "data", M_TOO_MANY_LAYERS,
                     {"location": "data", "actual": too_many_layers, "limit": trace.MAX_LAYERS}, trace.MAX_LAYERS,
                     too_many_layers)
    elif unbacked is not None:
        # the diagnosis stays in the report, for the instructor; the score is withheld
        fatal = dg.F("integrity", "error", "data", M_INTEGRITY,
                     {"location": "data", "count": unbacked.count, "layers": unbacked.layers,
                      "actual": "; ".join(unbacked.shown) + ("; ..." if unbacked.count > len(unbacked.shown) else "")},
                     None, unbacked.count)
    elif invalid:
        fatal = dg.F("build_error", "error", "data", dg.M_BUILD, {"location": "data", "actual": f"the trace was rejected ({invalid})"},
                     None, "trace rejected")
    elif status == "timeout":
        fatal = dg.F("timeout", "error", "data", dg.M_TIMEOUT, {"location": "data", "actual": res.detail}, None, float(res.detail or 0))
    elif status == "memory_limit":
        fatal = dg.F("memory_limit", "error", "data", dg.M_MEMORY, {"location": "data", "actual": res.detail}, None, res.detail)
    elif status in ("no_model", "crashed", "invalid"):
        cands = t.get("candidates") or []
        detail = res.detail or ("the file defines " + ", ".join(cands[:12]) if cands else "the file defines no function, class or model")
        if status != "invalid":  # a refused trace is not a naming problem
            detail += f"; name it one of {', '.join(assignment.objects[:3])} or define {', '.join(assignment.builders[:3])}()"
        fatal = dg.F("no_model", "error", "data", dg.M_NO_MODEL, {"location": "data", "detail": detail}, None, None)
        if status == "crashed" and res.returncode not in (0, None):
            fatal = dg.F("build_error", "error", "data", dg.M_BUILD, {"location": "data", "actual": res.detail}, None, res.detail)
    if fatal is not None:
        findings.insert(0, fatal)
        failed = True
    if error and not error.get("after_model") and status != "ok":
        failed = True
        if not any(f.code in ("build_error", "memory_limit") for f in findings):
            src = error.get("source")
            mod = f" (install or remove the package `{error['module']}`)" if error.get("module") else ""
            findings.insert(0, dg.F("build_error", "error", "data", dg.M_BUILD,
                                    {"location": "data", "actual": f"{error.get('type')}: {dg.first_line(error.get('message', ''))}{mod}"},
                                    None, error.get("type"), source=(src["file"], src["line"]) if src else None))
    findings += script_findings(t.get("statement_errors") or [], status, findings, source_of)
    if error and error.get("cause"):
        _explained_build(findings, error, source_of)
    # ids, order: roots in report order, each followed by nothing (consequences keep their own order)
    findings.sort(key=lambda f: (f.order, f.caused_by is not None))
    for i, f in enumerate(findings, 1):
        f.id = f"F{i}"
    parts, deds = score(findings, d.elements, assignment, failed=failed, part_of=d.part_of)
    out = []
    for f, dd in zip(findings, deds):
        src = source_of(f.source) if f.source else None
        out.append(Finding(
            id=f.id, code=f.code, severity=f.severity, location=f.location, message=clean_text(f.message),
            expected=f.expected, actual=clean_text(f.actual) if isinstance(f.actual, str) else f.actual, source=src, caused_by=f.caused_by.id if f.caused_by else None,
            deduction=round(dd, 4), part=d.part_of(f.code, f.location), template=f.template,
            args={k: clean_text(v) if isinstance(v, str) else _jsonable(v) for k, v in f.args.items()},
        ))
    out = _bounded(out)
    total = round(sum(p.score for p in parts), 4)
    err = None
    if error and not error.get("after_model"):
        src = error.get("source")
        err = {"type": error.get("type"), "message": clean_text(str(error.get("message", "")))[:4000],
               "source": source_of((src["file"], src["line"])).__dict__ if src else None}
    info = SubmissionInfo(sub.id, sub.path, sub.sha256, sub.kind, sub.notebook or sub.entry,
                          **{k: v for k, v in (commit or {}).items() if k in ("commit", "committed_at", "late")})
    model = ModelSummary(
        total_params=student.total_params() if student is not None else None,
        reference_total_params=ref.total_params(), layers=d.layers, blocks=d.blocks, probe=d.probe,
        outputs=[list(student.nodes[o].out_shape or []) for o in student.outputs] if student is not None else None,
        origin=_origin(t.get("found"), status, source_of),
    )
    return Report(
        submission=info, status="failed" if failed else "graded", score=total, max_score=assignment.max_score,
        parts=parts, findings=out, model=model, grader_version=__version__,
        graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), assignment=assignment.name,
        duration_s=round(time.time() - t0, 3), sandboxed=res.sandboxed, error=err, architecture=assignment.architecture,
        stdout=clean_text(res.stdout[-20000:]), stderr=clean_text(res.stderr[-20000:]),
    )


# -- running the code students write: what the grader did, and what failed -----------------------


def _src_of(source_of, src: dict | None):
    return source_of((src["file"], src["line"])) if src else None


def _explained_build(findings: list, error: dict, source_of):
    """The build error says its cause in a message of its own (translatable)."""
    cause = error["cause"]
    used = _src_of(source_of, cause.get("source") if cause["kind"] == "standin" else cause.get("used"))
    for f in findings:
        if f.code != "build_error":
            continue
        f.args.update(name=cause["name"], where=dg.where(used))
        if cause["kind"] == "standin":
            f.template = dg.M_BUILD_STANDIN
            f.args["module"] = cause["module"]
        else:
            f.template = dg.M_BUILD_CAUSE
            f.args["actual"] = f"{cause['type']}: {dg.first_line(cause['message'])}"
            f.actual = f.args["actual"]


def script_findings(errors: list, status: str, findings: list, source_of) -> list:
    """A finding for each top-level statement that raised and was not the model's
    construction: a warning when the model was graded, an error when it was not.
    One that follows from an earlier failure (a NameError for what it should have
    defined) hangs under it."""
    severity = "warning" if status == "ok" else "error"
    build = next((f for f in findings if f.code == "build_error"), None)
    made: dict = {}
    out = []
    for i, e in enumerate(errors):
        if e["role"] != "script":
            made[i] = build
            continue
        actual = f"{e['type']}: {dg.first_line(e['message'])}"
        cause = e.get("cause")
        if cause and cause.get("kind") == "standin":
            actual += f" (`{cause['name']}` comes from `{cause['module']}`, which is not installed where the grader runs)"
        if e.get("count", 1) > 1:
            actual += f" ({e['count']} times)"
        src = e.get("source")
        parent = made.get(e["caused_by"]) if e.get("caused_by") is not None else None
        f = dg.F("script_error", severity, "data", dg.M_SCRIPT, {"location": "data", "actual": actual}, None, actual,
                 source=(src["file"], src["line"]) if src else None, caused_by=parent, order=1e8 + i)
        made[i] = f
        out.append(f)
    return out


def ipython_findings(sub: Submission, source_of) -> list:
    """One info finding listing the IPython lines skipped to run the code."""
    lines = sub.ipython_lines or []
    if not lines:
        return []
    items = [f"`{text.strip()[:60]}` ({dg.where(source_of((sub.entry, ln)))})" for ln, text in lines[:8]]
    if len(lines) > 8:
        items.append(f"and {len(lines) - 8} more")
    actual = ", ".join(items)
    return [dg.F("ipython_syntax", "info", "data", dg.M_IPYTHON, {"location": "data", "actual": actual}, None, actual,
                 source=(sub.entry, lines[0][0]), order=1e9 - 1)]


def _origin(found: dict | None, status: str, source_of) -> ModelOrigin | None:
    """How the graded model was obtained; for a failed build, the builder call that failed."""
    if not found or (status != "ok" and found.get("how") != "builder"):
        return None
    return ModelOrigin(found["how"], found["name"], found.get("call"), _src_of(source_of, found.get("source")),
                       bool(found.get("wrapped")))


_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(s: str) -> str:
    """Text from the student's process without terminal escapes and control
    characters (they are not valid in HTML or XML reports)."""
    return _CONTROL.sub("", s or "")


def _jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return str(v)


def _failed_report(path, assignment: Assignment, ref: graph.Graph, code: str, message: str, t0: float) -> Report:
    p = Path(path)
    f = Finding("F1", code, "error", "data", message, None, message, None, None, assignment.max_score, "layout",
                dg.M_BUILD, {"location": "data", "actual": message})
    d = dg.diagnose(None, ref, assignment)
    parts, _ = score([f], d.elements, assignment, failed=True, part_of=d.part_of)
    return Report(
        submission=SubmissionInfo(p.stem if p.suffix else p.name, str(p), ""), status="failed", score=0.0,
        max_score=assignment.max_score, parts=parts, findings=[f],
        model=ModelSummary(None, ref.total_params()), grader_version=__version__,
        graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), assignment=assignment.name,
        duration_s=round(time.time() - t0, 3), error={"type": "LoadError", "message": message, "source": None},
    )
