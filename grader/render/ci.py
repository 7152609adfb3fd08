"""CI renderers: GitHub Actions annotations and step summary, GitLab Code Quality.

Only ROOT findings (``caused_by is None``) are reported here: a root finding is
what the student has to fix, its consequences disappear with it.  The number of
consequences is mentioned beside each root.

Paths in a report are relative to the submission folder; CI systems want them
relative to the repository root, so the functions that emit paths take both
roots and convert.  Nothing here prints: every function returns data.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from grader.report import FATAL, Finding, Report, Source

__all__ = [
    "all_consequences",
    "ci_provider",
    "github_annotations",
    "github_run_url",
    "github_step_summary",
    "gitlab_codequality",
    "gitlab_codequality_json",
    "repo_path",
]

_GITHUB_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}
_GITLAB_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


# -- shared helpers ------------------------------------------------------------
def ci_provider(environ: Mapping[str, str] | None = None) -> str | None:
    """``"github"``, ``"gitlab"`` or ``None``, from the CI's environment variables."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    return None


def github_run_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The URL of the current GitHub Actions run (its page lists the artifacts),
    for :func:`github_step_summary`'s ``report_link``; ``None`` outside Actions."""
    env = os.environ if environ is None else environ
    server, repo, run = (env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if not (server and repo and run):
        return None
    return f"{server.rstrip('/')}/{repo}/actions/runs/{run}#artifacts"


def _fmt(x: float | None) -> str:
    """A score without float noise: 12.0 -> '12', 12.5 -> '12.5'."""
    if x is None:
        return "-"
    s = f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _as_source(src) -> Source | None:
    """A Source from a Source, a dict (as in ``report.error["source"]``) or None."""
    if src is None or isinstance(src, Source):
        return src
    if isinstance(src, Mapping) and src.get("file"):
        return Source(
            file=str(src["file"]),
            line=int(src.get("line") or 1),
            cell=src.get("cell"),
            cell_line=src.get("cell_line"),
        )
    return None


def _abs(p: Path) -> Path:
    return Path(os.path.abspath(os.fspath(p)))


def repo_path(file: str, *, repo_root: Path, submission_root: Path) -> str | None:
    """``file`` (relative to the submission) as a POSIX path relative to the repo.

    ``submission_root`` may be absolute or relative to ``repo_root``.  Returns
    ``None`` when the file lies outside the repository (CI can't point there).
    """
    repo = _abs(Path(repo_root))
    sub = Path(submission_root)
    if not sub.is_absolute():
        sub = repo / sub
    full = _abs(sub / file)
    try:
        rel = full.relative_to(repo)
    except ValueError:
        # Symlinked temp dirs (/tmp -> /private/tmp) etc.: compare resolved paths.
        try:
            rel = full.resolve().relative_to(repo.resolve())
        except ValueError:
            return None
    return PurePosixPath(*rel.parts).as_posix() if rel.parts else "."


def _error_finding(report: Report) -> Finding | None:
    """A synthetic root for a failed build that has no finding of its own."""
    if report.status != "failed" or not report.error:
        return None
    if any(f.code in FATAL for f in report.roots()):
        return None
    err = report.error
    kind = err.get("type") or "build_error"
    msg = err.get("message") or "the model could not be built"
    return Finding(
        id="__build__",
        code="build_error",
        severity="error",
        location="",
        message=f"{kind}: {msg}" if kind not in msg else msg,
        source=_as_source(err.get("source")),
    )


def _roots(report: Report) -> list[Finding]:
    roots = report.roots()
    extra = _error_finding(report)
    return roots + [extra] if extra is not None else roots


def all_consequences(report: Report, finding: Finding) -> list[Finding]:
    """Every finding caused by ``finding``, directly or through other consequences."""
    children: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.caused_by is not None:
            children.setdefault(f.caused_by, []).append(f)
    out: list[Finding] = []
    seen = {finding.id}
    stack = list(reversed(children.get(finding.id, [])))
    while stack:
        f = stack.pop()
        if f.id in seen:
            continue
        seen.add(f.id)
        out.append(f)
        stack.extend(reversed(children.get(f.id, [])))
    return out


def _followons(report: Report, f: Finding) -> int:
    return len(all_consequences(report, f))


def _followon_text(n: int) -> str:
    if not n:
        return ""
    return f" ({n} follow-on finding{'s' if n != 1 else ''})"


# -- GitHub --------------------------------------------------------------------
def _esc_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _esc_prop(s: str) -> str:
    return _esc_data(s).replace(":", "%3A").replace(",", "%2C")


def _title(f: Finding) -> str:
    return f"{f.code} at {f.location}" if f.location else f.code


def github_annotations(report: Report, *, repo_root: Path, submission_root: Path) -> list[str]:
    """One GitHub Actions workflow command per root finding.

    ``::error file=PATH,line=N,title=CODE at LOCATION::message`` (``::warning``
    for warnings, ``::notice`` for info).  Notebook findings point at line 1 of
    the notebook and say "cell N, line M" in the message; findings without a
    source carry no file/line.
    """
    lines = []
    for f in _roots(report):
        props: list[tuple[str, str]] = []
        message = f.message
        src = f.source
        if src is not None:
            path = repo_path(src.file, repo_root=repo_root, submission_root=submission_root)
            if src.cell is not None:
                where = f"cell {src.cell}, line {src.cell_line}"
                line = 1
            else:
                where = None
                line = src.line
            if path is None:
                # Outside the repository: no file property, say where in the text.
                message = f"{src.label()}: {message}"
            else:
                props += [("file", path), ("line", str(max(int(line or 1), 1)))]
                if where:
                    message = f"{where}: {message}"
        props.append(("title", _title(f)))
        message += _followon_text(_followons(report, f))
        cmd = _GITHUB_COMMAND.get(f.severity, "notice")
        prop_text = ",".join(f"{k}={_esc_prop(v)}" for k, v in props)
        lines.append(f"::{cmd} {prop_text}::{_esc_data(message)}")
    return lines


def _md_cell(s: str) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("|", "\\|").replace("\r\n", "\n").replace("\r", "\n")
    return s.replace("\n", "<br>")


def _md_code(s: str) -> str:
    if not s:
        return ""
    if "`" in s or "|" in s or "\n" in s:
        return _md_cell(s)
    return f"`{s}`"


_SEVERITY_ICON = {"error": "\u274c error", "warning": "\u26a0\ufe0f warning", "info": "\u2139\ufe0f info"}


def github_step_summary(report: Report, *, report_link: str | None) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: score, per-part table, root findings."""
    sub = report.submission
    out = [f"## Grader: {_md_cell(sub.id)}", ""]
    status = "graded" if report.status == "graded" else f"**{_md_cell(report.status)}**"
    out.append(
        f"**Score: {_fmt(report.score)} / {_fmt(report.max_score)}** "
        f"({_fmt(report.percent)}%) \u2014 {status}"
    )
    counts = ", ".join(
        f"{report.count(s)} {s}{'s' if report.count(s) != 1 and s != 'info' else ''}"
        for s in ("error", "warning", "info")
    )
    out += ["", f"Root findings: {counts}."]
    if report.status == "failed" and report.error:
        err = report.error
        msg = f"{err.get('type') or 'error'}: {err.get('message') or ''}".strip()
        src = _as_source(err.get("source"))
        loc = f" ({_md_cell(src.label())})" if src else ""
        out += ["", f"> **The model could not be built{loc}:** {_md_cell(msg)}"]

    if report.parts:
        out += ["", "### Score per part", "", "| Part | Score | Max | | How it was earned |",
                "| --- | ---: | ---: | --- | --- |"]
        for p in report.parts:
            ok = "\u2705" if p.score >= p.max_score else "\u274c"
            name = p.title or p.name
            out.append(f"| {_md_cell(name)} | {_fmt(p.score)} | {_fmt(p.max_score)} | {ok} | {_md_cell(p.summary)} |")
        out.append(f"| **Total** | **{_fmt(report.score)}** | **{_fmt(report.max_score)}** | | |")

    roots = report.roots()
    out += ["", "### Findings", ""]
    if not roots:
        out.append("No findings.")
    else:
        out += [
            "| Severity | Code | Location | Source | Message | Points | Follow-on |",
            "| --- | --- | --- | --- | --- | ---: | ---: |",
        ]
        for f in roots:
            src = _md_cell(f.source.label()) if f.source else ""
            pts = f"\u2212{_fmt(f.deduction)}" if f.deduction else ""
            out.append(
                f"| {_SEVERITY_ICON.get(f.severity, _md_cell(f.severity))} | {_md_code(f.code)} "
                f"| {_md_code(f.location)} | {src} | {_md_cell(f.message)} | {pts} "
                f"| {_followons(report, f) or ''} |"
            )
    if report_link:
        link = report_link.replace(")", "%29").replace(" ", "%20")
        out += ["", f"[Full report]({link})"]
    if report.grader_version:
        out += ["", f"<sub>grader {_md_cell(report.grader_version)}</sub>"]
    return "\n".join(out) + "\n"


# -- GitLab --------------------------------------------------------------------
def _fallback_path(report: Report, repo_root: Path, submission_root: Path) -> str:
    """Where a finding without a source points in GitLab (which needs a path)."""
    entry = report.submission.entry
    if entry:
        p = repo_path(entry, repo_root=repo_root, submission_root=submission_root)
        if p:
            return p
    p = repo_path(".", repo_root=repo_root, submission_root=submission_root)
    return p or "."


def gitlab_codequality(report: Report, *, repo_root: Path, submission_root: Path) -> list[dict]:
    """GitLab Code Quality report entries (``gl-code-quality-report.json``), one per root.

    Severity: errors that stop grading (build error, timeout, ...) are
    ``critical``, other errors ``major``, warnings ``minor``, info ``info``.
    The fingerprint is a SHA-256 of code, location and path, so the same fault
    keeps its fingerprint between pipelines (GitLab compares them across MRs).
    """
    entries = []
    seen: dict[str, int] = {}
    for f in _roots(report):
        src = f.source
        path = None
        line = 1
        if src is not None:
            path = repo_path(src.file, repo_root=repo_root, submission_root=submission_root)
            if path is not None and src.cell is None:
                line = max(int(src.line or 1), 1)
        if path is None:
            path = _fallback_path(report, repo_root, submission_root)
        description = f"{_title(f)}: {f.message}"
        if src is not None and src.cell is not None:
            description = f"{_title(f)} (cell {src.cell}, line {src.cell_line}): {f.message}"
        description += _followon_text(_followons(report, f))
        key = "\x1f".join((f.code, f.location, path))
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n:  # the same code at the same place twice: keep fingerprints unique
            key += f"\x1f{n}"
        if f.severity == "error":
            severity = "critical" if f.code in FATAL else "major"  # nothing could be graded
        else:
            severity = _GITLAB_SEVERITY.get(f.severity, "info")
        entries.append(
            {
                "description": description,
                "check_name": f.code,
                "fingerprint": hashlib.sha256(key.encode("utf-8")).hexdigest(),
                "severity": severity,
                "location": {"path": path, "lines": {"begin": line}},
            }
        )
    return entries


def gitlab_codequality_json(report: Report, *, repo_root: Path, submission_root: Path) -> str:
    """:func:`gitlab_codequality` as the JSON text GitLab reads."""
    data = gitlab_codequality(report, repo_root=repo_root, submission_root=submission_root)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
