"""Diagnosis: compare a student's canonical graph with the reference's and say
each real mistake once, at its place in the network and at the student's line.

The first divergence is the root; what it causes downstream (shapes, parameter
counts, the same fault repeated in nine blocks by one inception function) is
linked to it with ``caused_by``, never reported as a new error.

The work is done in passes, one module per family of findings, run in the
order registry.py lists; context.py holds what they share, messages.py the
message templates, rules.py how two layers compare.
"""

from __future__ import annotations

from ..align import structure
from ..graph import Graph, Node
from . import registry
from .context import Context, Diagnoser, Diagnosis, F, Inputs
from .messages import *  # noqa: F401,F403  (every M_* template is part of the API: check.py, the catalog test)
from .naming import Naming, PartMap
from .rules import SHAPE_CODES, compare, is_typo, padding_matters
from .text import first_line, where
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: loading an assignment can trace a solution through this module
    from ..assignment import Assignment

__all__ = ["Diagnosis", "F", "Naming", "PartMap", "SHAPE_CODES", "compare", "diagnose", "first_line", "is_typo",
           "padding_matters", "where"]


def diagnose(student: Graph | None, ref: Graph, assignment: Assignment, *, probes=(), error: dict | None = None,
             status: str = "ok", notes=(), source_of=None, function_of=None, returned=None,
             returned_source=None) -> Diagnosis:
    """All findings for one traced submission, and the reference elements it has.

    ``probes``: (probe, graph) of each block function the child called alone;
    ``returned``: the numbers a block-function task's function returned."""
    d = Diagnoser(ref, assignment, source_of or (lambda s: None), function_of)
    ref_total = ref.total_params()
    registry.run_notes(d, notes or ())
    if student is None or not student.nodes:
        # nothing was built (or the trace was rejected): every element is missing
        empty = Graph({"in0": Node("in0", "input", name="data")}, ["in0"], [], partial=True)
        ctx = Context(d, structure(empty))
        registry.run_nothing_built(ctx)
        return Diagnosis(d.findings, [], [], None, None, ref_total, ctx.elements, d.parts)
    S = d.arch.adjust_structure(structure(student, d.arch.merge_ops))
    ctx = Context(d, S, Inputs(tuple(probes), error, status, returned, returned_source))
    registry.run(ctx)
    return Diagnosis(d.findings, ctx.layer_rows, ctx.block_rows, ctx.probe_row, ctx.total, ref_total, ctx.elements,
                     d.parts)
