"""What the passes of the diagnosis share: the finding being built (F), the
diagnosis of one submission against one reference (Diagnoser: the reference's
structure, naming and rubric parts, how nodes compare, and the findings in the
order they are made), and the Context of one student's structure aligned with
the reference's, which the passes fill in (what matched what, the report's
rows, the roots found so far) and read (where a location sits, what a shape
change follows from).

The order in which findings are added is their order in the report and gives
them their ids (F1, F2, ...); see registry.py for the order of the passes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..align import Block, Structure, align, structure
from ..graph import Graph, Node
from .naming import Naming, PartMap
from .rules import SHAPE_CODES, compare
from .text import dims, fmt, jsonable, shape_text
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: loading an assignment can trace a solution through this module
    from ..assignment import Assignment


@dataclass
class F:
    """A finding being built (becomes a report.Finding)."""

    code: str
    severity: str
    location: str
    template: str
    args: dict
    expected: object = None
    actual: object = None
    node: Node | None = None
    source: tuple | None = None
    caused_by: "F | None" = None
    order: float = 0.0
    id: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def message(self):
        try:
            return fmt(self.template, **self.args)
        except (KeyError, IndexError):
            return self.template


@dataclass(frozen=True)
class Inputs:
    """What the child reported besides the student's graph."""

    probes: tuple = ()  # (probe, graph) of each block function the child called alone
    error: dict | None = None  # the exception that stopped the build, if one did
    status: str = "ok"
    returned: object = None  # the numbers a block-function task's function returned
    returned_source: tuple | None = None  # and where


@dataclass
class Diagnosis:
    findings: list  # list[F], roots and consequences, in report order
    layers: list  # list[LayerRow]
    blocks: list  # list[report.Block]
    probe: object = None  # report.Block | None
    total_params: int | None = None
    reference_total_params: int = 0
    elements: list = field(default_factory=list)  # list[score.Element]
    part_of: object = None  # (code, location) -> rubric part (a PartMap)


class Diagnoser:
    """One submission diagnosed against one reference: what stays fixed (the
    reference's structure, its naming, the rubric parts, the assignment's
    severities and allowed substitutions) and the findings made so far."""

    def __init__(self, ref: Graph, assignment: Assignment, source_of, function_of=None):
        self.ref = ref
        self.function_of = function_of  # (file, line) -> name of the student's function there, or None
        self.A = assignment
        self.arch = assignment.arch
        self.subs = dict(assignment.substitutions)
        self.source_of = source_of  # (file, line) -> report.Source
        self.findings: list[F] = []
        self.R = structure(ref, self.arch.merge_ops)
        self.names = Naming(self.arch, self.R)
        self.parts = PartMap(self.names)
        self._ref_blocks = {id(b) for b in self.R.blocks}

    # -- the student's lines --------------------------------------------------------------
    def place(self, node: Node | None):
        """The student's line a finding about ``node`` (or its row) points at: the
        line that calls it, unless no line of the student's called it (Keras did:
        ``Sequential([Conv2D(...), ...])`` calls the layers of its list at the line
        that opens it, or at the one that builds or calls the Sequential): then the
        line that built it, the layer's own line in the list."""
        if node is None:
            return None
        if node.ctor is not None and node.ctor != node.source and (node.via_keras or node.source is None):
            return node.ctor
        return node.source

    # -- comparing structure --------------------------------------------------------------
    def cmp(self, r: Node, s: Node, **kw) -> list:
        return compare(r, s, self.subs, norms=self.arch.norms_are_style, **kw)

    def columns(self, b: Block) -> dict:
        """A block's configuration (filter counts by column): of a reference block
        from its roles, of a student's block from its structure."""
        if id(b) in self._ref_blocks:
            return self.arch.columns(b, self.names.roles(b))
        return self.arch.columns(b, None)

    def block_diffs(self, r: Block, s: Block) -> int:
        rf, sf = self.columns(r), self.columns(s)
        d = sum(1 for c in set(rf) | set(sf) if rf.get(c) != sf.get(c))
        d += abs(len(r.branches) - len(s.branches))
        if r.out_shape and s.out_shape and r.out_shape[-1] != s.out_shape[-1]:
            d += 1
        return d

    def node_cost(self, r, s) -> float:
        if r is None or s is None:
            return 2.0
        if isinstance(r, Block) or isinstance(s, Block):
            if isinstance(r, Block) and isinstance(s, Block):
                return 0.2 * self.block_diffs(r, s)
            return 1e6  # a block never stands for a single layer: one is missing, the other extra
        if r.op == "input" or s.op == "input":
            return 0.0 if r.op == s.op else 50.0
        if r.op != s.op:
            if {r.op, s.op} <= {"pool", "gap"} or (r.op == "gap" and s.op == "reshape"):
                return 1.5
            if r.op == "norm" or s.op == "norm":
                return 2.5
            return 3.0
        # a different channel count breaks ties between equally good places (a
        # stem-only network's pool2 is pool2, not pool4); faults upstream that
        # change spatial sizes leave channel counts alone
        channels = 0.05 if r.out_shape and s.out_shape and r.out_shape[-1] != s.out_shape[-1] else 0.0
        return 0.3 * len(compare(r, s, {}, norms=self.arch.norms_are_style)) + channels

    def add(self, code, severity, location, template, args=None, expected=None, actual=None, node=None,
            source=None, caused_by=None, order=0.0):
        sev = self.A.severity.get(code, severity)
        args = dict(args or {})
        if args.get("at"):
            location = self.arch.display_name(args.pop("at"))
        args.pop("at", None)
        args.setdefault("location", location)
        args.setdefault("expected", dims(expected) if isinstance(expected, (list, tuple)) else expected)
        args.setdefault("actual", dims(actual) if isinstance(actual, (list, tuple)) else actual)
        f = F(code, sev, location, self.arch.reword(template), args, jsonable(expected), jsonable(actual), node,
              source or self.place(node), caused_by, order)
        self.findings.append(f)
        return f


class Context:
    """One student's structure aligned with the reference's. The passes fill in
    what matched what and the report's rows; the methods here answer what
    several passes ask (where a location sits, what came before it)."""

    def __init__(self, d: Diagnoser, S: Structure, inputs: Inputs = Inputs()):
        self.d = d
        self.S = S
        self.R = d.R
        self._spine_locs: dict | None = None  # location -> index along the reference's spine (position)
        self.inputs = inputs
        self.pairs = []  # (reference item, student item) along the spine; see align()
        self.match: dict = {}  # reference node id -> student node
        self.block_match: dict = {}  # reference block concat id -> student Block
        self.layer_rows: list = []
        self.block_rows: list = []
        self.probe_row = None
        self.total = S.graph.total_params()
        self.fn_sources: set = set()  # the lines of the student's inception function (from the probe)
        self.fn_roots: dict = {}  # function-level roots from the probes: {(kind, code, role): F}
        self.no_branches = None  # the root "your inception function has no branches", if so
        self.loc_of_role: dict = {}  # (block location, role) -> location (filled by the blocks pass)
        self.branch_len: dict = {}  # (block location, role) -> length of its branch
        self.count_ok = None  # a block function returned the right filter count (None: none checked)
        self.count_root = None  # the finding that it did not
        self.elements: list = []

    def align(self):
        """Pair the reference's spine with the student's: every pass reads these pairs."""
        self.pairs = align(self.R.spine, self.S.spine, self.d.node_cost, self.gap_ref, self.gap_stu)

    def gap_ref(self, r):
        if isinstance(r, Block):
            return 4.0
        if r.op == "norm":
            return 1.0
        return 2.0

    def gap_stu(self, s):
        if isinstance(s, Block):
            return 4.0
        if s.op in ("reshape",):
            return 0.0
        if s.op in ("act", "norm", "dropout"):
            return 1.0
        return 2.0

    def downstream(self, s: Node):
        if s.out_shape and len(s.out_shape) == 4:
            r_out = None
            for r, x in self.pairs:
                if x is s and r is not None and not isinstance(r, Block):
                    r_out = r.out_shape
            if r_out:
                return f"{shape_text(r_out)} → {shape_text(s.out_shape)}"
        return "later maps shrink"

    def reached(self) -> int:
        """Index in the pairs of the last student item: a build that failed
        stops there, and what comes after it was never reached."""
        if not self.S.graph.partial:
            return len(self.pairs)
        last = 0
        for i, (r, s) in enumerate(self.pairs):
            if s is not None:
                last = i
        return last + 1

    def prev_ref_id(self, r):
        sp = self.R.spine
        for i, x in enumerate(sp):
            if x is r and i > 0:
                return sp[i - 1].id
        return None

    def near_source(self, r):
        if r is None:
            return None
        s = self.block_match.get(r.id) if isinstance(r, Block) else self.match.get(r.id)
        if s is None:
            return None
        return self.d.place(s.concat if isinstance(s, Block) else s)

    def loc(self, r) -> str:
        return self.d.names.loc(r)

    def folded(self, bloc: str, role: str, a: dict):
        """A finding about the BatchNormalization folded into a convolution (an
        ``at`` in its args) is at that BatchNormalization: (its location, its own
        role in the block (0_bn), the args without ``at``)."""
        at = self.d.arch.display_name(a["at"])
        return at, (at[len(bloc):].lstrip("/_") if at.startswith(bloc) else role), {k: v for k, v in a.items() if k != "at"}

    def block_loc(self, bloc: str, role: str) -> str:
        return self.loc_of_role.get((bloc, role), f"{bloc}/{role}")

    def block_order(self, bloc):
        for i, (r, s) in enumerate(self.pairs):
            if isinstance(r, Block) and self.d.names.bloc(r) == bloc:
                return i + 1.5
        return 50

    def s_index_of(self, r_item):
        for r, s in self.pairs:
            if r is r_item and s is not None:
                return self.S.spine.index(s)
        # not matched: the index where it would be
        idx = 0
        for r, s in self.pairs:
            if s is not None:
                idx = self.S.spine.index(s)
            if r is r_item:
                return idx
        return idx

    def position(self, loc: str) -> float:
        """Where a location sits along the network, for "what comes before what"."""
        spine_locs = self._spine_locs
        if spine_locs is None:  # the reference's spine does not change: read once
            spine_locs = self._spine_locs = {self.d.names.loc(it): i for i, it in enumerate(self.R.spine)}
        if loc in spine_locs:
            return float(spine_locs[loc])
        names = self.d.names
        b = names.block_of(loc)
        if b is not None and names.bloc(b) in spine_locs:
            return spine_locs[names.bloc(b)] + 0.1
        if names.is_function_loc(loc):
            first = names.first_of_kind(loc.split("/", 1)[0])
            return (first or 0) - 0.05
        k = names.aux_index(loc)
        if k is not None:
            return self.R.aux[k].attach + 0.5
        # a named group of layers (a transition, pool3): where its first layer is
        group = [i for l, i in spine_locs.items() if l.startswith(loc + "_") or l.startswith(loc + "/")]
        if group:
            return float(min(group)) - 0.01
        return float("inf")

    def shape_cause(self, loc: str, besides=None):
        """The first divergence that changes shapes at or before ``loc`` (other than ``besides``)."""
        pos = self.position(loc)
        cands = [f for f in self.d.findings if f.caused_by is None and f.severity == "error" and f.code in SHAPE_CODES
                 and f is not besides]
        before = [f for f in cands if self.position(f.location) <= pos]
        pool = before or cands
        return min(pool, key=lambda f: (self.position(f.location), f.order)) if pool else None

    def order_of(self, loc):
        for f in self.d.findings:
            if f.location == loc:
                return f.order
        for i, (r, s) in enumerate(self.pairs):
            if r is not None and self.d.names.loc(r) == loc:
                return i + 1
        k = self.d.names.aux_index(loc)
        if k is not None:
            return 60 + k + 0.2
        return 99
