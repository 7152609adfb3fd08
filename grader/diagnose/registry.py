"""The passes of the diagnosis, in the order they run.

Each pass is a function over the Context (or, for the notes, over the
Diagnoser: they run even when nothing was built). The order matters twice:

- findings are numbered (F1, F2, ...) and, for equal ``order``, listed in the
  order they are added, so moving a pass changes the report;
- later passes read what earlier ones made: the spine and block passes explain
  faults by the probes' function-level roots; the structural roots
  (merge_missing, truncation, missing_groups, block_counts) re-parent the
  missing and extra findings the spine made; derived and counted_from re-parent filter counts
  before helper_roots merges the remaining roots line by line; the build
  failure, the consequences (output shapes) and the parameter total look for
  their cause among the roots that are left; the rows and the rubric's
  elements read the matches every pass before them recorded.

To change what the diagnosis says about one family of findings, change its
module; to add a family, add its pass here where its inputs are ready.
"""

from __future__ import annotations

from . import blocks, consequences, counts, failure, heads, notes, params, probes, rows, spine
from .context import Context, Diagnoser

#: Over the Diagnoser and the child's notes, before anything is compared.
NOTE_PASSES = (
    notes.training_skipped,
    notes.tolerance_notes,
)

#: Over the Context, after the spines are aligned.
PASSES = (
    spine.input_shape,
    probes.run_probes,  # function-level roots first: the passes below explain by them
    spine.compare_spine,
    blocks.compare_blocks,
    heads.aux_heads,
    blocks.merge_missing,
    spine.truncation,
    blocks.missing_groups,
    counts.block_counts,  # before helper_roots: the extra blocks of each stage are still apart
    consequences.derived,
    probes.counted_from,
    probes.returned_follows,
    consequences.helper_roots,
    failure.build_failure,
    consequences.consequences,
    params.params,
    rows.rows,
    rows.elements,
)

#: What is left to do when nothing was built: every element is missing.
NOTHING_BUILT_PASSES = (
    rows.elements,
)


def run_notes(d: Diagnoser, child_notes):
    for note_pass in NOTE_PASSES:
        note_pass(d, child_notes)


def run(ctx: Context):
    ctx.align()
    for diagnosis_pass in PASSES:
        diagnosis_pass(ctx)


def run_nothing_built(ctx: Context):
    for diagnosis_pass in NOTHING_BUILT_PASSES:
        diagnosis_pass(ctx)
