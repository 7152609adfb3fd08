"""How many blocks each stage has: the blocks missing from a stage and the
extra ones after it, when more than one, are one mistake, the counts the
student gave (a tuple like ``(6, 12, 32, 32)``, a loop bound), with one root
at the line that sets them and a message that counts every extra or missing
block in every stage it affects."""

from __future__ import annotations

import re

from ..align import Block
from .context import Context
from .messages import M_BLOCK_COUNTS, M_BLOCK_COUNTS_LINE, M_STOPS

_INT = re.compile(r"(?<![\w.])\d+(?![\w.])")


def _stage(loc: str):
    """The stage a block location is in (conv4 of conv4_block24); None where the
    architecture's blocks are not numbered within stages (GoogLeNet's inception_4d)."""
    return loc.rsplit("_block", 1)[0] if "_block" in loc else None


def block_counts(ctx: Context):
    d, names = ctx.d, ctx.d.names
    stages: dict = {}
    for b in ctx.R.blocks:
        st = _stage(names.bloc(b))
        if st is None:
            return
        stages.setdefault(st, []).append(names.bloc(b))
    block_locs = {loc for locs in stages.values() for loc in locs}
    missing, extra = {}, {}
    members = []
    for f in d.findings:
        if f.caused_by is None and f.template == M_STOPS:
            # the last blocks of the last stage gone: that stage's count, not a network that stops
            gone = [g for g in d.findings if g.caused_by is f]
            if gone and all(g.location in block_locs and _stage(g.location) == _stage(gone[0].location) for g in gone):
                missing.setdefault(_stage(gone[0].location), []).extend(g.location for g in gone)
                members.append(f)
            continue
        if f.caused_by is not None or f.location not in block_locs:
            continue
        if f.code == "layer_missing" and f.actual is None and f.args.get("layer") == d.arch.block_name(f.location):
            missing.setdefault(_stage(f.location), []).append(f.location)
            members.append(f)
        elif f.code == "layer_extra" and f.args.get("layer") == d.arch.block_word:
            st = _stage(f.location)
            extra[st] = extra.get(st, 0) + int(f.args.get("count", 1))
            members.append(f)
    if not members:
        return
    want = {st: len(locs) for st, locs in stages.items()}
    got = {st: n - len(missing.get(st, [])) + extra.get(st, 0) for st, n in want.items()}
    parts = []
    for st in stages:
        if extra.get(st):
            parts.append(f"{st} has {extra[st]} extra")
        if missing.get(st):
            gone = missing[st]
            parts.append(f"{st} lacks {len(gone)} ({', '.join(gone) if len(gone) <= 4 else gone[0] + ' to ' + gone[-1]})")
    exp = "(" + ", ".join(str(want[st]) for st in stages) + ")"
    act = "(" + ", ".join(str(got[st]) for st in stages) + ")"
    members.sort(key=lambda f: f.order)
    first = members[0]
    code = "layer_extra" if all(f.code == "layer_extra" for f in members) else "layer_missing"
    line = _count_line(ctx, members, [got[st] for st in stages], got, want)
    root = d.add(code, "error", first.location, M_BLOCK_COUNTS_LINE if line else M_BLOCK_COUNTS,
                 {"layer": d.arch.block_word, "detail": "; ".join(parts)}, exp, act, node=first.node,
                 source=line or first.source, order=first.order - 0.01)
    ids = {id(f) for f in members}
    for f in d.findings:
        if f is not root and (id(f) in ids or (f.caused_by is not None and id(f.caused_by) in ids)):
            f.caused_by = root


def _count_line(ctx: Context, members, counts: list, got: dict, want: dict):
    """The line of the student's code that sets the counts: a line holding the
    whole sequence of counts (a tuple, a list, a config), else one of the lines
    that built the blocks around the fault holding the wrong count of its stage
    (``dense_block(x, 10)``, ``range(4)``)."""
    d = ctx.d
    frames = []
    for f in members:
        nodes = [f.node] if f.node is not None else []
        if not nodes:
            # a missing block has no node: the last block the student built in its stage
            near = [s for r, s in ctx.pairs if isinstance(r, Block) and isinstance(s, Block)
                    and _stage(d.names.bloc(r)) == _stage(f.location)]
            nodes = [s.concat for s in near[-1:]]
        for n in nodes:
            frames += list(n.stack or ()) + ([n.source] if n.source else [])
    files = list(dict.fromkeys(fr[0] for fr in frames if fr))
    for file in files:
        line = 1
        while line < 5000:
            src = d.source_of((file, line))
            if src is None or src.code is None:
                break
            nums = [int(x) for x in _INT.findall(src.code.split("#", 1)[0])]
            if len(counts) >= 2 and any(nums[i:i + len(counts)] == counts for i in range(len(nums))):
                return (file, line)
            line += 1
    wrong = {st: n for st, n in got.items() if n != want[st]}
    for fr in frames:
        # the line that built the block, or the loop just above it
        for up in range(0, 4):
            if not fr or fr[1] - up < 1:
                break
            src = d.source_of((fr[0], fr[1] - up))
            code = (src.code or "").split("#", 1)[0] if src is not None else ""
            nums = {int(x) for x in _INT.findall(code)}
            if up and "range" not in code:
                continue
            # range(n - 1): the identity blocks after a stage's projection block
            if any(n in nums or (n - 1 in nums and "range" in code) for n in wrong.values()):
                return (fr[0], fr[1] - up)
    return None
