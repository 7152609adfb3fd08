"""Grading one submission: load -> sandboxed trace -> graph -> diagnose -> score -> Report.

The reference graph is traced once and cached on disk, keyed by the grader's
version, the TensorFlow and Keras versions, the assignment file and the
reference's own source, so a self-check never rebuilds it.

Called, this module is the notebook check: ``grader.check()`` in Jupyter runs
:func:`grader.notebook.check` (the name is the one students know from other
graders; the module keeps its functions, ``grader.check.grade`` etc.).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
import types
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import __version__, diagnose as dg, graph, trace
from .assignment import Assignment
from .report import Finding, ModelSummary, Report, SubmissionInfo
from .score import part_of, score
from .submission import LoadError, Submission, load

REFERENCE_SRC = Path(__file__).resolve().parent.parent / "reference" / "googlenet.py"


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
    for part in (__version__, _version("keras"), _version("tensorflow"), assignment.sha256,
                 str(assignment.input_shape), str(assignment.num_classes), assignment.aux, str(assignment.lrn)):
        h.update(part.encode() + b"\0")
    for f in (REFERENCE_SRC, Path(graph.__file__), Path(trace.CHILD)):
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:32]


class ReferenceError(RuntimeError):
    pass


def reference_graph(assignment: Assignment) -> graph.Graph:
    """The canonical reference graph for this assignment, from the disk cache when it is there."""
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
    aux = assignment.aux != "forbidden"
    script = (
        "from reference.googlenet import build_googlenet\n"
        f"model = build_googlenet(num_classes={assignment.num_classes}, input_shape={tuple(assignment.input_shape)!r}, aux={aux})\n"
    )
    sub = Submission("reference", "reference", "py", {"reference_model.py": script.encode()}, "reference_model.py", "")
    env_path = str(REFERENCE_SRC.parent.parent)
    res = trace.run_trace(sub, assignment, use_sandbox=False, timeout_s=max(120.0, assignment.timeout_s),
                          extra_request={"objects": ["model"], "builders": [], "inception_names": [], "sys_path": [env_path]})
    if res.status != "ok" or res.trace is None:
        raise ReferenceError(f"could not build the reference model ({res.status}: {res.detail or res.stderr[-2000:]})")
    g = graph.build(res.trace["graph"])
    if not assignment.lrn:
        for nid in [k for k, n in g.nodes.items() if n.op == "norm"]:
            graph._remove(g, nid)
    return g


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


def _source_of(sub: Submission):
    def f(src):
        if src is None:
            return None
        return sub.source(src[0], src[1])

    return f


def build_report(sub: Submission, res: trace.TraceResult, assignment: Assignment, ref: graph.Graph, t0: float,
                 commit: dict | None = None) -> Report:
    source_of = _source_of(sub)
    t = res.trace or {}
    status = res.status
    student = probe_graph = None
    invalid = None
    error = t.get("error")
    if status in ("ok", "failed") and t.get("graph") is not None:
        try:
            student = graph.build(t["graph"], partial=bool(t["graph"].get("partial")))
            p = t.get("probe")
            if p and p.get("nodes") is not None:
                probe_graph = graph.build(p, partial=bool(p.get("error")))
        except graph.TraceError as e:
            invalid = str(e)
            student = None
    d = dg.diagnose(student if not invalid else None, ref, assignment, probe=t.get("probe") if probe_graph else None,
                    probe_graph=probe_graph, error=error, status=status, notes=t.get("notes") or (),
                    source_of=source_of)
    findings = list(d.findings)
    failed = False
    fatal = None
    if invalid:
        fatal = dg.F("build_error", "error", "data", dg.M_BUILD, {"location": "data", "actual": f"the trace was rejected ({invalid})"},
                     None, "trace rejected")
    elif status == "timeout":
        fatal = dg.F("timeout", "error", "data", dg.M_TIMEOUT, {"location": "data", "actual": res.detail}, None, float(res.detail or 0))
    elif status == "memory_limit":
        fatal = dg.F("memory_limit", "error", "data", dg.M_MEMORY, {"location": "data", "actual": res.detail}, None, res.detail)
    elif status in ("no_model", "crashed", "invalid"):
        cands = t.get("candidates") or []
        detail = res.detail or ("the file defines " + ", ".join(cands[:12]) if cands else "the file defines no function, class or model")
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
                                    {"location": "data", "actual": f"{error.get('type')}: {dg._first_line(error.get('message', ''))}{mod}"},
                                    None, error.get("type"), source=(src["file"], src["line"]) if src else None))
    # ids, order: roots in report order, each followed by nothing (consequences keep their own order)
    findings.sort(key=lambda f: (f.order, f.caused_by is not None))
    for i, f in enumerate(findings, 1):
        f.id = f"F{i}"
    parts, deds = score(findings, assignment, failed=failed)
    out = []
    for f, dd in zip(findings, deds):
        src = source_of(f.source) if f.source else None
        out.append(Finding(
            id=f.id, code=f.code, severity=f.severity, location=f.location, message=clean_text(f.message),
            expected=f.expected, actual=clean_text(f.actual) if isinstance(f.actual, str) else f.actual, source=src, caused_by=f.caused_by.id if f.caused_by else None,
            deduction=round(dd, 4), part=_part(f), template=f.template,
            args={k: clean_text(v) if isinstance(v, str) else _jsonable(v) for k, v in f.args.items()},
        ))
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
    )
    return Report(
        submission=info, status="failed" if failed else "graded", score=total, max_score=assignment.max_score,
        parts=parts, findings=out, model=model, grader_version=__version__,
        graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), assignment=assignment.name,
        duration_s=round(time.time() - t0, 3), sandboxed=res.sandboxed, error=err,
        stdout=clean_text(res.stdout[-20000:]), stderr=clean_text(res.stderr[-20000:]),
    )


_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(s: str) -> str:
    """Text from the student's process without terminal escapes and control
    characters (they are not valid in HTML or XML reports)."""
    return _CONTROL.sub("", s or "")


def _part(f):
    return part_of(f.code, f.location)


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
    parts, _ = score([f], assignment, failed=True)
    return Report(
        submission=SubmissionInfo(p.stem if p.suffix else p.name, str(p), ""), status="failed", score=0.0,
        max_score=assignment.max_score, parts=parts, findings=[f],
        model=ModelSummary(None, ref.total_params()), grader_version=__version__,
        graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), assignment=assignment.name,
        duration_s=round(time.time() - t0, 3), error={"type": "LoadError", "message": message, "source": None},
    )


class _CheckModule(types.ModuleType):
    """``grader.check`` is this module and, called, :func:`grader.notebook.check`."""

    def __call__(self, *args, **kwargs):
        from .notebook import check as notebook_check

        return notebook_check(*args, **kwargs)


sys.modules[__name__].__class__ = _CheckModule
