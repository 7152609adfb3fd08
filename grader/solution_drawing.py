"""How the HTML report draws the blocks of a solution-derived network (issue 24).

A paper's architecture describes its block kinds by hand (``grader.arch.BlockDrawing``:
ResNet-50's identity and projection blocks); a solution's are read off the solution's
own graph, so that the report draws them by the same path:

- a merge block: each branch a path of its roles (what its layers' locations add to the
  block's: ``conv1``, ``b2/conv1``), in the solution's merge order, which is the order of
  the report block's branches; an empty branch is the input itself (an addition's
  identity shortcut, a concatenation onto the input), never a missing branch; the merge
  as the solution merges (add or concatenate), what follows it (the ReLU after an
  addition), the convolutions whose BatchNormalization is folded into them;
- a plain chain (VGG): each run of convolutions, with the pools that close it, a chain
  of layers (``merge=None``), as DenseNet's transitions are drawn.
"""

from __future__ import annotations

from .arch import BlockDrawing, PathDrawing


def segment_locations(arch) -> dict:
    """Each run's locations in network order: its layers, and the pools (the layout) after
    it up to the next run (VGG's block3_pool)."""
    if not arch._units:
        return {}
    from .align import structure

    spine = structure(arch.graph, arch.merge_ops).spine
    pos = {n.id: i for i, n in enumerate(spine)}
    out = {}
    for loc, ids in arch._units:
        more = []
        for n in spine[max(pos[i] for i in ids) + 1:]:
            if arch._stage.get(n.id) != "layout":
                break
            more.append(n.id)
        out[loc] = [arch._loc[i] for i in sorted([*ids, *more], key=pos.get)]
    return out


def _role(location: str, prefix: str) -> str:
    """What a location adds to its run's (as the report's chain reads it); a layer named apart is itself."""
    if location.startswith(prefix) and location[len(prefix):][:1] in ("_", "/"):
        return location[len(prefix) + 1:]
    return location


def block_drawings(arch, segments: dict) -> tuple:
    """(block location -> BlockDrawing of that block, the drawings by kind: the first block's of each)."""
    at, kinds = {}, {}
    if arch.graph is not None and arch._kind:
        from .align import structure
        from .diagnose.naming import Naming

        N = Naming(arch, structure(arch.graph, arch.merge_ops))
        for b in N.R.blocks:
            d = _drawing(N, b)
            at[N.bloc(b)] = d
            kinds.setdefault(d.kind, d)
    for loc, locs in segments.items():
        kinds[loc] = BlockDrawing(loc, "convolution block", (PathDrawing("", tuple(_role(x, loc) for x in locs)),), None)
    return at, tuple(kinds.values())


def _drawing(N, b) -> BlockDrawing:
    kind, add = N.kind(b), b.concat.op == "add"
    roles = N.roles(b)
    longest = max(range(len(roles)), key=lambda i: len(roles[i]))

    def label(i, br):  # a msgid; the report writes it only on a path without layers
        if not br:
            return "identity shortcut" if add else "the input"
        return ("main path" if i == longest else "projection shortcut") if add else ""

    paths = tuple(PathDrawing(label(i, br), tuple(r for r, _ in br)) for i, br in enumerate(roles))
    after = tuple(("relu" if t.a("fn") in (None, "relu") else str(t.a("fn"))) if t.op == "act" else t.op
                  for t in b.tail)
    folded = tuple(r for br in roles for r, n in br if n.op == "conv" and n.a("post_norm"))
    return BlockDrawing(kind, kind.replace("_", " "), paths, "add" if add else "concat", after, folded,
                        (N.merge_role(b), *(N.role(t, b) for t in b.tail)))
