"""A build that failed: one root for the error, caused by the fault that made
the shapes disagree where there is one; memory exhausted is its own root."""

from __future__ import annotations

import re

from .context import Context
from .messages import M_BUILD, M_OOM
from .rules import SHAPE_CODES
from .text import first_line


def build_failure(ctx: Context):
    """The exception that stopped the build (none after the model was built)."""
    d = ctx.d
    error = ctx.inputs.error
    if not error or error.get("after_model"):
        return
    src = error.get("source")
    src = (src["file"], src["line"]) if src else None
    msg = f"{error.get('type', 'Error')}: {first_line(error.get('message', ''))}"
    roots = sorted([f for f in d.findings if f.caused_by is None and f.severity == "error" and f.code != "training_skipped"],
                   key=lambda f: f.order)
    if error.get("type") in ("ResourceExhaustedError", "MemoryError"):
        d.add("memory_limit", "error", "data", M_OOM, {}, None, first_line(error.get("message", ""))[-160:],
              source=src, order=0.5)
        return
    cause = None
    text = error.get("message", "")
    names = ctx.d.names

    def in_block(f):
        return names.is_function_loc(f.location) or names.block_of(f.location) is not None

    if roots and re.search(r"shape|oncatenat|ncompatible|dimension|rank", text, re.I):
        # a shape error: it follows from the first fault that makes shapes
        # disagree, or else from the latest fault before the place it stopped
        if re.search(r"oncatenat|\badd\b|Add|broadcast", text):
            cause = next((f for f in roots if in_block(f) and f.code in SHAPE_CODES), None)
        cause = cause or next((f for f in reversed(roots) if f.code in SHAPE_CODES), None)
    loc = "data"
    if cause is not None and in_block(cause):
        loc = names.merge_location(cause.location)
    d.add("build_error", "error", loc, M_BUILD, {}, None, msg, source=src, caused_by=cause, order=95)
