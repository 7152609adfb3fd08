"""The rubric: each part's points are earned by the reference elements the
submission really has, never by the absence of findings.

The diagnosis lists every reference element the rubric credits (a stem layer,
a layer of an inception block, a block, a pool between stages, a layer of an
auxiliary head, a head layer, the parameter total) with whether the
submission has it. For a part p with points P:

    coverage  = sum of the weights of p's elements the submission has
                / sum of the weights of all of p's elements       (1 with none)
    gate      = 1 for the body parts (stem, inception, blocks, layout); for the
                parts that only mean something on top of the body (aux, head,
                params): the body's coverage, sum(P_q * coverage_q) / sum(P_q)
                over the body parts q
    credit    = P * gate * coverage
    deducted  = the deductions of p's root findings ([deductions] of the
                assignment file: per severity, or per code); a root finding that
                says an element is missing costs only what its deduction exceeds
                the credit the missing element loses (so a missing element
                costs at least as much as a wrong one, and its credit is never
                lost twice)
    score     = max(0, credit - deducted)

Only root findings deduct: a consequence never costs twice. The parameter
total's part is about the number itself: it is lost when the total differs
from the reference's beyond allowed substitutions. A model that cannot be
built scores 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .report import FATAL, Part
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: loading an assignment can trace a solution through this module
    from .assignment import Assignment

#: Codes that say an element is not there at all.
MISSING_CODES = ("layer_missing", "branch_missing", "aux_missing")
#: Findings that are by nature consequences of a fault elsewhere: they never
#: make the element they are at count as wrong.
NOT_A_FAULT_OF_ITS_OWN = ("output_shape", "params", "build_error")


M_SUMMARY = "{present} of {total} {unit} present, {correct} correct"
M_SUMMARY_GROUPED = "{groups_present} of {groups} {group_unit} present; {present} of {total} {unit}, {correct} correct"
M_SUMMARY_PARAMS_OK = "the total matches the reference"
M_SUMMARY_PARAMS_BAD = "the total differs from the reference"
M_SUMMARY_PARAMS_NONE = "no complete model to count"
M_GATE = "scaled by the {gate} of the network's body that is there"
M_DEDUCTED = "{deducted} points taken by {count} root finding(s)"


@dataclass(frozen=True)
class Element:
    """One reference element a part credits."""

    part: str
    location: str  # e.g. conv1/7x7_s2, inception_3a/5x5, inception_3a, loss1/conv, total
    kind: str  # what [weights.<part>] weighs it by: conv, pool, norm, 5x5, output, block, ...
    present: bool
    group: str = ""  # the block or head it belongs to (for the summary)
    role: str = ""  # for a layer of a block: its role in the block (5x5, 1_conv, add)
    block_kind: str = ""  # for a block or a layer of one: the block's kind (inception, identity_block)


def deduction(f, assignment: Assignment) -> float:
    if f.code in assignment.code_deductions:
        return assignment.code_deductions[f.code]
    return assignment.deductions.get(f.severity, 0.0)


def _root(f):
    seen = 0
    while f.caused_by is not None and seen < 1000:
        f, seen = f.caused_by, seen + 1
    return f


def _at(e: Element, location: str, inside: dict) -> bool:
    """Whether a finding at ``location`` is about element ``e``: the element
    itself, a layer inside it (a block: ``inside`` maps a layer's location to
    its block's), or the same role made by the student's block function in
    every block of its kind (``inception/5x5`` is about ``inception_3a/5x5``)."""
    if location == e.location or (e.kind == "block" and inside.get(location) == e.location):
        return True
    if e.group and location == e.group:
        return True
    head, _, role = location.partition("/")
    return bool(e.role) and head == e.block_kind and role == e.role


def _is_missing(f) -> bool:
    return f.code in MISSING_CODES or (f.code == "norm_type" and f.actual == "none")


def score(findings, elements, assignment: Assignment, *, failed: bool, part_of) -> tuple[list[Part], list[float]]:
    """(parts, the points each finding cost, in the order given); ``part_of``
    maps a finding's (code, location) to its part (the diagnosis' PartMap)."""
    specs = {p.name: p for p in assignment.arch.parts}
    PARTS = list(specs)
    points = {name: assignment.parts.get(name, 0.0) for name in PARTS}
    inside = {e.location: e.group for e in elements if e.group}
    weights = assignment.weights
    by_part: dict = {name: [e for e in elements if e.part == name] for name in PARTS}

    def kind_weight(e):
        return float(weights.get(e.part, {}).get(e.kind, 1.0))

    # in a part whose elements come in groups (the layers of each block, of each
    # head) every group weighs the same, however many layers it has: k of n
    # blocks are k/n of the part (a projection block has a layer more than an
    # identity block)
    group_total: dict = {}
    for e in elements:
        if e.group:
            group_total[(e.part, e.group)] = group_total.get((e.part, e.group), 0.0) + kind_weight(e)

    def w(e):
        if e.group and group_total.get((e.part, e.group)):
            return kind_weight(e) / group_total[(e.part, e.group)]
        return kind_weight(e)

    part_total = {name: sum(w(e) for e in es) for name, es in by_part.items()}
    coverage = {name: sum(w(e) for e in es if e.present) / part_total[name] if part_total[name] > 0 else 1.0
                for name, es in by_part.items()}
    body = [n for n in PARTS if n not in assignment.dependent_parts]
    body_points = sum(points[n] for n in body)
    body_cov = sum(points[n] * coverage[n] for n in body) / body_points if body_points > 0 else 1.0
    gate = {n: (body_cov if n in assignment.dependent_parts else 1.0) for n in PARTS}
    credit = {n: points[n] * gate[n] * coverage[n] for n in PARTS}

    def elem_credit(e):
        total = part_total[e.part]
        return points[e.part] * gate[e.part] * w(e) / total if total > 0 else 0.0

    parts_of = [part_of(f.code, f.location) for f in findings]
    deds, taken = [], {n: 0.0 for n in PARTS}
    params_lost = False
    for f, part in zip(findings, parts_of):
        dd = 0.0
        if f.code == "params" and f.severity == "error":
            # the part is about the number itself: lost once, root or consequence
            dd = 0.0 if params_lost else credit["params"]
            params_lost = True
        elif f.caused_by is None and f.code not in FATAL:
            dd = deduction(f, assignment)
            if _is_missing(f):
                lost = sum(elem_credit(e) for e in elements if not e.present and _at(e, f.location, inside))
                taken[part] += max(0.0, dd - lost)
                deds.append(round(max(dd, lost), 4))
                continue
        taken[part] += dd
        deds.append(round(dd, 4))
    if failed:
        # a model that cannot be built earns nothing; the fatal finding carries it
        for i, f in enumerate(findings):
            if f.code in FATAL:
                deds[i] = round(sum(points.values()), 4)
                break
    wrong = _wrong(findings, elements, parts_of, inside)
    out = []
    for name in PARTS:
        if points[name] <= 0:
            continue
        es = by_part[name]
        got = 0.0 if failed else max(0.0, credit[name] - taken[name])
        out.append(_part(specs[name], es, wrong, points[name], _floor(got), coverage[name], gate[name], credit[name],
                         min(taken[name], credit[name]), failed,
                         sum(1 for f, p in zip(findings, parts_of) if p == name and f.caused_by is None
                             and f.code not in FATAL and deduction(f, assignment) > 0),
                         params_lost, assignment.titles("en").get(name)))
    return out, deds


def _wrong(findings, elements, parts_of, inside) -> set:
    """Locations of the elements that are there but have a fault of their own
    part (the summary's "correct" counts the others)."""
    part_by_id = {id(f): p for f, p in zip(findings, parts_of)}
    out = set()
    # a fault of this element: a root of its part, or the same fault repeated
    # here by a root elsewhere (a helper's missing ReLU), never a shape that a
    # fault upstream changed
    faulty = [(f, part_by_id.get(id(_root(f))), _root(f).code == f.code) for f in findings
              if f.severity == "error" and f.code not in NOT_A_FAULT_OF_ITS_OWN and f.code not in FATAL]
    for e in elements:
        if not e.present:
            continue
        for f, root_part, repeated in faulty:
            if (root_part == e.part or repeated) and _at(e, f.location, inside):
                out.add((e.part, e.location))
                break
    return out


def _floor(x: float) -> float:
    """Two decimals, never rounded up: a part never shows more than it earned."""
    return math.floor(x * 100 + 1e-6) / 100


def _num(x: float) -> str:
    return f"{round(x, 1):g}"


def _part(spec, es, wrong, points, got, coverage, gate, credit, deducted, failed, n_roots, params_lost,
          title=None) -> Part:
    name, unit, group_unit = spec.name, spec.unit, spec.group_unit
    present = [e for e in es if e.present]
    correct = [e for e in present if (e.part, e.location) not in wrong]
    args = {"present": len(present), "total": len(es), "correct": len(correct), "unit": unit}
    if spec.role == "params":
        tmpl = (M_SUMMARY_PARAMS_NONE if not present else M_SUMMARY_PARAMS_BAD if params_lost else M_SUMMARY_PARAMS_OK)
    elif group_unit:
        groups = list(dict.fromkeys(e.group for e in es))
        groups_present = [g for g in groups if any(e.present for e in es if e.group == g)]
        args.update(groups=len(groups), groups_present=len(groups_present), group_unit=group_unit)
        tmpl = M_SUMMARY_GROUPED
    else:
        tmpl = M_SUMMARY
    extra = []
    if gate < 1.0 and not failed:
        args["gate"] = f"{round(100 * gate)}%"
        extra.append(M_GATE)
    if deducted > 0 and not failed and spec.role != "params":
        args.update(deducted=_num(deducted), count=n_roots)
        extra.append(M_DEDUCTED)
    summary = "; ".join([tmpl.format(**args)] + [t.format(**args) for t in extra])
    # what is missing: a block whose layers are all missing is named once
    missing, seen_groups = [], set()
    for e in es:
        if e.present:
            continue
        if e.group and not any(x.present for x in es if x.group == e.group):
            if e.group not in seen_groups:
                seen_groups.add(e.group)
                missing.append(e.group)
            continue
        missing.append(e.location)
    return Part(name, got, points, title or spec.title, unit=unit, total=len(es), present=len(present),
                correct=len(correct), coverage=round(coverage, 4), gate=round(gate, 4), credit=round(credit, 4),
                deducted=round(deducted, 4), summary=summary, template=tmpl, extra_templates=extra, args=args,
                missing=missing[:60], wrong=sorted(loc for p, loc in wrong if p == name)[:60])


def zero_parts(assignment: Assignment) -> list[Part]:
    """Every part at 0, for a report the grader could not make (nothing was diagnosed)."""
    return [Part(ps.name, 0.0, assignment.parts.get(ps.name, 0.0), ps.title, unit=ps.unit, coverage=0.0,
                 summary="not graded")
            for ps in assignment.arch.parts if assignment.parts.get(ps.name, 0.0) > 0]
