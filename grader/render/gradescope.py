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

from .._version import __version__
from grader.dist import CPU_EXTRA, with_cpu_extra
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
#: Where Gradescope unpacks the autograder zip.
SOURCE = "/autograder/source"


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


def _install_lines(python: str, plain: str, with_cpu: str, indent: str = "") -> str:
    """Shell lines that install the grader: with the ``[cpu]`` extra (TensorFlow from
    the index) unless the environment has a TensorFlow already, which the grader uses."""
    return (f'{indent}if {python} -c "import tensorflow" >/dev/null 2>&1; then\n'
            f"{indent}  {python} -m pip install {plain}\n"
            f"{indent}else\n"
            f"{indent}  {python} -m pip install {with_cpu}\n"
            f"{indent}fi\n")


def _specs(grader_install: str | None, wheel: str | None, here: str) -> tuple[str, str]:
    """(without, with the [cpu] extra), shell-quoted: the wheel beside the script,
    or the pip spec ``grader_install``."""
    if (grader_install is None) == (wheel is None):
        raise ValueError("give exactly one of grader_install (a pip spec) and wheel (the grader's wheel file name)")
    if wheel is not None:
        if "/" in wheel or not wheel.endswith(".whl"):
            raise ValueError(f"wheel must be the file name of a .whl beside the scripts, not {wheel!r}")
        return f'"{here}"/{shlex.quote(wheel)}', f'"{here}"/{shlex.quote(wheel + "[" + CPU_EXTRA + "]")}'
    return shlex.quote(grader_install), shlex.quote(with_cpu_extra(grader_install))


def setup_script(grader_install: str | None = None, *, wheel: str | None = None) -> str:
    """Gradescope's ``setup.sh``: install Python and the grader into a venv.

    With ``wheel`` (the file name of the grader's wheel, which the zip carries
    beside this script) the grader comes from the zip and from no package index;
    only TensorFlow (the ``[cpu]`` extra) and the other dependencies come from
    PyPI.  ``grader_install`` (a pip spec) installs that instead.  ``GRADER_VENV``
    overrides the venv's place and ``GRADER_NO_APT=1`` skips the Debian packages
    (for trying the autograder on a machine of one's own).
    """
    plain, cpu = _specs(grader_install, wheel, "$HERE")
    source = "the grader's wheel in this zip" if wheel is not None else "the pip spec given to grader gradescope"
    return f"""#!/usr/bin/env bash
# Gradescope autograder setup, generated by grader {__version__}: runs once when the image is built.
# Installs {source}; TensorFlow from the index unless the image has one.
set -euo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
VENV="${{GRADER_VENV:-{VENV}}}"
if [ "${{GRADER_NO_APT:-0}}" != 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends python3 python3-venv python3-pip git ca-certificates
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
{_install_lines('"$VENV/bin/python"', plain, cpu)}"$VENV/bin/grader" --version
"""


def run_autograder_script(grader_install: str | None = None, *, wheel: str | None = None) -> str:
    """Gradescope's ``run_autograder``: grade ``/autograder/submission`` and write
    ``/autograder/results/results.json``.

    The grader (``wheel`` from ``/autograder/source``, where Gradescope unpacks
    the zip, or the pip spec ``grader_install``) is installed again only if
    ``setup.sh`` did not leave a ``grader`` behind.  Should the grader fail before writing a report, a
    results.json with score 0 and the error output is written instead, so the
    student never sees Gradescope's bare "autograder failed".
    """
    plain, cpu = _specs(grader_install, wheel, SOURCE)
    return f"""#!/usr/bin/env bash
# Gradescope autograder entry point, generated by grader.
set -uo pipefail
export PATH="${{GRADER_VENV:-{VENV}}}/bin:$PATH"
SUBMISSION=/autograder/submission
RESULTS=/autograder/results
WORK="$(mktemp -d)"
mkdir -p "$RESULTS"

if ! command -v grader >/dev/null 2>&1; then
{_install_lines("python3", plain + " || exit 1", cpu + " || exit 1", "  ")}fi

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


def autograder_files(grader_install: str | None = None, *, wheel=None) -> dict[str, str | bytes]:
    """The files of a Gradescope autograder zip: name -> text (or bytes).

    ``wheel`` (a :class:`grader.dist.Wheel`) is carried in the zip and installed
    from there; ``grader_install`` (a pip spec) is installed from the index instead.
    """
    name = wheel.filename if wheel is not None else None
    files: dict[str, str | bytes] = {
        "setup.sh": setup_script(grader_install, wheel=name),
        "run_autograder": run_autograder_script(grader_install, wheel=name),
    }
    if wheel is not None:
        files[wheel.filename] = wheel.data
    return files


def write_autograder_zip(path: Path, grader_install: str | None = None, *, wheel=None) -> Path:
    """Write the autograder zip Gradescope asks for (scripts and the grader's wheel
    at the zip's root)."""
    path = Path(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in autograder_files(grader_install, wheel=wheel).items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            script = isinstance(content, str)
            info.external_attr = ((0o100755 if script else 0o100644) << 16)  # the scripts are executable
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path
