"""Gradescope: ``results.json`` from a report, and the autograder's scripts.

Gradescope's autograder runs ``/autograder/run_autograder`` with the student's
files in ``/autograder/submission`` and reads ``/autograder/results/results.json``:
``{"score", "output", "tests": [{"name", "score", "max_score", "output",
"visibility", ...}], "visibility", "stdout_visibility", ...}``.  ``setup.sh``
runs once when the autograder image is built.
"""

from __future__ import annotations

import io
import shlex
import zipfile
from pathlib import Path

from grader.render.ci import all_consequences
from grader.report import Finding, Part, Report

__all__ = [
    "VISIBILITIES",
    "autograder_files",
    "gradescope_results",
    "run_autograder_script",
    "setup_script",
    "write_autograder_zip",
]

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")

#: Where setup.sh puts the grader (a venv: newer Ubuntu images refuse a system pip install).
VENV = "/opt/grader-venv"


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    s = f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _num(x: float) -> float | int:
    """JSON number without float noise (2.0 -> 2, 2.5 -> 2.5)."""
    x = round(float(x), 4)
    return int(x) if x.is_integer() else x


def _finding_line(report: Report, f: Finding) -> str:
    where = f" at {f.location}" if f.location else ""
    src = f" ({f.source.label()})" if f.source else ""
    pts = f" [-{_fmt(f.deduction)}]" if f.deduction else ""
    line = f"- {f.severity.upper()} {f.code}{where}{src}: {f.message}{pts}"
    n = len(all_consequences(report, f))
    if n:
        line += f"\n  ({n} follow-on finding{'s' if n != 1 else ''} caused by this one)"
    return line


def _build_error(report: Report) -> str | None:
    if report.status != "failed":
        return None
    err = report.error or {}
    text = f"{err.get('type') or 'Error'}: {err.get('message') or 'the model could not be built'}"
    src = err.get("source")
    if isinstance(src, dict) and src.get("file"):
        if src.get("cell") is not None:
            text += f" ({src['file']}: cell {src['cell']}, line {src.get('cell_line')})"
        else:
            text += f" ({src['file']}:{src.get('line')})"
    return "The model could not be built, so nothing could be checked.\n" + text


def _root_of(by_id: dict, f: Finding) -> Finding | None:
    seen = set()
    while f is not None and f.caused_by is not None and f.id not in seen:
        seen.add(f.id)
        f = by_id.get(f.caused_by)
    return f


def _foreign_consequences(report: Report, part: Part) -> list[Finding]:
    """Consequences in this part of faults whose root is in another part."""
    by_id = {f.id: f for f in report.findings}
    out = []
    for f in report.findings:
        if f.caused_by is None or f.part != part.name:
            continue
        root = _root_of(by_id, f)
        if root is None or root.part != part.name:
            out.append(f)
    return out


def _test_output(report: Report, part: Part) -> str:
    roots = [f for f in report.roots() if f.part == part.name]
    foreign = _foreign_consequences(report, part)
    lines = [f"{_fmt(part.score)} / {_fmt(part.max_score)} points" + (f": {part.summary}" if part.summary else "")]
    if part.missing:
        lines.append("Missing: " + ", ".join(part.missing))
    err = _build_error(report)
    if err:
        lines.append(err)
    lines += [_finding_line(report, f) for f in roots]
    if foreign:
        lines.append(f"Follow-on findings here of faults in other parts ({len(foreign)}):")
        for f in foreign:
            where = f" at {f.location}" if f.location else ""
            lines.append(f"- {f.code}{where}: {f.message}")
    if not roots and not foreign and not err and part.score >= part.max_score:
        lines.append("All checks passed.")
    return "\n".join(lines)


def gradescope_results(
    report: Report,
    *,
    visibility: str = "visible",
    stdout_visibility: str = "hidden",
    test_visibility: str = "visible",
) -> dict:
    """The report as Gradescope's ``results.json`` (a dict ready for ``json.dump``).

    One test per rubric part; their scores add up to the top-level ``score``.
    """
    for v in (visibility, stdout_visibility, test_visibility):
        if v not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {v!r}")
    tests = []
    for i, part in enumerate(report.parts, 1):
        tests.append(
            {
                "name": part.title or part.name,
                "number": str(i),
                "score": _num(part.score),
                "max_score": _num(part.max_score),
                "status": "passed" if part.score >= part.max_score else "failed",
                "output": _test_output(report, part),
                "visibility": test_visibility,
            }
        )
    head = [f"Score: {_fmt(report.score)} / {_fmt(report.max_score)} ({_fmt(report.percent)}%)"]
    counts = [(report.count(s), s) for s in ("error", "warning", "info")]
    head.append("Findings to fix: " + ", ".join(f"{n} {s}" for n, s in counts))
    err = _build_error(report)
    if err:
        head += ["", err]
    part_names = {p.name for p in report.parts}
    stray = [f for f in report.roots() if f.part not in part_names]
    if stray:
        head += ["", "Other findings:"] + [_finding_line(report, f) for f in stray]
    results: dict = {
        "score": _num(report.score),
        "output": "\n".join(head),
        "visibility": visibility,
        "stdout_visibility": stdout_visibility,
        "tests": tests,
    }
    if report.duration_s is not None:
        results["execution_time"] = int(round(report.duration_s))
    results["extra_data"] = {
        "submission": report.submission.id,
        "sha256": report.submission.sha256,
        "status": report.status,
        "max_score": _num(report.max_score),
        "grader_version": report.grader_version,
    }
    return results


def setup_script(grader_install: str) -> str:
    """Gradescope's ``setup.sh``: install Python and the grader into a venv."""
    spec = shlex.quote(grader_install)
    return f"""#!/usr/bin/env bash
# Gradescope autograder setup, generated by grader: runs once when the image is built.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip git ca-certificates
python3 -m venv {VENV}
{VENV}/bin/python -m pip install --upgrade pip
{VENV}/bin/python -m pip install {spec}
{VENV}/bin/python -c "import grader"
"""


def run_autograder_script(grader_install: str) -> str:
    """Gradescope's ``run_autograder``: grade ``/autograder/submission`` and write
    ``/autograder/results/results.json``.

    ``grader_install`` is installed again only if ``setup.sh`` did not leave a
    ``grader`` behind.  Should the grader fail before writing a report, a
    results.json with score 0 and the error output is written instead, so the
    student never sees Gradescope's bare "autograder failed".
    """
    spec = shlex.quote(grader_install)
    return f"""#!/usr/bin/env bash
# Gradescope autograder entry point, generated by grader.
set -uo pipefail
export PATH="{VENV}/bin:$PATH"
SUBMISSION=/autograder/submission
RESULTS=/autograder/results
WORK="$(mktemp -d)"
mkdir -p "$RESULTS"

if ! command -v grader >/dev/null 2>&1; then
  python3 -m pip install {spec} || exit 1
fi

# grader check exits non-zero when points are lost: that is not a failure here.
grader check "$SUBMISSION" --json "$WORK/report.json" >"$WORK/check.log" 2>&1
status=$?
cat "$WORK/check.log"

if [ -s "$WORK/report.json" ] && grader gradescope-results "$WORK/report.json" "$RESULTS/results.json"; then
  exit 0
fi

# No report: tell the student what happened instead of a blank failure.
python3 - "$status" "$WORK/check.log" "$RESULTS/results.json" <<'PY'
import json, sys
status, log, out = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    with open(log, encoding="utf-8", errors="replace") as fh:
        text = fh.read()[-20000:]
except OSError:
    text = ""
with open(out, "w", encoding="utf-8") as fh:
    json.dump({{
        "score": 0,
        "output": "The grader could not grade this submission (exit status " + status + ").\\n\\n" + text,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }}, fh)
PY
"""


def autograder_files(grader_install: str) -> dict[str, str]:
    """The files of a Gradescope autograder zip: name -> text."""
    return {
        "setup.sh": setup_script(grader_install),
        "run_autograder": run_autograder_script(grader_install),
    }


def write_autograder_zip(path: Path, grader_install: str) -> Path:
    """Write the autograder zip Gradescope asks for (scripts at the zip's root)."""
    path = Path(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in autograder_files(grader_install).items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 << 16)  # executable regular file
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path
