"""JUnit XML: one ``<testsuite name="grader">``, one ``<testcase>`` per rubric part.

The format follows the structure of the Jenkins/Surefire JUnit schema; the
exact subset emitted here is described by ``grader/schemas/junit.xsd``.

* a part that lost points, or that has an error finding, gets a ``<failure>``
  whose text lists the part's root findings and how many consequences each has;
* when the build failed every part gets an ``<error>`` instead (nothing could
  be checked), or, if the report has no parts, a single ``build`` testcase;
* warnings and notes of a passing part go to that testcase's ``<system-out>``;
* root findings that belong to no part, and the student's stdout/stderr, go to
  the suite's ``<system-out>`` / ``<system-err>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

from grader.render.ci import all_consequences
from grader.report import Finding, Part, Report

__all__ = ["junit_xml", "SCHEMA_FILE"]

#: The XSD describing what :func:`junit_xml` emits (a package resource).
SCHEMA_FILE = "schemas/junit.xsd"

# Characters XML 1.0 cannot carry at all (even escaped).
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_MAX_OUTPUT = 64 * 1024


def _clean(s: object) -> str:
    return _BAD_XML.sub("\ufffd", "" if s is None else str(s))


def _tail(s: str, limit: int = _MAX_OUTPUT) -> str:
    if len(s) <= limit:
        return s
    return f"[... {len(s) - limit} characters cut ...]\n" + s[-limit:]


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    s = f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _finding_line(report: Report, f: Finding) -> str:
    where = f" at {f.location}" if f.location else ""
    src = f" ({f.source.label()})" if f.source else ""
    pts = f" [-{_fmt(f.deduction)} points]" if f.deduction else ""
    message = "\n      ".join(f.message.splitlines() or [""])
    text = f"[{f.severity}] {f.code}{where}{src}: {message}{pts}"
    cons = all_consequences(report, f)
    if cons:
        by_code: dict[str, int] = {}
        for c in cons:
            by_code[c.code] = by_code.get(c.code, 0) + 1
        detail = ", ".join(f"{code} x{n}" for code, n in by_code.items())
        text += f"\n    consequences: {len(cons)} ({detail})"
    return text


def _part_roots(report: Report, part: Part) -> list[Finding]:
    return [f for f in report.roots() if f.part == part.name]


def _foreign_consequences(report: Report, part: Part) -> list[Finding]:
    """Consequences in this part of roots that belong to another part."""
    by_id = {f.id: f for f in report.findings}
    out = []
    for f in report.findings:
        if f.caused_by is None or f.part != part.name:
            continue
        root = by_id.get(f.caused_by)
        # walk up to the root
        seen = set()
        while root is not None and root.caused_by is not None and root.id not in seen:
            seen.add(root.id)
            root = by_id.get(root.caused_by)
        if root is None or root.part != part.name:
            out.append(f)
    return out


def _part_text(report: Report, part: Part, roots: list[Finding]) -> str:
    lines = [f"{part.title or part.name}: {_fmt(part.score)} / {_fmt(part.max_score)} points"]
    if roots:
        lines.append("Root findings:")
        lines += [_finding_line(report, f) for f in roots]
    foreign = _foreign_consequences(report, part)
    if foreign:
        lines.append(f"Consequences here of faults in other parts: {len(foreign)}")
        for c in foreign:
            where = f" at {c.location}" if c.location else ""
            lines.append(f"    {c.code}{where}: {c.message}")
    return "\n".join(lines) + "\n"


def _error_text(report: Report) -> tuple[str, str, str]:
    err = report.error or {}
    etype = str(err.get("type") or "build_error")
    msg = str(err.get("message") or "the model could not be built")
    text = f"{etype}: {msg}"
    src = err.get("source")
    if isinstance(src, dict) and src.get("file"):
        if src.get("cell") is not None:
            text += f"\n  at {src['file']}: cell {src['cell']}, line {src.get('cell_line')}"
        else:
            text += f"\n  at {src['file']}:{src.get('line')}"
    roots = report.roots()
    if roots:
        text += "\n" + "\n".join(_finding_line(report, f) for f in roots)
    first = msg.strip().splitlines()[0] if msg.strip() else msg
    return first, etype, text + "\n"


def _timestamp(s: str) -> str | None:
    if not s:
        return None
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.isoformat(timespec="seconds")


def junit_xml(report: Report) -> str:
    """The report as a JUnit XML document (a string, with XML declaration)."""
    classname = f"grader.{report.submission.id}"
    failed_build = report.status == "failed"
    suite = ET.Element("testsuite", {"name": "grader"})

    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("submission", report.submission.id),
        ("submission.path", report.submission.path),
        ("submission.sha256", report.submission.sha256),
        ("submission.commit", report.submission.commit),
        ("status", report.status),
        ("score", _fmt(report.score)),
        ("max_score", _fmt(report.max_score)),
        ("percent", _fmt(report.percent)),
        ("assignment", report.assignment),
        ("grader_version", report.grader_version),
    ):
        if value not in (None, ""):
            ET.SubElement(props, "property", {"name": name, "value": _clean(value)})

    tests = failures = errors = 0
    cases = list(report.parts)
    if failed_build and not cases:
        cases = [Part(name="build", score=0.0, max_score=0.0, title="build")]
    for part in cases:
        tests += 1
        case = ET.SubElement(
            suite, "testcase", {"classname": _clean(classname), "name": _clean(part.title or part.name)}
        )
        roots = _part_roots(report, part)
        if failed_build:
            errors += 1
            message, etype, text = _error_text(report)
            el = ET.SubElement(case, "error", {"message": _clean(message), "type": _clean(etype)})
            el.text = _clean(text)
            continue
        lost = part.score < part.max_score
        n_err = sum(1 for f in roots if f.severity == "error")
        if lost or n_err:
            failures += 1
            counts = [
                _plural(n, sev)
                for sev in ("error", "warning")
                if (n := sum(1 for f in roots if f.severity == sev))
            ]
            message = f"lost {_fmt(part.max_score - part.score)} of {_fmt(part.max_score)} points"
            if counts:
                message += ": " + ", ".join(counts)
            first = next((f for f in roots if f.severity == "error"), roots[0] if roots else None)
            etype = f"grader.{first.code}" if first else "grader.points"
            el = ET.SubElement(case, "failure", {"message": _clean(message), "type": _clean(etype)})
            el.text = _clean(_part_text(report, part, roots))
        elif roots:
            out = ET.SubElement(case, "system-out")
            out.text = _clean(_part_text(report, part, roots))

    stray = [f for f in report.roots() if f.part not in {p.name for p in report.parts}]
    out_text = ""
    if stray and not failed_build:
        out_text += "Findings outside the rubric parts:\n"
        out_text += "\n".join(_finding_line(report, f) for f in stray) + "\n"
    if report.stdout:
        out_text += ("\n" if out_text else "") + _tail(report.stdout)
    if out_text:
        ET.SubElement(suite, "system-out").text = _clean(out_text)
    if report.stderr:
        ET.SubElement(suite, "system-err").text = _clean(_tail(report.stderr))

    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    suite.set("time", f"{float(report.duration_s or 0.0):.3f}")
    ts = _timestamp(report.graded_at)
    if ts:
        suite.set("timestamp", ts)
    ET.indent(suite)
    body = ET.tostring(suite, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
