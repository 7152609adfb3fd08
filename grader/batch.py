"""Grading a whole class: ``grader batch DIR`` and ``grader merge``.

``plan(DIR, OUT, assignment)`` finds the submissions in DIR (each top-level
``.py``, ``.ipynb``, ``.zip`` and folder; the id is the name without its
extension), keeps this shard's share of them and splits them into what must be
graded and what ``OUT`` already holds an up-to-date report for.  ``run(plan, ...)``
grades the rest a few at a time (each grade runs in its own child process, so
threads are enough here) and writes, for every submission::

    OUT/<id>/report.json     the report (grader.report/1)
    OUT/<id>/report.html     the student's feedback page
    OUT/<id>/.key            the cache key: written last, so a key means all is there
    OUT/gradescope/<id>.json Gradescope's results.json for this student

and then, from every ``OUT/*/report.json`` present (so a resumed or sharded run
includes earlier results)::

    OUT/grades.csv           one row per submission, sorted by id
    OUT/index.html           the class overview (grader/render/index.py)
    OUT/collect.csv          a copy of DIR/collect.csv, when there is one

Every file is written atomically (a temporary file, then a rename): a batch
killed at any moment leaves whole files or none, and running the same command
again grades only what is missing.  Nothing in this module prints.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ._version import __version__
from .fsutil import safe_name, write_atomic

__all__ = [
    "BatchError",
    "Entry",
    "MergeResult",
    "Plan",
    "Result",
    "grades_frame",
    "merge",
    "parse_shard",
    "plan",
    "run",
    "shard_of",
    "unit_frame",
    "write_grades_csv",
    "write_index",
    "write_unit",
]

SUFFIXES = (".py", ".ipynb", ".zip")
#: Names in DIR that are never submissions.
IGNORED_NAMES = {"collect.csv", ".repos", "__pycache__", ".ipynb_checkpoints", "__MACOSX"}
#: Names in OUT that are not per-submission folders (an id may not be one of them).
RESERVED_IDS = {"gradescope"}
KEY_NAME = ".key"
GRADES_CSV = "grades.csv"
INDEX_HTML = "index.html"
COLLECT_CSV = "collect.csv"
GRADESCOPE_DIR = "gradescope"
KEY_FIELDS = ("sha256", "assignment_sha256", "grader_version", "grader_build", "commit")
#: The first columns of grades.csv; ``part_<name>`` columns follow ``status``.
#: ``review``: why the instructor should look at a submission before its grade
#: counts (``integrity``: layers no line of the submission constructs; empty otherwise)
BASE_COLUMNS = ["id", "score", "max_score", "percent", "status", "review"]
TAIL_COLUMNS = ["errors", "warnings", "infos", "root_findings", "total_params", "kind", "sha256",
                "commit", "committed_at", "late", "grader_version", "duration_s", "graded_at"]


class BatchError(Exception):
    """A problem with the batch's input or output folders; the message says what to do."""


# ---------------------------------------------------------------------------
# planning
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One submission found in DIR."""

    id: str
    path: Path
    kind: str  # py | ipynb | zip | folder
    sha256: str  # grader.submission.load(...).sha256, or a hash of the raw files when it cannot load
    key: dict  # the cache key this submission would be stored under
    load_error: str | None = None
    reason: str = ""  # why it is graded: new | changed | forced | incomplete (empty when cached)
    commit: dict | None = None  # commit, committed_at, late from DIR/collect.csv


@dataclass
class Plan:
    dir: Path
    out: Path
    todo: list[Entry]  # to grade, by id
    cached: list[Entry]  # up-to-date reports in OUT, reused
    all: list[Entry]  # todo + cached, by id: this shard's submissions
    shard: tuple[int, int] | None = None
    other_shards: int = 0  # submissions in DIR left to the other shards
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (name in DIR, why it is not a submission)
    collect_csv: Path | None = None


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``1 <= K <= N``."""
    raw = (text or "").strip()
    parts = raw.split("/")
    try:
        k, n = (int(p) for p in parts) if len(parts) == 2 else (0, 0)
    except ValueError:
        k = n = 0
    if n < 1 or not 1 <= k <= n:
        raise BatchError(f"--shard must be K/N with 1 <= K <= N (e.g. --shard 2/4 grades the second of four "
                         f"shares), not {text!r}")
    return k, n


def shard_of(sid: str, n: int) -> int:
    """The shard (1..n) a submission id belongs to: a stable hash of the id, so the
    split does not depend on what else is in DIR or on the order of the files."""
    return int.from_bytes(hashlib.sha256(sid.encode("utf-8")).digest()[:8], "big") % n + 1


def _submission_id(p: Path) -> str:
    # a name that is not UTF-8 or holds a newline gets an escaped id (bad\xffname): the id is a folder
    # name in OUT, a JSON string and a CSV cell
    return safe_name(p.name if p.is_dir() else p.stem)


def _raw_sha(path: Path) -> str:
    """A content hash for a submission that does not load (same scheme as grader.submission)."""
    from .submission import SKIP_DIRS

    h = hashlib.sha256()
    if path.is_symlink():  # never followed: it may lead out of DIR (to /etc, to a huge tree)
        h.update(os.fsencode(path.name) + b"\0symlink\0" + os.fsencode(os.readlink(path)))
    elif path.is_dir():
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(path)
            if any(part in SKIP_DIRS for part in rel.parts) or p.is_symlink() or not p.is_file():
                continue
            h.update(os.fsencode(rel.as_posix()) + b"\0" + _file_sha(p))
    else:
        h.update(os.fsencode(path.name) + b"\0" + _file_sha(path))
    return h.hexdigest()


def _file_sha(p: Path) -> bytes:
    h = hashlib.sha256()
    try:
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        h.update(b"unreadable")
    return h.digest()


def submission_sha(path: Path, assignment) -> tuple[str, str | None, object]:
    """(sha256, load error or None, loaded Submission or None)."""
    from .submission import LoadError, load

    try:
        sub = load(path, assignment.entry_files)
    except LoadError as e:
        return _raw_sha(path), str(e), None
    except OSError as e:
        return _raw_sha(path), f"cannot read {safe_name(path.name)}: {e}", None
    except Exception as e:  # a failure of the loader itself stays this submission's
        return _raw_sha(path), f"the grader could not load {safe_name(path.name)} ({type(e).__name__}: {e})", None
    return sub.sha256, None, sub


def _lang(lang: str | None) -> str:
    from .i18n import normalize_lang

    return normalize_lang(lang)  # "ko-KR" is "ko": one language, one cache key


@functools.cache
def grader_build() -> str:
    """A digest of the grader's own files (code, templates, catalogs, references): a
    grader changed under the same version (installed again from git) grades again
    instead of reusing reports the old one wrote."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for f in sorted(root.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts and f.suffix not in (".pyc", ".mo"):
            h.update(str(f.relative_to(root)).encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:16]


def _key(sha: str, assignment, commit: dict | None, lang: str = "en") -> dict:
    return {
        "sha256": sha,
        "assignment_sha256": assignment.sha256,
        "grader_version": __version__,
        "grader_build": grader_build(),
        "commit": (commit or {}).get("commit") or None,
        "lang": lang,  # of report.html; not in KEY_FIELDS: the grade does not depend on it
    }


def _read_key(folder: Path) -> dict | None:
    try:
        d = json.loads((folder / KEY_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def _complete(folder: Path) -> bool:
    return all((folder / n).is_file() for n in ("report.json", "report.html"))


def read_collect_csv(path: Path) -> list[dict] | None:
    """Rows of a ``collect.csv`` (all values str), None when there is none."""
    import pandas as pd

    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as e:  # pandas raises several kinds
        raise BatchError(f"cannot read {path}: {e}; fix or remove it (`grader collect` writes it)") from None
    if "id" not in frame.columns:
        raise BatchError(f"{path} has no 'id' column, so it was not written by `grader collect`; "
                         "rename or remove it")
    return [{str(k): str(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _commit_info(row: dict | None) -> dict | None:
    if not row or not row.get("commit"):
        return None
    late = str(row.get("late", "")).strip().lower()
    return {"commit": row["commit"], "committed_at": row.get("committed_at") or None,
            "late": True if late in ("true", "1", "yes") else False if late in ("false", "0", "no") else None}


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise BatchError(f"--out {out} is a file; give a folder for the reports")
    try:
        out.mkdir(parents=True, exist_ok=True)
        _clean_tmp(out, ".write-test.")
        fd, probe = tempfile.mkstemp(prefix=".write-test.", suffix=".tmp", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise BatchError(f"cannot write into --out {out}: {e.strerror or e}; choose a folder you can write to") from None


def _scan(d: Path, out: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    if not d.exists():
        raise BatchError(f"{d} does not exist: give the folder with one submission per student "
                         "(e.g. the --into folder of `grader collect`)")
    if not d.is_dir():
        raise BatchError(f"{d} is a file, not a folder of submissions; to grade one submission use `grader check {d}`")
    try:
        out_real = out.resolve()
    except OSError:
        out_real = out
    found, ignored = [], []
    for p in sorted(d.iterdir(), key=lambda x: x.name):
        name = p.name
        if name.startswith(".") or name in IGNORED_NAMES:
            continue
        try:
            if p.resolve() == out_real:
                ignored.append((name, "the --out folder"))
                continue
        except OSError:
            pass
        if p.is_dir() and ((p / GRADES_CSV).is_file() or (p / GRADESCOPE_DIR).is_dir()):
            ignored.append((name, "the output of an earlier grader batch"))
        elif p.is_dir():
            found.append(p)
        elif (p.is_file() or p.is_symlink()) and p.suffix.lower() in SUFFIXES:  # a broken link: its own report
            found.append(p)
        else:
            ignored.append((name, "not a .py, .ipynb or .zip file or a folder"))
    return found, ignored


def plan(dir: Path, out: Path, assignment, *, shard: tuple[int, int] | None = None, force: bool = False,
         lang: str = "en") -> Plan:
    """What ``run`` will do: which submissions of DIR (this shard's) to grade and
    which up-to-date reports in OUT to reuse (a report in another language than
    ``lang`` is graded again).  Raises BatchError for a missing or
    empty DIR, duplicate ids, a bad shard or an OUT that cannot be written."""
    d, out = Path(dir), Path(out)
    lang = _lang(lang)
    if shard is not None:
        k, n = shard
        if not (isinstance(k, int) and isinstance(n, int) and n >= 1 and 1 <= k <= n):
            raise BatchError(f"shard must be (K, N) with 1 <= K <= N, not {shard!r}")
    paths, ignored = _scan(d, out)
    if not paths:
        raise BatchError(f"no submissions in {d}: expected one .py, .ipynb or .zip file or one folder per student "
                         "(hidden names, collect.csv and __pycache__ are skipped)")
    seen: dict[str, Path] = {}
    for p in paths:
        sid = _submission_id(p)
        other = seen.get(sid.casefold())
        if other is not None:
            raise BatchError(f"two submissions have the id {sid!r}: {other.name} and {p.name}; "
                             "keep one of them (or rename one) and run again")
        if sid in RESERVED_IDS:
            raise BatchError(f"{p.name}: the id {sid!r} is reserved for OUT/{sid}/; rename this submission")
        seen[sid.casefold()] = p
    _check_out(out)
    collect_path = d / COLLECT_CSV
    collect_rows = read_collect_csv(collect_path)
    commits = {r.get("id", ""): _commit_info(r) for r in collect_rows or []}
    todo, cached, others = [], [], 0
    for p in sorted(paths, key=_submission_id):
        sid = _submission_id(p)
        if shard is not None and shard_of(sid, shard[1]) != shard[0]:
            others += 1
            continue
        sha, err, _ = submission_sha(p, assignment)
        commit = commits.get(sid)
        key = _key(sha, assignment, commit, lang)
        kind = "folder" if p.is_dir() else p.suffix.lower()[1:]
        folder = out / sid
        old = _read_key(folder)
        if force:
            reason = "forced"
        elif old is None:
            reason = "new" if not (folder / "report.json").exists() else "incomplete"
        elif any(old.get(k) != key[k] for k in KEY_FIELDS):
            reason = "changed"
        elif old.get("lang", "en") != key["lang"]:
            reason = "language"
        elif not _complete(folder) or not (out / GRADESCOPE_DIR / f"{sid}.json").is_file():
            reason = "incomplete"
        else:
            reason = ""
        e = Entry(sid, p, kind, sha, key, err, reason, commit)
        (todo if reason else cached).append(e)
    return Plan(d, out, todo, cached, sorted(todo + cached, key=lambda e: e.id), shard, others, ignored,
                collect_path if collect_rows is not None else None)


# ---------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------
@dataclass
class Result:
    graded: int  # graded in this run
    reused: int  # up-to-date reports kept
    failed: int  # of those graded in this run: could not be built, timed out, or the grader failed
    grades_csv: Path
    index_html: Path
    rows: list[dict] = field(default_factory=list)  # the on_result rows of this run, by id
    interrupted: bool = False


def _grader_failure(entry: Entry, assignment, exc: BaseException, t0: float):
    """A report for a submission on which the grader itself raised."""
    from .report import Finding, ModelSummary, Report, SubmissionInfo
    from .score import zero_parts

    msg = (f"the grader failed on this submission ({type(exc).__name__}: {str(exc)[:500]}); this is not a verdict "
           "on the code: run `grader batch` again, and report the problem if it stays")
    f = Finding("F1", "build_error", "error", "data", msg, None, msg, None, None, assignment.max_score, "layout",
                None, {"location": "data", "actual": msg})
    parts = zero_parts(assignment)
    c = entry.commit or {}
    return Report(
        submission=SubmissionInfo(entry.id, str(entry.path), entry.sha256, entry.kind, None, c.get("commit"),
                                  c.get("committed_at"), c.get("late")),
        status="failed", score=0.0, max_score=assignment.max_score, parts=parts, findings=[f],
        model=ModelSummary(None, 0), grader_version=__version__,
        graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), assignment=assignment.name,
        duration_s=round(time.time() - t0, 3), error={"type": "GraderError", "message": msg, "source": None},
    )


def _clean_tmp(folder: Path, prefix: str = ".") -> None:
    """Remove temporary files a killed writer left behind (write_atomic's ``.NAME.*.tmp``)."""
    try:
        for p in folder.glob(f"{prefix}*.tmp"):
            if p.is_file():
                p.unlink(missing_ok=True)
    except OSError:
        pass


def _row(report, duration: float, error: str | None = None) -> dict:
    return {
        "id": report.submission.id,
        "score": float(report.score),
        "max_score": float(report.max_score),
        "percent": report.percent,
        "status": report.status,
        "errors": report.count("error"),
        "warnings": report.count("warning"),
        "duration_s": round(duration, 3),
        "error": error,
    }


def _grade_one(entry: Entry, out: Path, assignment, *, ref, use_sandbox: bool, timeout_s, pool,
               lang: str = "en") -> dict:
    from . import check
    from .render import write_html
    from .render.gradescope import gradescope_results

    t0 = time.time()
    folder = out / entry.id
    folder.mkdir(parents=True, exist_ok=True)
    # A regrade invalidates the old key first: killed half-way, the folder is then regraded next time.
    (folder / KEY_NAME).unlink(missing_ok=True)
    _clean_tmp(folder)
    _clean_tmp(out / GRADESCOPE_DIR, f".{entry.id}.json.")
    sha, err, sub = submission_sha(entry.path, assignment)
    key = _key(sha, assignment, entry.commit, lang)
    grader_error = None
    try:
        report, sub = check.grade(entry.path, assignment, use_sandbox=use_sandbox, timeout_s=timeout_s, ref=ref,
                                  commit=entry.commit, pool=pool, submission=sub)
    except Exception as e:  # the grader's own failure: record it, never stop the batch
        report, sub, grader_error = _grader_failure(entry, assignment, e, t0), None, f"{type(e).__name__}: {e}"
    fix = {}
    if report.submission.id != entry.id:
        fix["id"] = entry.id
    if not report.submission.sha256:
        fix["sha256"] = sha
    if fix:
        report = dataclasses.replace(report, submission=dataclasses.replace(report.submission, **fix))
    try:
        write_html(report, folder / "report.html", source_files=sub.source_texts() if sub is not None else None,
                   lang=lang, part_titles=assignment.titles(lang))
    except Exception as e:  # a page that cannot be rendered: this submission's failure, with a plain page
        report, grader_error = _grader_failure(entry, assignment, e, t0), f"{type(e).__name__}: {e}"
        write_html(report, folder / "report.html", lang=lang, part_titles=assignment.titles(lang))
    write_atomic(out / GRADESCOPE_DIR / f"{entry.id}.json",
                 json.dumps(gradescope_results(report), indent=2, ensure_ascii=False) + "\n")
    write_atomic(folder / "report.json", report.to_json())
    if grader_error is None:  # a grader failure is retried by the next run
        write_atomic(folder / KEY_NAME, json.dumps(key, indent=2, sort_keys=True) + "\n")
    return _row(report, time.time() - t0, grader_error)


def _safe_grade_one(entry: Entry, out: Path, assignment, **kw) -> dict:
    t0 = time.time()
    try:
        return _grade_one(entry, out, assignment, **kw)
    except Exception as e:  # e.g. the disk is full: still one row, and the batch goes on
        return {"id": entry.id, "score": 0.0, "max_score": float(assignment.max_score), "percent": 0.0,
                "status": "failed", "errors": 1, "warnings": 0, "duration_s": round(time.time() - t0, 3),
                "error": f"{type(e).__name__}: {e}"}


def run(plan: Plan, assignment, *, jobs: int, use_sandbox: bool, on_result: Callable[[dict], None] | None = None,
        timeout_s: float | None = None, pool=None, lang: str = "en") -> Result:
    """Grade ``plan.todo`` ``jobs`` at a time, then write grades.csv and index.html
    from every report in OUT.  ``on_result(row)`` is called in this thread after
    each submission with id, score, max_score, percent, status, errors, warnings,
    duration_s and error (the grader's own failure, else None).

    A submission that fails, hangs or crashes is a failed report, never the end
    of the batch.  On KeyboardInterrupt nothing more is started, what finished
    is kept and summarised (grades.csv, index.html), and the interrupt is re-raised.
    ``lang`` is the language of the reports and of index.html.
    """
    from . import check

    out = plan.out
    lang = _lang(lang)
    jobs = max(1, int(jobs or 1))
    out.mkdir(parents=True, exist_ok=True)
    _clean_tmp(out, f".{COLLECT_CSV}.")
    if plan.collect_csv is not None and plan.collect_csv.is_file():
        write_atomic(out / COLLECT_CSV, plan.collect_csv.read_bytes())
    rows: list[dict] = []
    interrupted = False
    if plan.todo:
        ref = check.reference_graph(assignment)
        kw = dict(ref=ref, use_sandbox=use_sandbox, timeout_s=timeout_s, pool=pool, lang=lang)
        ex = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grader-batch")
        try:
            pending = {ex.submit(_safe_grade_one, e, out, assignment, **kw) for e in plan.todo}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: f.result()["id"]):
                    row = fut.result()
                    rows.append(row)
                    if on_result is not None:
                        on_result(row)
        except BaseException:
            interrupted = True
            # stop: nothing new starts; running grades finish in the background (their
            # files are written atomically) or are abandoned when the process exits
            ex.shutdown(wait=False, cancel_futures=True)
            try:
                _rebuild(out, assignment, lang)
            except Exception:  # keep the interrupt (or the caller's error) as what is raised
                pass
            raise
        ex.shutdown(wait=True)
    csv_path, index_path = _rebuild(out, assignment, lang)
    rows.sort(key=lambda r: r["id"])
    return Result(graded=len(rows), reused=len(plan.cached), failed=sum(r["status"] != "graded" for r in rows),
                  grades_csv=csv_path, index_html=index_path, rows=rows, interrupted=interrupted)


# ---------------------------------------------------------------------------
# grades.csv and index.html, from every report in OUT
# ---------------------------------------------------------------------------
def load_reports(out: Path) -> list[tuple[str, object, str | None]]:
    """``(id, Report or None, problem or None)`` for every ``OUT/<id>/report.json``, by id."""
    from .report import Report

    found = []
    if not Path(out).is_dir():
        return found
    for folder in sorted(Path(out).iterdir(), key=lambda p: p.name):
        if folder.name.startswith(".") or folder.name in RESERVED_IDS or not folder.is_dir():
            continue
        path = folder / "report.json"
        if not path.is_file():
            continue
        try:
            found.append((folder.name, Report.from_json(path.read_text(encoding="utf-8")), None))
        except (OSError, ValueError, KeyError, TypeError) as e:
            found.append((folder.name, None, f"unreadable report.json: {e}"))
    return found


def _part_order(reports) -> list[str]:
    """Every part of the reports, in rubric order (the order the reports list them)."""
    order: dict = {}
    for _, r, _ in reports:
        for p in (r.parts if r is not None else []):
            order.setdefault(p.name, None)
    return list(order)


def review_reason(r) -> str:
    """What the gradebook's ``review`` column says of a report: the integrity
    finding's reason (its score is withheld), or nothing."""
    f = next((f for f in r.findings if f.code == "integrity"), None)
    if f is None:
        return ""
    n, m = f.args.get("count"), f.args.get("layers")
    return f"integrity: {n} of {m} layers not constructed by a line of the submission"


def grades_frame(out: Path, reports=None):
    """The gradebook as a pandas DataFrame (what grades.csv holds)."""
    import pandas as pd

    reports = load_reports(out) if reports is None else reports
    collect = {r.get("id", ""): r for r in (read_collect_csv(Path(out) / COLLECT_CSV) or [])}
    parts = _part_order(reports)
    records = []
    for sid, r, problem in reports:
        c = _commit_info(collect.get(sid)) or {}
        if r is None:
            rec = {"id": sid, "status": "unreadable", "root_findings": problem or "", **c}
            records.append(rec)
            continue
        s = r.submission
        pscore = {p.name: p.score for p in r.parts}
        roots = r.roots()
        rec = {
            "id": sid, "score": r.score, "max_score": r.max_score, "percent": r.percent, "status": r.status,
            "review": review_reason(r),
            **{f"part_{n}": pscore.get(n) for n in parts},
            "errors": r.count("error"), "warnings": r.count("warning"), "infos": r.count("info"),
            "root_findings": "; ".join(f"{f.code}@{f.location}" for f in roots if f.severity != "info"),
            "total_params": r.model.total_params, "kind": s.kind, "sha256": s.sha256,
            "commit": s.commit if s.commit else c.get("commit"),
            "committed_at": s.committed_at if s.committed_at else c.get("committed_at"),
            "late": s.late if s.late is not None else c.get("late"),
            "grader_version": r.grader_version, "duration_s": r.duration_s, "graded_at": r.graded_at,
        }
        records.append(rec)
    columns = BASE_COLUMNS + [f"part_{n}" for n in parts] + TAIL_COLUMNS
    frame = pd.DataFrame.from_records(records, columns=columns)
    floats = ["score", "max_score", "percent", "duration_s"] + [f"part_{n}" for n in parts]
    for col in floats:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    for col in ("errors", "warnings", "infos", "total_params"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    frame["late"] = frame["late"].astype("boolean")
    for col in ("id", "status", "review", "root_findings", "kind", "sha256", "commit", "committed_at", "grader_version",
                "graded_at"):
        frame[col] = frame[col].astype("string")
    return frame.sort_values("id", kind="stable").reset_index(drop=True)


#: What a spreadsheet reads as a formula at the start of a cell (``=cmd|' /c calc'!A0`` runs a program).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(v):
    return "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v


def csv_safe(frame):
    """The frame with every text cell that a spreadsheet would run as a formula
    (an id made from a file name ``=cmd|...``) prefixed with ``'``, which shows
    the text as it is: OWASP's defence against CSV injection. Numbers are left alone."""
    frame = frame.copy()
    for col in frame.columns:
        if not (frame[col].dtype == object or str(frame[col].dtype) == "string"):
            continue
        frame[col] = frame[col].map(_defuse, na_action="ignore")
    frame.columns = [_defuse(str(c)) for c in frame.columns]
    return frame


def write_grades_csv(out: Path, reports=None) -> Path:
    """``OUT/grades.csv`` from every report in OUT, written atomically (temp + rename);
    text that a spreadsheet would run as a formula is defused (:func:`csv_safe`)."""
    out = Path(out)
    frame = csv_safe(grades_frame(out, reports))
    path = out / GRADES_CSV
    _clean_tmp(out, f".{GRADES_CSV}.")
    tmp = out / f".{GRADES_CSV}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        frame.to_csv(tmp, index=False, lineterminator="\n")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


UNIT_INDEX = "index.html"


def unit_frame(out: Path, tasks: list[str]):
    """The unit's gradebook: a row per student, a score column per task (graded
    into OUT/<task>/), their total and the statuses."""
    import pandas as pd

    per_task = {t: {sid: r for sid, r, _ in load_reports(Path(out) / t)} for t in tasks}
    ids = sorted({sid for reports in per_task.values() for sid in reports})
    records = []
    for sid in ids:
        rec = {"id": sid}
        total = maximum = 0.0
        for t in tasks:
            r = per_task[t].get(sid)
            rec[t] = r.score if r is not None else None
            rec[f"{t}_max"] = r.max_score if r is not None else None
            rec[f"{t}_status"] = r.status if r is not None else "missing"
            total += r.score if r is not None else 0.0
            maximum += r.max_score if r is not None else 0.0
        rec.update(score=round(total, 2), max_score=maximum, percent=round(100 * total / maximum, 2) if maximum else 0.0)
        records.append(rec)
    columns = ["id", "score", "max_score", "percent"] + tasks + [f"{t}_max" for t in tasks] + [f"{t}_status" for t in tasks]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for col in ["score", "max_score", "percent"] + tasks + [f"{t}_max" for t in tasks]:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def write_unit(out: Path, tasks: list[tuple[str, object]], lang: str = "en") -> tuple[Path, Path]:
    """OUT/grades.csv (a column per task) and OUT/index.html (the tasks, and each
    student's score in each with a link to the report) for a unit graded task by task."""
    import jinja2

    out = Path(out)
    names = [t for t, _ in tasks]
    frame = unit_frame(out, names)
    path = out / GRADES_CSV
    write_atomic(path, csv_safe(frame).to_csv(index=False, lineterminator="\n"))
    env = jinja2.Environment(loader=jinja2.PackageLoader("grader", "templates"), autoescape=True)
    env.filters["num"] = lambda v: "" if v is None or v != v else f"{round(float(v), 2):g}"
    rows = frame.to_dict("records")
    html = env.get_template("unit_index.html.j2").render(
        title="Unit gradebook", tasks=[{"name": t, "title": a.name, "max": a.max_score} for t, a in tasks],
        rows=rows, lang=lang)
    index = out / UNIT_INDEX
    write_atomic(index, html)
    return path, index


def write_index(out: Path, assignment=None, reports=None, lang: str = "en") -> Path:
    """``OUT/index.html``: the class overview, from every report in OUT (and
    ``OUT/collect.csv`` for the collection failures)."""
    from .render.index import render_index

    out = Path(out)
    reports = load_reports(out) if reports is None else reports
    try:
        collect = read_collect_csv(out / COLLECT_CSV)
    except BatchError:
        collect = None
    _clean_tmp(out, f".{INDEX_HTML}.")
    return write_atomic(out / INDEX_HTML, render_index(reports, assignment=assignment, collect_rows=collect,
                                                       lang=lang))


def _rebuild(out: Path, assignment, lang: str = "en") -> tuple[Path, Path]:
    reports = load_reports(out)
    return write_grades_csv(out, reports), write_index(out, assignment, reports, lang)


# ---------------------------------------------------------------------------
# merging shards
# ---------------------------------------------------------------------------
@dataclass
class MergeResult:
    count: int  # submissions taken from the shard outputs
    grades_csv: Path
    index_html: Path | None = None


def _recorded_sha(folder: Path) -> str:
    key = _read_key(folder) or {}
    if key.get("sha256"):
        return str(key["sha256"])
    try:
        return str(json.loads((folder / "report.json").read_text(encoding="utf-8"))["submission"]["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def _copy_folder(src: Path, dst: Path) -> None:
    """Replace ``dst`` by a copy of ``src`` without ever leaving half a folder at ``dst``."""
    parent = dst.parent
    tmp = parent / f".{dst.name}.merge-{uuid.uuid4().hex[:8]}"
    shutil.copytree(src, tmp)
    trash = None
    try:
        if dst.exists():
            trash = parent / f".{dst.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(dst, trash)
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)


def merge(outs: list[Path], out: Path, lang: str = "en") -> MergeResult:
    """Merge the OUT folders of shard runs into ``out`` and rebuild grades.csv and
    index.html from all the reports.  The same id in two shards with different
    submission contents is a BatchError (they graded different DIRs)."""
    out = Path(out)
    srcs = [Path(o) for o in outs]
    if not srcs:
        raise BatchError("nothing to merge: give the --out folders of the shard runs")
    for s in srcs:
        if not s.is_dir():
            raise BatchError(f"{s} is not a folder of batch results; give the --out folders of the shard runs")
    _check_out(out)
    out_real = out.resolve()
    chosen: dict[str, tuple[Path, str]] = {}  # id -> (source folder, sha)
    for s in srcs:
        for sid, r, problem in load_reports(s):
            folder = s / sid
            sha = _recorded_sha(folder)
            prev = chosen.get(sid)
            if prev is not None:
                if prev[1] != sha:
                    raise BatchError(f"{sid} was graded from different files in {prev[0].parent} and {s} "
                                     f"(sha256 {prev[1][:12] or '?'} vs {sha[:12] or '?'}); merge shards of one "
                                     "DIR only, or regrade it")
                continue
            chosen[sid] = (folder, sha)
    collect_src = next((s / COLLECT_CSV for s in srcs if (s / COLLECT_CSV).is_file()), None)
    for sid, (folder, _) in sorted(chosen.items()):
        if folder.parent.resolve() == out_real:
            continue
        _copy_folder(folder, out / sid)
        gs = folder.parent / GRADESCOPE_DIR / f"{sid}.json"
        if gs.is_file():
            write_atomic(out / GRADESCOPE_DIR / f"{sid}.json", gs.read_bytes())
    if collect_src is not None and collect_src.parent.resolve() != out_real:
        write_atomic(out / COLLECT_CSV, collect_src.read_bytes())
    csv_path, index_path = _rebuild(out, None, lang)
    return MergeResult(len(chosen), csv_path, index_path)
