"""The rubric: which part each finding belongs to, what it deducts, the score.

Only root findings deduct (a consequence is never a second penalty), except the
parameter total, whose part is about the number itself. The score is never
negative, and a submission with no error-severity finding gets full marks
unless the assignment gives warnings or info a deduction.
"""

from __future__ import annotations

import re

from .assignment import PARTS, Assignment
from .report import Part

FATAL = ("build_error", "timeout", "memory_limit", "no_model")


def part_of(code: str, location: str) -> str:
    if code in FATAL:
        return "layout"
    if location == "total":
        return "params"
    if location == "data":
        return "layout"
    if location.startswith(("conv1", "pool1", "conv2", "pool2")):
        return "stem"
    if location.startswith("inception/"):
        return "inception"
    if re.match(r"^inception_\d\w$", location):
        return "layout"  # a whole block missing or extra
    if location.startswith("inception_"):
        return "blocks"
    if location.startswith(("pool3", "pool4")):
        return "layout"
    if location.startswith(("loss1", "loss2")):
        return "aux"
    if location.startswith(("pool5", "loss3")):
        return "head"
    return "layout"


def deduction(f, assignment: Assignment) -> float:
    if f.code in assignment.code_deductions:
        return assignment.code_deductions[f.code]
    return assignment.deductions.get(f.severity, 0.0)


def score(findings, assignment: Assignment, *, failed: bool) -> tuple[list[Part], list[float]]:
    """(parts, deduction per finding, in the order given)."""
    parts = {name: assignment.parts.get(name, 0.0) for name in PARTS}
    left = dict(parts)
    deds = []
    for f in findings:
        part = part_of(f.code, f.location)
        dd = 0.0
        if f.code == "params" and f.severity == "error":
            dd = left[part]
        elif f.caused_by is None and f.code not in FATAL:
            dd = min(deduction(f, assignment), left[part])
        left[part] -= dd
        deds.append(dd)
    if failed:
        # a model that cannot be built earns nothing; the fatal finding carries it
        for i, f in enumerate(findings):
            if f.code in FATAL:
                deds[i] = round(sum(left.values()), 4)
                break
        left = {k: 0.0 for k in left}
    out = [Part(name, round(max(0.0, left[name]), 4), parts[name], PARTS[name]) for name in PARTS if parts[name] > 0]
    return out, deds
