"""Structure and alignment: find the inception blocks, the spine and the
auxiliary heads of a canonical graph, and align a student's structure with the
reference's by content, never by list order or by names.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from .graph import Graph, Node

SKIPPABLE = ("reshape",)


@dataclass
class Block:
    """A merge block: branches from one input, merged by a ``Concatenate`` (an
    inception module, a dense layer) or an ``Add`` (a residual block, whose
    activation after the addition is its ``tail``)."""

    concat: Node  # the merge node (a concat or an add)
    input_id: str
    branches: list  # list[list[Node]] in merge order, each from the block input on
    tail: list = field(default_factory=list)  # nodes after the merge that belong to the block
    note: dict = field(default_factory=dict)  # what an architecture found out about it (see Architecture.adjust_structure)

    @property
    def id(self):
        return self.concat.id

    @property
    def exit_id(self):
        return self.tail[-1].id if self.tail else self.concat.id

    @property
    def op(self):
        return "block"

    @property
    def out_shape(self):
        return self.tail[-1].out_shape if self.tail else self.concat.out_shape

    def nodes(self):
        return [n for br in self.branches for n in br] + [self.concat] + list(self.tail)

    def params(self):
        return sum(n.params for n in self.nodes())


@dataclass
class Aux:
    attach: int  # index in the spine of the item it hangs from
    nodes: list
    output: str


@dataclass
class Structure:
    graph: Graph
    spine: list  # Node | Block, from the input to the main output
    aux: list = field(default_factory=list)
    main_output: str | None = None
    extra_outputs: list = field(default_factory=list)

    @property
    def blocks(self) -> list:
        """The blocks of the spine, in order."""
        return [x for x in self.spine if isinstance(x, Block)]


def _walk(g: Graph, nid: str, limit=12) -> list:
    path = []
    cur = nid
    for _ in range(limit):
        if cur not in g.nodes:
            break
        path.append(cur)
        n = g.nodes[cur]
        if len(n.inputs) != 1 or n.op in ("concat", "input"):
            break
        cur = n.inputs[0]
    return path


def find_blocks(g: Graph, merges=("concat",)) -> dict:
    """merge node id -> Block, for every merge (of the ops in ``merges``) of two
    or more branches that start from one common tensor."""
    blocks = {}
    cons = g.consumers() if "add" in merges else {}
    for n in g.nodes.values():
        if n.op not in merges or len(n.inputs) < 2:
            continue
        paths = [_walk(g, i) for i in n.inputs]
        common = None
        for cand in paths[0]:
            if all(cand in p for p in paths[1:]):
                common = cand
                break
        if common is None:
            continue
        branches = []
        for p in paths:
            k = p.index(common)
            branches.append([g.nodes[x] for x in reversed(p[:k])])
        tail = []
        if n.op == "add" and len(cons.get(n.id, [])) == 1:
            after = g.nodes[cons[n.id][0]]
            if after.op == "act" and len(after.inputs) == 1 and n.id not in g.outputs:
                tail = [after]  # a residual block ends with its activation after the addition
        blocks[n.id] = Block(n, common, branches, tail)
    return blocks


def _spine_from(g: Graph, blocks: dict, nid: str) -> list:
    items = []
    cur = nid
    seen = set()
    exits = {b.exit_id: b for b in blocks.values()}
    order = {nid: i for i, nid in enumerate(g.nodes)}
    while cur is not None and cur in g.nodes and cur not in seen:
        seen.add(cur)
        if cur in exits:
            b = exits[cur]
            items.append(b)
            cur = b.input_id
            continue
        n = g.nodes[cur]
        items.append(n)
        # through a merge that is no block, the network goes on along its latest
        # input (the longest history), not necessarily its first
        cur = max(n.inputs, key=order.get) if len(n.inputs) > 1 else (n.inputs[0] if n.inputs else None)
    items.reverse()
    return items


def structure(g: Graph, merges=("concat",)) -> Structure:
    blocks = find_blocks(g, merges)
    outs = list(g.outputs)
    if not outs:
        # a partial graph: the last node recorded is where the build stopped
        outs = [list(g.nodes)[-1]] if g.nodes else []
    spines = {o: _spine_from(g, blocks, o) for o in outs}

    def weight(o):
        sp = spines[o]
        return (sum(1 for x in sp if isinstance(x, Block)), len(sp), -outs.index(o))

    main = max(outs, key=weight) if outs else None
    spine = spines.get(main, [])
    index = {}
    for i, it in enumerate(spine):
        index[it.id] = i
    aux = []
    extra = []
    for o in outs:
        if o == main:
            continue
        nodes = []
        cur = o
        attach = None
        seen = set()
        while cur is not None and cur in g.nodes and cur not in seen:
            seen.add(cur)
            if cur in index:
                attach = index[cur]
                break
            inside = [i for i, it in enumerate(spine) if isinstance(it, Block) and any(x.id == cur for x in it.nodes())]
            if inside:
                attach = inside[0]
                break
            n = g.nodes[cur]
            nodes.append(n)
            cur = n.inputs[0] if n.inputs else None
        if attach is None:
            extra.append(o)
            continue
        aux.append(Aux(attach, list(reversed(nodes)), o))
    aux.sort(key=lambda a: a.attach)
    return Structure(g, spine, aux, main, extra)


def align(ref: list, stu: list, cost, gap_ref, gap_stu) -> list:
    """Needleman-Wunsch: a list of (ref item | None, student item | None) pairs
    with the least total cost."""
    n, m = len(ref), len(stu)
    INF = float("inf")
    D = [[INF] * (m + 1) for _ in range(n + 1)]
    B = [[None] * (m + 1) for _ in range(n + 1)]
    D[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            d = D[i][j]
            if d == INF:
                continue
            if i < n and j < m:
                c = d + cost(ref[i], stu[j])
                if c < D[i + 1][j + 1]:
                    D[i + 1][j + 1], B[i + 1][j + 1] = c, (i, j)
            # the tiny position term breaks ties between equal alignments: a
            # duplicated or missing item is reported at its later place
            if i < n:
                c = d + gap_ref(ref[i]) + 1e-6 * (n - i)
                if c < D[i + 1][j]:
                    D[i + 1][j], B[i + 1][j] = c, (i, j)
            if j < m:
                c = d + gap_stu(stu[j]) + 1e-6 * (m - j)
                if c < D[i][j + 1]:
                    D[i][j + 1], B[i][j + 1] = c, (i, j)
    pairs = []
    i, j = n, m
    while (i, j) != (0, 0):
        pi, pj = B[i][j]
        pairs.append((ref[pi] if pi < i else None, stu[pj] if pj < j else None))
        i, j = pi, pj
    pairs.reverse()
    return pairs


def match_branches(ref_branches: list, stu_branches: list, cost) -> list:
    """The assignment of student branches to reference branches (by content) with
    the least cost: a list, per reference branch, of the student branch index or None."""
    n = max(len(ref_branches), len(stu_branches))
    idx = list(range(len(stu_branches))) + [None] * (n - len(stu_branches))
    best, best_c = None, float("inf")
    for perm in itertools.permutations(idx, n):
        c = 0.0
        for r in range(len(ref_branches)):
            s = perm[r]
            c += cost(r, s)
            if c >= best_c:
                break
        if c < best_c:
            best, best_c = perm, c
    return list(best[: len(ref_branches)]) if best else [None] * len(ref_branches)
