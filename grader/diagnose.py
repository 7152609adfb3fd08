"""Diagnosis: compare a student's canonical graph with the reference's and say
each real mistake once, at its place in the network and at the student's line.

The first divergence is the root; what it causes downstream (shapes, parameter
counts, the same fault repeated in nine blocks by one inception function) is
linked to it with ``caused_by``, never reported as a new error.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .align import SKIPPABLE, Block, Structure, align, match_branches, structure
from .assignment import Assignment
from .graph import Graph, Node
from .report import FATAL, BranchLayer, LayerRow
from .report import Block as BlockRow

# -- messages (msgids of the message catalog; see grader/locale) -----------------------------
M_STRIDE = "{location}: stride {actual} where the paper has {expected}; every later feature map is halved ({detail})."
M_RELU = "{location}: no ReLU after this convolution; add activation='relu' (or a ReLU layer) after it."
M_FILTERS = "{location}: {actual} filters where Table 1 has {expected}."
M_SLIP_COLUMN = "{location}: {actual} is this block's {column}: the {layer} convolution is fed the wrong argument."
M_ARGUMENT = "{location}: the {layer} convolution takes its filters from `{actual}` instead of `{expected}`."
M_UNUSED = "{location}: parameter `{argument}` of your inception function is never used."
M_KERNEL = "{location}: kernel {actual} where the paper has {expected}."
M_PADDING = "{location}: padding '{actual}' gives {detail}; use padding='same'."
M_POOL_TYPE = "{location}: {actual} pooling where the paper has {expected} pooling."
M_POOL_SIZE = "{location}: pool window {actual} where the paper has {expected}."
M_NORM = "{location}: {actual} instead of local response normalization (allowed, but not the paper's)."
M_DROPOUT = "{location}: dropout rate {actual} where the paper has {expected}."
M_UNITS = "{location}: {actual} units where the paper has {expected}."
M_MISSING = "{location}: {layer} is missing."
M_EXTRA = "{location}: an extra {layer} that the paper does not have."
M_AUX_POS = "{location}: the auxiliary classifier hangs from {actual} instead of {expected}."
M_AUX_MISSING = "{location}: the auxiliary classifier is missing."
M_ORDER = "{location}: the branches are concatenated as {actual}; the paper's order is {expected}."
M_AXIS = "{location}: concatenation on axis {actual}; the channel axis is {expected}."
M_INPUT = "{location}: input shape {actual} where the assignment asks for {expected}."
M_BUILD = "{location}: the model could not be built: {actual}."
M_TIMEOUT = "{location}: the grader gave up after {actual} seconds."
M_NO_MODEL = "{location}: no model was found; {detail}."
M_PARAMS = "{location}: {actual} parameters where the reference has {expected}."
M_SKIPPED = "{location}: training call skipped while grading: {actual}."
M_TYPO = "{location}: {actual} filters where Table 1 has {expected} (digits mistyped?)."
M_ACTIVATION = "{location}: activation {actual} where the paper has {expected}."
M_LAYER_TYPE = "{location}: {actual} where the paper has {expected}."
M_SHAPE = "{location}: output {actual} where the reference has {expected}."
M_STRIDES_GENERIC = "{location}: stride {actual} where the paper has {expected} ({detail})."
M_MEMORY = "{location}: the program used more than {actual} of memory and was stopped."
M_OOM = "{location}: the model needs more memory than there is: {actual}."
M_AUX_EXTRA = "{location}: an extra auxiliary classifier that the assignment does not ask for."
M_NORM_MISSING = "{location}: no normalization here; the paper has local response normalization (allowed)."
M_OUTPUTS = "{location}: the model has {actual} outputs where {expected} are expected."
M_ARG_HARDCODED = "{location}: the {layer} convolution has {actual} filters written in the function instead of using `{expected}`."
M_BRANCH_MISSING = "{location}: the {layer} branch is missing."
M_BRANCH_EXTRA = "{location}: an extra branch that the paper does not have."
M_NO_BRANCHES = "{location}: your {kind} function builds {actual} and no parallel branches."
M_STOPS = "{location}: the network stops after {after}; missing from here on: {missing}."
M_IN_FUNCTION = "{fault} The mistake is in `{function}` (line {line}), which builds {count} of these layers ({locations}): one fix there fixes them all."
M_FLATTEN = "{location}: Flatten where the paper has {expected}."
M_RETURNED = "{location}: your {function} function returns {actual} as the new filter count where it should be {expected}."
M_DERIVED = "{location}: {actual} filters for its {channels} input channels where the paper's rule, {rule}, gives {given}."
M_EXTRA_BLOCKS = "{location}: {count} extra {layer}s after this one that the paper does not have."
M_GROUP_MISSING = "{location}: the whole of it is missing ({layers})."
M_MERGE_MISSING = ("{location}: your {layer}s are never merged (no {merge} of their input and their output), "
                   "so each stands in a plain chain and none of them is the paper's.")
M_NO_BN = "{location}: no BatchNormalization after this convolution; the paper has one after every convolution."
M_EXTRA_BN = "{location}: a BatchNormalization after this convolution that the paper does not have."
M_IN_LOOP = "{fault} The same line (line {line}) builds {count} of these layers ({locations}): one fix there fixes them all."
# what the grader did to run the code as students write it (see "Running the code students write" in the README)
M_STUBBED = ("{location}: `{actual}` is not installed where the grader runs; its imports ({detail}) gave stand-ins "
             "that do nothing.")
M_LEGACY_MODULES = "{location}: Keras 2 module paths and names, read as their Keras 3 equivalents: {detail}."
M_LEGACY_ARGUMENTS = "{location}: Keras 2 arguments, read as their Keras 3 names: {detail}."
M_LEGACY_BEHAVIOUR = "{location}: Keras 2 behaviour that Keras 3 removed, given back: {detail}."
M_SCRIPT = "{location}: the script raised {actual} here; grading went on with the next statement."
M_IPYTHON = "{location}: IPython syntax is not Python and was skipped while grading: {actual}."
M_BUILD_STANDIN = ("{location}: the model could not be built: `{module}` is not installed where the grader runs; "
                   "the model used `{name}` at {where}.")
M_BUILD_CAUSE = "{location}: the model could not be built: {actual}; the model uses `{name}` at {where}."


#: Codes of faults that change shapes or parameter counts downstream.
SHAPE_CODES = {"strides", "padding", "kernel_size", "filters", "pool_size", "layer_missing", "layer_extra",
               "argument_misuse", "input_shape", "units", "concat_axis", "branch_missing", "branch_extra",
               "layer_type", "aux_position", "norm_type", "aux_missing", "aux_extra", "output_count", "return_value",
               "shortcut_source", "activation_order"}


def fmt(template: str, **args) -> str:
    return template.format(**args)


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


def _j(v):
    """JSON-friendly: tuples to lists."""
    if isinstance(v, tuple):
        return [_j(x) for x in v]
    if isinstance(v, list):
        return [_j(x) for x in v]
    return v


def _k(v):
    return "x".join(str(x) for x in v) if isinstance(v, (list, tuple)) else str(v)


def _shape_s(s):
    if not s:
        return "?"
    return "x".join(str(d) for d in s[1:]) if len(s) > 1 else str(s)


# -- reference locations ------------------------------------------------------------------------


class Naming:
    """Locations, blocks and roles of one reference, read off its layer names
    through the architecture: a block's location is what its layers' locations
    share (``inception_3a``, ``conv2_block1``), a layer's role in its block is
    what its location adds (``5x5``, ``1_conv``, ``add``)."""

    def __init__(self, arch, R: Structure):
        self.arch = arch
        self.R = R
        self._bloc: dict = {}
        self._in_block = None
        self.kinds = {b.id: arch.block_kind(b, self.roles(b)) for b in R.blocks}
        self.aux_names = [self._common([self.loc(n) for n in a.nodes]) for a in R.aux]

    def loc(self, n) -> str:
        if isinstance(n, Block):
            return self.bloc(n)
        return self.arch.location(n)

    @staticmethod
    def _common(locs: list) -> str:
        prefix = os.path.commonprefix(locs) if locs else ""
        if len(locs) > 1 and prefix not in locs:
            cut = max(prefix.rfind("/"), prefix.rfind("_"))
            prefix = prefix[:cut] if cut > 0 else prefix
        return prefix.rstrip("/_")

    def bloc(self, b: Block) -> str:
        if b.id not in self._bloc:
            self._bloc[b.id] = self._common([self.arch.location(n) for n in b.nodes()])
        return self._bloc[b.id]

    def role(self, n: Node, b: Block) -> str:
        return self.arch.location(n)[len(self.bloc(b)):].lstrip("/_")

    def roles(self, b: Block) -> list:
        """The reference block's branches as lists of (role, node)."""
        return [[(self.role(n, b), n) for n in br] for br in b.branches]

    def inner(self, b: Block) -> list:
        """Every (role, node) of a reference block: its branches, the merge, the tail."""
        return [x for br in self.roles(b) for x in br] + [(self.role(n, b), n) for n in [b.concat] + list(b.tail)]

    def kind(self, b: Block) -> str:
        return self.kinds.get(b.id) or self.arch.block_kind(b, self.roles(b))

    def merge_role(self, b: Block) -> str:
        return self.role(b.concat, b)

    def is_function_loc(self, loc: str) -> bool:
        return loc.split("/", 1)[0] in self.arch.function_kinds and "/" in loc

    def block_of(self, loc: str):
        """The reference block a location is in (or is)."""
        if self._in_block is None:
            self._in_block = {}
            for b in self.R.blocks:
                self._in_block[self.bloc(b)] = b
                for n in b.nodes():
                    self._in_block[self.arch.location(n)] = b
        return self._in_block.get(loc)

    def merge_location(self, loc: str) -> str:
        """Where the merge is of the block (or block function) a location is in."""
        if self.is_function_loc(loc):
            kind = loc.split("/", 1)[0]
            at = self.first_of_kind(kind)
            return f"{kind}/{self.merge_role(self.R.spine[at])}" if at is not None else loc
        b = self.block_of(loc)
        return self.loc(b.concat) if b is not None else loc

    def aux_index(self, loc: str):
        """Which auxiliary head a location is in (None: none)."""
        for k, name in enumerate(self.aux_names):
            if name and (loc == name or loc.startswith(name + "/") or loc.startswith(name + "_")):
                return k
        return None

    def first_of_kind(self, kind: str):
        return next((i for i, it in enumerate(self.R.spine) if isinstance(it, Block) and self.kind(it) == kind), None)


class PartMap:
    """Which rubric part a finding's location belongs to, read off the
    reference: the spine before the first block is the stem, after the last
    the head, between them the layout; a whole block is layout, a layer of one
    block its configuration, a fault of the block function the module; the
    auxiliary heads, the total."""

    def __init__(self, names: Naming):
        self.names = names
        arch = names.arch
        self.part = {p.role: p.name for p in arch.parts}
        R = names.R
        at = [i for i, it in enumerate(R.spine) if isinstance(it, Block)]
        first, last = (at[0], at[-1]) if at else (len(R.spine), len(R.spine))
        self.where = {}
        self.stage = {}  # a reference layer of the spine (by id) -> stem, layout or head
        for i, it in enumerate(R.spine):
            if isinstance(it, Block):
                self.where[names.bloc(it)] = "layout"
                for _, n in names.inner(it):
                    self.where[names.loc(n)] = "config"
            else:
                self.stage[it.id] = "stem" if i < first else ("head" if i > last else "layout")
                self.where[names.loc(it)] = self.stage[it.id]
        self.where["data"] = "layout"
        self.where["total"] = "params"
        self.where["return"] = "returns"
        self.extra_aux = {arch.aux_name(k) for k in range(4)}

    def role(self, code: str, location: str) -> str:
        if code in FATAL:
            return "layout"
        if location in self.where:
            return self.where[location]
        if self.names.is_function_loc(location):
            return "returns" if location.endswith("/return") and "returns" in self.part else "module"
        if self.names.aux_index(location) is not None or location.split("/")[0] in self.extra_aux:
            return "aux"
        return "layout"

    def __call__(self, code: str, location: str) -> str:
        role = self.role(code, location)
        return self.part.get(role) or self.part.get("layout") or next(iter(self.part.values()))


# -- node comparison ----------------------------------------------------------------------------


def padding_matters(n: Node, k, s) -> bool:
    """Whether 'same' and 'valid' would differ for this layer on its actual input."""
    if not n.in_shape or len(n.in_shape) != 4 or not k:
        return True
    for i in range(2):
        size = n.in_shape[i + 1]
        if size is None:
            return True
        out = -(-size // s[i])
        pad = max((out - 1) * s[i] + k[i] - size, 0)
        if pad > 0:
            return True
    return False


def compare(r: Node, s: Node, subs: dict, *, downstream: str = "", norms: bool = True) -> list:
    """Differences that change the result: (code, severity, template, args, expected, actual).

    ``norms``: a BatchNormalization after a convolution is a matter of style
    (GoogLeNet); when False, the reference's are part of the network (ResNet).
    An ``at`` in the args is the location of the finding, when it is not
    ``r``'s own (the BatchNormalization folded into a convolution)."""
    out = []
    if r.op != s.op:
        if r.op == "norm":
            return [("norm_type", "norm", M_LAYER_TYPE, {}, r.a("norm"), s.op)]
        if r.op == "gap" and s.op == "reshape":
            return [("layer_type", "error", M_FLATTEN, {}, _layer_desc(r), "Flatten")]
        return [("layer_type", "error", M_LAYER_TYPE, {}, r.op, _op_name(s))]
    if r.op == "conv":
        if s.a("conv_type") != "conv":
            out.append(("layer_type", "error", M_LAYER_TYPE, {}, "Conv2D", s.cls))
        if s.a("kernel") != r.a("kernel"):
            out.append(("kernel_size", "error", M_KERNEL, {}, _k(r.a("kernel")), _k(s.a("kernel"))))
        out += _window_diffs(r, s, "kernel", downstream)
        if s.a("filters") != r.a("filters"):
            out.append(("filters", "error", M_FILTERS, {}, r.a("filters"), s.a("filters")))
        if s.a("activation") != r.a("activation"):
            if r.a("activation") == "relu" and s.a("activation") is None:
                out.append(("activation", "error", M_RELU, {}, "relu", "none"))
            else:
                out.append(("activation", "error", M_ACTIVATION, {}, r.a("activation") or "none", s.a("activation") or "none"))
        if not norms and bool(r.a("post_norm")) != bool(s.a("post_norm")):
            if r.a("post_norm"):
                out.append(("layer_missing", "error", M_NO_BN, {"layer": "BatchNormalization", "at": r.a("post_norm_name")},
                            "BatchNormalization", None))
            else:
                out.append(("layer_extra", "error", M_EXTRA_BN, {"layer": "BatchNormalization"}, None, "BatchNormalization"))
    elif r.op == "pool":
        if s.a("pool_type") != r.a("pool_type"):
            out.append(("pool_type", "error", M_POOL_TYPE, {}, r.a("pool_type"), s.a("pool_type")))
        if s.a("pool_size") != r.a("pool_size"):
            out.append(("pool_size", "error", M_POOL_SIZE, {}, _k(r.a("pool_size")), _k(s.a("pool_size"))))
        out += _window_diffs(r, s, "pool_size", downstream)
    elif r.op == "gap":
        if s.a("pool_type") != r.a("pool_type"):
            out.append(("pool_type", "error", M_POOL_TYPE, {}, r.a("pool_type"), s.a("pool_type")))
    elif r.op == "norm":
        if s.a("norm") != r.a("norm"):
            key = {"batchnorm": "batchnorm_for_lrn", "layernorm": "layernorm_for_lrn"}.get(s.a("norm"), "batchnorm_for_lrn")
            out.append(("norm_type", subs.get(key, "warning"), M_NORM, {}, "LRN", _norm_name(s.a("norm"))))
        elif r.a("norm") == "lrn" and s.a("depth_radius") is not None:
            diffs = [k for k in ("depth_radius", "bias", "alpha", "beta")
                     if s.a(k) is not None and r.a(k) is not None and abs(float(s.a(k)) - float(r.a(k))) > 1e-3 * max(1e-9, abs(float(r.a(k))))]
            if diffs:
                out.append(("norm_type", "info", M_LAYER_TYPE, {},
                            "LRN(" + ", ".join(f"{k}={r.a(k):g}" for k in diffs) + ")",
                            "LRN(" + ", ".join(f"{k}={s.a(k):g}" for k in diffs) + ")"))
    elif r.op == "dropout":
        if s.a("rate") is None or abs(float(s.a("rate")) - float(r.a("rate"))) > 1e-6:
            out.append(("dropout_rate", "error", M_DROPOUT, {}, r.a("rate"), s.a("rate")))
    elif r.op == "dense":
        if s.a("units") != r.a("units"):
            out.append(("units", "error", M_UNITS, {}, r.a("units"), s.a("units")))
        if s.a("activation") != r.a("activation"):
            out.append(("activation", "error", M_ACTIVATION, {}, r.a("activation") or "none", s.a("activation") or "none"))
    elif r.op == "concat":
        ra, sa = _axis(r), _axis(s)
        if ra != sa:
            out.append(("concat_axis", "error", M_AXIS, {}, ra, sa))
    return out


def _window_diffs(r: Node, s: Node, window: str, downstream: str) -> list:
    """Stride and padding of a conv or pool: padding only where it changes the result."""
    out = []
    if s.a("strides") != r.a("strides"):
        halves = (s.a("strides") or (1,))[0] > (r.a("strides") or (1,))[0]
        out.append(("strides", "error", M_STRIDE if halves else M_STRIDES_GENERIC, {"detail": downstream},
                    _k(r.a("strides")), _k(s.a("strides"))))
    if s.a("padding") != r.a("padding") and padding_matters(s, s.a(window), s.a("strides") or (1, 1)):
        out.append(("padding", "error", M_PADDING, {"detail": f"a {_shape_s(s.out_shape)} map"}, r.a("padding"), s.a("padding")))
    return out


def _axis(n: Node):
    ax = n.a("axis")
    rank = len(n.out_shape) if n.out_shape else 4
    if isinstance(ax, int):
        return ax % rank
    return ax


def _norm_name(k):
    return {"batchnorm": "BatchNormalization", "layernorm": "LayerNormalization", "lrn": "LRN"}.get(k, str(k))


def _op_name(n: Node) -> str:
    if n.op == "pool":
        return f"{'MaxPooling2D' if n.a('pool_type') == 'max' else 'AveragePooling2D'}"
    return n.cls or n.op


def is_typo(a, b) -> bool:
    """Digits transposed or one digit mistyped (114 for 144, 265 for 256)."""
    sa, sb = str(a), str(b)
    if len(sa) != len(sb) or sa == sb:
        return False
    diff = [i for i in range(len(sa)) if sa[i] != sb[i]]
    if len(diff) == 1:
        return True
    if len(diff) == 2 and diff[1] == diff[0] + 1 and sa[diff[0]] == sb[diff[1]] and sa[diff[1]] == sb[diff[0]]:
        return True
    return False


# -- the diagnosis --------------------------------------------------------------------------


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


class _Diagnoser:
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
        args.setdefault("expected", _k(expected) if isinstance(expected, (list, tuple)) else expected)
        args.setdefault("actual", _k(actual) if isinstance(actual, (list, tuple)) else actual)
        f = F(code, sev, location, template, args, _j(expected), _j(actual), node,
              source or (node.source if node is not None else None), caused_by, order)
        self.findings.append(f)
        return f


def diagnose(student: Graph | None, ref: Graph, assignment: Assignment, *, probes=(), error: dict | None = None,
             status: str = "ok", notes=(), source_of=None, function_of=None, returned=None,
             returned_source=None) -> Diagnosis:
    """All findings for one traced submission, and the reference elements it has.

    ``probes``: (probe, graph) of each block function the child called alone;
    ``returned``: the numbers a block-function task's function returned."""
    d = _Diagnoser(ref, assignment, source_of or (lambda s: None), function_of)
    ref_total = ref.total_params()
    for note in notes or ():
        if note.get("kind") == "training_skipped":
            src = note.get("source")
            d.add("training_skipped", "info", "data", M_SKIPPED, {}, None, note.get("call"),
                  source=(src["file"], src["line"]) if src else None, order=1e9)
    parts = d.parts
    _tolerance_notes(d, notes or ())
    if student is None or not student.nodes:
        # nothing was built (or the trace was rejected): every element is missing
        empty = Graph({"in0": Node("in0", "input", name="data")}, ["in0"], [], partial=True)
        ctx = _Context(d, structure(empty))
        ctx._elements()
        return Diagnosis(d.findings, [], [], None, None, ref_total, ctx.elements, parts)
    S = d.arch.adjust_structure(structure(student, d.arch.merge_ops))
    ctx = _Context(d, S)
    ctx.returned = returned
    ctx.returned_source = returned_source
    ctx.run(probes, error, status)
    return Diagnosis(d.findings, ctx.layer_rows, ctx.block_rows, ctx.probe_row, ctx.total, ref_total, ctx.elements,
                     parts)


def where(src) -> str:
    """A report.Source as a student reads it in a sentence: "line 31", "cell 3, line 2"."""
    if src is None:
        return "?"
    if src.cell is not None:
        return f"cell {src.cell}, line {src.cell_line}"
    return f"line {src.line}"


def _deepest(shown):
    """`import a.b` also imports `a`: of the names met at the same place, keep the deepest."""
    return [(m, p) for m, p in shown if not any(o.startswith(m + ".") and q == p for o, q in shown)]


def _tolerance_notes(d: _Diagnoser, notes):
    """One info finding per missing package, at its first import; one per kind of
    Keras 2 spelling (module paths, arguments, behaviour), at its first use, listing
    each mapping with where it was met."""
    groups: dict = {}
    for note in notes:
        kind = note.get("kind")
        if kind == "import_stubbed":
            key = (kind, note.get("package") or str(note.get("module", "")).split(".")[0])
        elif kind == "legacy_api":
            key = (kind, note.get("what"))
        else:
            continue
        groups.setdefault(key, []).append(note)
    templates = {"module": M_LEGACY_MODULES, "argument": M_LEGACY_ARGUMENTS, "behaviour": M_LEGACY_BEHAVIOUR}
    for key, group in groups.items():
        # in the order of the file, whatever order the code met them in
        group = sorted(group, key=lambda n: (n["source"]["file"], n["source"]["line"]) if n.get("source") else ("", 0))
        srcs = [(n["source"]["file"], n["source"]["line"]) if n.get("source") else None for n in group]
        places = [where(d.source_of(s)) if s else "?" for s in srcs]
        if key[0] == "import_stubbed":
            shown = _deepest([(n.get("module", ""), p) for n, p in zip(group, places)])
            detail = ", ".join(f"`{m}` at {p}" for m, p in shown)
            d.add("import_stubbed", "info", "data", M_STUBBED, {"detail": detail}, None, key[1], source=srcs[0], order=1e9)
            continue
        mapped: dict = {}  # (old, new) -> places, in the order met
        for n, p in zip(group, places):
            mapped.setdefault((n.get("old", ""), n.get("new", "")), []).append(p)
        pairs = _deepest([(old, ", ".join(dict.fromkeys(ps))) for (old, _), ps in mapped.items()])
        new_of = {old: new for old, new in mapped}
        detail = "; ".join(f"`{old}` → `{new_of[old]}` ({p})" for old, p in pairs)
        d.add("legacy_api", "info", "data", templates.get(key[1], M_LEGACY_BEHAVIOUR), {"detail": detail},
              None, [old for old, _ in pairs], source=srcs[0], order=1e9)


class _Context:
    def __init__(self, d: _Diagnoser, S: Structure):
        self.d = d
        self.S = S
        self.R = d.R
        self.pairs = []
        self.match: dict = {}  # reference node id -> student node
        self.block_match: dict = {}  # reference block concat id -> student Block
        self.layer_rows: list = []
        self.block_rows: list = []
        self.probe_row = None
        self.total = S.graph.total_params()
        self.fn_sources: set = set()  # the lines of the student's inception function (from the probe)
        self.no_branches = None  # the root "your inception function has no branches", if so
        self.loc_of_role: dict = {}  # (block location, role) -> location (filled by _blocks)
        self.branch_len: dict = {}  # (block location, role) -> length of its branch
        self.count_ok = None  # a block function returned the right filter count (None: none checked)
        self.count_root = None  # the finding that it did not
        self.returned = self.returned_source = None  # what a block-function task's function returned, and where
        self.elements: list = []

    # ------------------------------------------------------------------------------------
    def run(self, probes, error, status):
        d = self.d
        self.pairs = align(self.R.spine, self.S.spine, self.d.node_cost, self._gap_ref, self._gap_stu)
        self._input_shape()
        fn_roots: dict = {}
        task = d.A.task
        for probe, pg in probes:
            if not (task and task.get("kind") == probe.get("block_kind")):  # a task counts its own call
                last = next((n for n in reversed(list(pg.nodes.values())) if n.source), None) if pg is not None else None
                self._returned_count(probe.get("block_kind"), probe.get("returned"), probe.get("call_args"),
                                     f"{probe.get('block_kind')}/return", probe, last.source if last else None)
            row = self.probe_row
            fn_roots.update(self._probe(probe, pg))
            self.probe_row = row or self.probe_row  # the report shows the first
        if task:
            self._returned_count(task.get("kind"), self.returned, task.get("args"), f"{task.get('kind')}/return", None,
                                 self.returned_source)
        self._spine_findings(fn_roots)
        self._blocks(fn_roots)
        self._aux()
        self._merge_missing()
        self._truncation()
        self._missing_groups()
        self._derived()
        self._counted_from()
        self._helper_roots()
        self._failure(error, status)
        self._consequences()
        self._params()
        self._rows()
        self._elements()
        return d

    def _gap_ref(self, r):
        if isinstance(r, Block):
            return 4.0
        if r.op == "norm":
            return 1.0
        return 2.0

    def _gap_stu(self, s):
        if isinstance(s, Block):
            return 4.0
        if s.op in ("reshape",):
            return 0.0
        if s.op in ("act", "norm", "dropout"):
            return 1.0
        return 2.0

    def _downstream(self, s: Node):
        if s.out_shape and len(s.out_shape) == 4:
            r_out = None
            for r, x in self.pairs:
                if x is s and r is not None and not isinstance(r, Block):
                    r_out = r.out_shape
            if r_out:
                return f"{_shape_s(r_out)} → {_shape_s(s.out_shape)}"
        return "later maps shrink"

    def _input_shape(self):
        d = self.d
        s_in = [n for n in self.S.graph.nodes.values() if n.op == "input"]
        if not s_in or not s_in[0].out_shape:
            return
        got = tuple(s_in[0].out_shape[1:])
        want = tuple(d.A.input_shape)
        if got != want:
            d.add("input_shape", "error", "data", M_INPUT, {}, list(want), list(got), node=s_in[0], order=0)

    def _reached(self) -> int:
        """Index in the pairs of the last student item: a build that failed
        stops there, and what comes after it was never reached."""
        if not self.S.graph.partial:
            return len(self.pairs)
        last = 0
        for i, (r, s) in enumerate(self.pairs):
            if s is not None:
                last = i
        return last + 1

    def _spine_findings(self, fn_roots: dict):
        d = self.d
        # an inception function without branches: the blocks it should have
        # built are missing, and what it built instead is extra, because of it
        no_branches = self.no_branches = next((f for k, f in fn_roots.items() if k[1] == "no_branches"), None)
        last_ref = None
        last_missing = None  # the finding of the reference item just before, if it is missing
        extra_run = None  # the finding of the extra block just before, if there is one
        order = 1
        reached = self._reached()
        for i, (r, s) in enumerate(self.pairs):
            order += 1
            if i >= reached:
                break
            if not (s is not None and r is None and isinstance(s, Block)):
                extra_run = None
            if r is not None and s is not None:
                last_missing = None
                if isinstance(r, Block):
                    self.block_match[r.id] = s
                    last_ref = r
                    continue
                self.match[r.id] = s
                loc = self.d.names.loc(r)
                last_ref = r
                if r.op == "input":
                    continue
                for code, sev, tmpl, args, exp, act in self.d.cmp(r, s, downstream=self._downstream(s)):
                    if code == "norm_type" and sev == "norm":
                        sev = d.subs.get("none_for_lrn", "warning")
                    f = d.add(code, sev, loc, tmpl, args, exp, act, node=s, order=order)
                    if code == "activation" and s.a("activation") is None and r.a("activation") == "relu":
                        f.extra["relu_missing"] = True
            elif r is not None:
                loc = self.d.names.loc(r)
                if not isinstance(r, Block) and r.op == "act" and last_missing is not None:
                    # an activation belongs to the layer before it: gone with it
                    d.add("layer_missing", "error", loc, M_MISSING, {"layer": _layer_desc(r)}, _layer_desc(r), None,
                          source=self._near_source(last_ref), order=order, caused_by=last_missing)
                    continue
                if not isinstance(r, Block) and r.op == "norm" and d.arch.norms_are_style:
                    # the paper's LRN left out, or replaced by a BatchNorm the conv before it absorbed
                    prev = self.match.get(self._prev_ref_id(r))
                    if prev is not None and prev.a("post_norm"):
                        sub = _norm_name(prev.a("post_norm"))
                        key = "batchnorm_for_lrn"
                        f = d.add("norm_type", d.subs.get(key, "warning"), loc, M_NORM, {}, "LRN", sub, node=prev, order=order)
                    else:
                        f = d.add("norm_type", d.subs.get("none_for_lrn", "warning"), loc, M_NORM_MISSING, {}, "LRN", "none",
                                  source=self._near_source(last_ref), order=order)
                else:
                    what = self.d.arch.block_name(loc) if isinstance(r, Block) else _layer_desc(r)
                    f = d.add("layer_missing", "error", loc, M_MISSING, {"layer": what}, what, None,
                              source=self._near_source(last_ref), order=order,
                              caused_by=no_branches if isinstance(r, Block) else None)
                last_missing = f
                continue
            elif s is not None:
                if isinstance(s, Block) or s.op not in ("reshape",):
                    if not isinstance(s, Block) and s.op == "norm" and s.a("norm") == "batchnorm":
                        continue  # BatchNorm anywhere is a style, not a fault
                    loc = self.d.names.loc(last_ref) if last_ref is not None else "data"
                    what = self.d.arch.block_word if isinstance(s, Block) else _op_name(s)
                    node = s.concat if isinstance(s, Block) else s
                    sev = "error"
                    if not isinstance(s, Block) and s.op == "act" and s.a("fn") == "relu":
                        sev = "info"
                    by_fn = no_branches if no_branches is not None and node.source in self.fn_sources else None
                    if extra_run is not None and by_fn is None:
                        # blocks one after another that the paper does not have: one mistake, counted
                        extra_run.args["count"] = extra_run.args.get("count", 1) + 1
                        extra_run.template = M_EXTRA_BLOCKS
                        d.add("layer_extra", sev, loc, M_EXTRA, {"layer": what}, None, what, node=node,
                              order=order + 0.5, caused_by=extra_run)
                        continue
                    f = d.add("layer_extra", sev, loc, M_EXTRA, {"layer": what}, None, what, node=node,
                              order=order + 0.5, caused_by=by_fn)
                    if isinstance(s, Block):
                        extra_run = f

    def _prev_ref_id(self, r):
        sp = self.R.spine
        for i, x in enumerate(sp):
            if x is r and i > 0:
                return sp[i - 1].id
        return None

    def _near_source(self, r):
        if r is None:
            return None
        s = self.block_match.get(r.id) if isinstance(r, Block) else self.match.get(r.id)
        if s is None:
            return None
        return (s.concat if isinstance(s, Block) else s).source

    def _loc(self, r) -> str:
        return self.d.names.loc(r)

    # -- degenerate structure: where the network stops ---------------------------------
    def _truncation(self):
        """A complete network whose body ends early (a stem and a head, or the
        blocks up to 3b and then the head) is one fault: it stops at a place,
        and all that is missing after it follows from that."""
        d = self.d
        if self.S.graph.partial or not self.R.blocks:
            return
        last_block = max(i for i, it in enumerate(self.R.spine) if isinstance(it, Block))
        body = {id(it) for it in self.R.spine[: last_block + 1]}
        last_matched, run = None, []
        for r, s in self.pairs:
            if r is None or id(r) not in body:
                continue
            if s is not None:
                last_matched, run = r, []
            else:
                run.append(r)
        if last_matched is None or len(run) < 2 or not any(isinstance(r, Block) for r in run):
            return
        locs = [self._loc(r) for r in run]
        gone = set(locs) | {self.d.names.aux_names[k] for k, a in enumerate(self.R.aux)
                            if id(self.R.spine[a.attach]) in {id(r) for r in run}}
        at = [f for f in d.findings if f.location in gone and f.code in ("layer_missing", "norm_type", "aux_missing")]
        if any(f.caused_by is not None for f in at):
            return  # already explained (an inception function without branches)
        order = min((f.order for f in at), default=50)
        root = d.add("layer_missing", "error", locs[0], M_STOPS,
                     {"after": self._loc(last_matched), "missing": _summarise(locs)}, _summarise(locs), None,
                     source=self._near_source(last_matched), order=order - 0.01)
        for f in at:
            f.caused_by = root

    def _merge_missing(self):
        """None of the blocks of a kind is there, and their layers are: the student
        never merged (a DenseNet without its concatenations, a ResNet without its
        additions). One root at the block function's merge; every block missing and
        every layer standing in a plain chain instead follows from it."""
        d, names = self.d, self.d.names
        for kind in dict.fromkeys(names.kind(b) for b in self.R.blocks):
            blocks = [b for b in self.R.blocks if names.kind(b) == kind]
            if len(blocks) < 2 or any(b.id in self.block_match for b in blocks):
                continue
            locs = {names.bloc(b) for b in blocks}
            missing = [f for f in d.findings if f.caused_by is None and f.code == "layer_missing" and f.location in locs]
            extra = [f for f in d.findings if f.caused_by is None and f.code == "layer_extra" and f.node is not None
                     and f.node.op in ("conv", "norm", "act")]
            extra_layers = sum(1 + sum(1 for g in d.findings if g.caused_by is f) for f in extra)
            if len(missing) < len(blocks) or extra_layers < len(blocks):
                continue
            rb = blocks[0]
            merge = "Concatenate" if rb.concat.op == "concat" else "Add"
            root = d.add("layer_missing", "error", f"{kind}/{names.merge_role(rb)}", M_MERGE_MISSING,
                         {"layer": d.arch.block_word, "merge": merge}, merge, None,
                         node=extra[0].node if extra else None, order=min(f.order for f in missing) - 0.01)
            for f in missing + extra:
                f.caused_by = root

    def _missing_groups(self):
        """Three or more layers missing together that make one named piece of the
        network (a transition's pool3_bn, pool3_relu, pool3_conv, pool3_pool) are that
        piece missing: one root at its name (pool3)."""
        d, names = self.d, self.d.names
        spine = [it for it in self.R.spine if not isinstance(it, Block) and it.op != "input"]
        groups: dict = {}
        for it in spine:
            loc = names.loc(it)
            cut = max(loc.rfind("/"), loc.rfind("_"))
            if cut > 0:
                groups.setdefault(loc[:cut], []).append(loc)
        missing = {f.location: f for f in d.findings if f.code in ("layer_missing", "norm_type") and f.actual in (None, "none")}
        for prefix, locs in groups.items():
            if len(locs) < 3 or not all(l in missing for l in locs) or not any(missing[l].caused_by is None for l in locs):
                continue
            if any(missing[l].caused_by is not None and missing[l].caused_by.location not in locs for l in locs):
                continue  # already explained by something else
            first = missing[locs[0]]
            root = d.add("layer_missing", "error", prefix, M_GROUP_MISSING, {"layers": ", ".join(locs)},
                         ", ".join(locs), None, source=first.source, order=first.order - 0.01)
            for l in locs:
                missing[l].caused_by = root

    # -- one root per line of the student's code -----------------------------------------
    def _helper_roots(self):
        """The same mistake made by one line of code that ran several times (a
        helper called for both auxiliary heads, a conv_bn helper, a loop) is
        one root, at its first place, with a consequence at each other place."""
        d = self.d
        data = ("filters", "units")  # values passed in by the caller: each is its own mistake
        groups: dict = {}
        for f in d.findings:
            if (f.caused_by is None and f.severity in ("error", "warning") and f.code != "norm_type"
                    and f.node is not None and f.node.source is not None
                    and f.code in SHAPE_CODES | {"activation", "dropout_rate", "pool_type"} and f.code not in data
                    and f.code not in ("layer_missing", "aux_missing", "output_count", "input_shape")):
                # a layer's settings are written where it is created (a factory
                # like `Conv(f, k)` returns it to be called elsewhere)
                made = f.node.ctor or f.node.source
                groups.setdefault((f.code, _hashable(f.expected), _hashable(f.actual), made), []).append(f)
            elif (f.caused_by is None and f.severity == "error" and f.code in data and f.node is not None
                  and isinstance(f.expected, int) and isinstance(f.actual, int) and f.expected > 0
                  and not self.d.names.is_function_loc(f.location)):
                # counts a helper computes from its arguments (a transition's theta * m),
                # wrong by the same factor wherever it is called: its arithmetic
                made = f.node.ctor or f.node.source
                groups.setdefault((f.code, "ratio", round(f.actual / f.expected, 6), made), []).append(f)
        for (code, _e, _a, src), fs in groups.items():
            if len(fs) < 2:
                continue
            fs.sort(key=lambda f: f.order)
            root, rest = fs[0], fs[1:]
            merged = {id(f) for f in rest}
            for f in d.findings:
                if f.caused_by is not None and id(f.caused_by) in merged:
                    f.caused_by = root
            for f in rest:
                f.caused_by = root
            fn = self.d.function_of(src) if self.d.function_of else None
            # the network's layers it made wrong: the places merged here, and the
            # blocks' layers of a merged fault of the inception function
            places = [f.location for f in d.findings if f.code == code and (f is root or f.caused_by is root)
                      and not self.d.names.is_function_loc(f.location)]
            args = dict(root.args)
            args.update(fault=root.message, fault_template=root.template, function=fn or "", line=src[1],
                        count=len(places), locations=_first(places, 6))
            root.template = M_IN_FUNCTION if fn else M_IN_LOOP
            root.args = args
            root.source = src  # where the fix goes

    # -- what the submission has, element by element, for the rubric ---------------
    def _elements(self):
        """Every reference element the rubric credits, with whether the
        submission has it (see grader/score.py for how they are counted)."""
        from .score import Element

        R, d, names = self.R, self.d, self.d.names
        part = d.parts.part
        E = []
        allowed = {f.location for f in d.findings if f.code == "norm_type" and f.severity != "error"}
        for i, it in enumerate(R.spine):
            if isinstance(it, Block) or it.op == "input" or it.op in SKIPPABLE:
                continue
            role = d.parts.stage[it.id]
            if role not in part:
                continue
            loc = names.loc(it)
            # a normalization left out where the assignment allows it counts, if
            # what it would normalize is there
            present = it.id in self.match or (it.op == "norm" and loc in allowed and i > 0
                                              and R.spine[i - 1].id in self.match)
            E.append(Element(part[role], loc, it.op, present))
        for rb in R.blocks:
            bloc, kind = names.bloc(rb), names.kind(rb)
            sb = self.block_match.get(rb.id)
            for role in ("layout", "config"):
                if role in part:
                    E.append(Element(part[role], bloc, "block", sb is not None, block_kind=kind))
            if "module" in part:
                for r, rn in names.inner(rb):
                    present = sb is not None and (rn is rb.concat or rn.id in self.match
                                                  or (rn in rb.tail and bool(sb.tail)))
                    E.append(Element(part["module"], names.loc(rn), r, present, bloc, role=r, block_kind=kind))
        if "aux" in part:
            optional_absent = d.A.aux == "optional" and not self.S.aux
            for k, ra in enumerate(R.aux if d.A.aux != "forbidden" else []):
                for rn in ra.nodes:
                    if rn.op not in SKIPPABLE:  # a Flatten before the fc is a matter of style
                        E.append(Element(part["aux"], names.loc(rn), rn.op, optional_absent or rn.id in self.match,
                                         names.aux_names[k]))
        if "params" in part:
            E.append(Element(part["params"], "total", "params", not self.S.graph.partial))
        if "returns" in part and self.count_ok is not None and d.A.task:
            # a block function that returns its new filter count, and returns the right one
            E.append(Element(part["returns"], "return", "returns", self.count_ok))
        self.elements = E

    def _derived(self):
        """A layer whose filters follow from its input's channels (a transition's
        theta * m) and follows the rule on the input it has is right: a different
        count there comes from the fault that changed the channels before it."""
        d = self.d
        own: dict = {}
        for f in sorted(d.findings, key=lambda f: f.order):
            if f.caused_by is not None or f.code != "filters" or f.node is None:
                continue
            ref = next((r for r, s in self.pairs if s is f.node and r is not None and not isinstance(r, Block)), None)
            derived = d.arch.derived_filters(ref, d.A) if ref is not None else None
            ch = f.node.in_shape[-1] if f.node.in_shape else None
            if derived is None or not ch:
                continue
            rule, words = derived
            if f.node.a("filters") == rule(ch):
                f.caused_by = self._shape_cause(f.location) or self.count_root
            else:
                # the rule itself is wrong (theta = 1 for 0.5): the same ratio wherever
                # the line that computes it runs is one mistake, at its first place
                key = (round(f.node.a("filters") / ch, 3), f.node.ctor or f.node.source)
                first = own.setdefault(key, f)
                if first is not f:
                    f.caused_by = first
                else:
                    f.template = M_DERIVED
                    f.args.update(channels=ch, rule=words, given=rule(ch))

    def _counted_from(self):
        """A block function that returns a wrong filter count makes every filter
        count computed from it afterwards wrong (a transition's θm): consequences."""
        root = self.count_root
        if root is None or not root.location.endswith("/return"):
            return
        start = self.d.names.first_of_kind(root.location.split("/", 1)[0])
        if start is None:
            return
        for f in self.d.findings:
            if f.caused_by is None and f.code == "filters" and f is not root and self._position(f.location) > start:
                f.caused_by = root

    def _returned_count(self, kind, returned, args, location, probe, source=None):
        """A block function that returns its new filter count must return the right one."""
        d = self.d
        want = d.arch.expected_count(kind, args) if kind and args is not None else None
        if want is None:
            return
        got = next(iter(returned or []), None)
        self.count_ok = got == want
        if got != want:
            self.count_root = d.add("return_value", "error", location, M_RETURNED, {"function": kind}, want,
                                    "nothing" if got is None else got, source=source, order=100 if probe else 99)

    # -- the inception function, seen alone --------------------------------------------
    def _probe(self, probe, pg: Graph | None):
        """Function-level roots from the probe: {(code, role): F}."""
        d = self.d
        roots: dict = {}
        if not probe or pg is None or not self.R.blocks:
            return roots
        args = probe.get("arguments") or {}
        val_to_arg = d.arch.named_values(probe)
        kind = probe.get("block_kind") or (d.arch.function_kinds or ("block",))[0]
        at = self.d.names.first_of_kind(kind)
        if at is None:
            return roots
        rb = self.R.spine[at]
        mrole = self.d.names.merge_role(rb)
        ps = structure(pg, d.arch.merge_ops)
        self.fn_sources = {n.source for n in pg.nodes.values() if n.source is not None}
        if not ps.blocks:
            built = [n for n in pg.nodes.values() if n.op not in ("input", "pass")]
            if built and not probe.get("error"):
                desc = ("a single " + _layer_desc(built[0])) if len(built) == 1 else " -> ".join(_layer_desc(n) for n in built[:5])
                f = d.add("branch_missing", "error", f"{kind}/{mrole}", d.arch.message("no_branches", M_NO_BRANCHES),
                          {"kind": kind}, f"{len(rb.branches)} branches", desc, node=built[0], order=100)
                roots[(kind, "no_branches", "output")] = f
            return roots
        pb = ps.blocks[-1]
        rb = self._probe_reference(kind, pb) or rb
        mrole = self.d.names.merge_role(rb)
        rroles = self.d.names.roles(rb)
        expected_value = d.arch.probe_expectations(probe)

        def cost(ri, si):
            if si is None:
                return 5.0
            rbr = rroles[ri]
            sbr = pb.branches[si]
            c = 0.0
            pairs = align([n for _, n in rbr], sbr, self.d.node_cost, lambda x: 2.0, lambda x: 2.0)
            for rn, sn in pairs:
                if rn is None or sn is None:
                    c += 2.0
                    continue
                if rn.op != sn.op:
                    c += 3.0
                    continue
                if rn.op == "conv":
                    role = dict((id(n), ro) for ro, n in rbr)[id(rn)]
                    if sn.a("filters") != expected_value.get(role):
                        c += 0.4
                    if sn.a("kernel") != rn.a("kernel"):
                        c += 0.6
            return c

        assign = match_branches(rroles, pb.branches, cost)
        order_base = 100
        for ri, si in enumerate(assign):
            rbr = rroles[ri]
            if si is None:
                f = d.add("branch_missing", "error", f"{kind}/{rbr[-1][0]}", M_BRANCH_MISSING,
                          {"layer": rbr[-1][0]}, rbr[-1][0], None, source=pb.concat.source, order=order_base)
                roots[(kind, "branch_missing", rbr[-1][0])] = f
                continue
            sbr = pb.branches[si]
            pairs = align([n for _, n in rbr], sbr, self.d.node_cost, lambda x: 2.0, lambda x: 1.0 if x.op in ("act", "norm") else 2.0)
            role_of = {id(n): ro for ro, n in rbr}
            for rn, sn in pairs:
                if rn is None:
                    continue
                role = role_of[id(rn)]
                loc = f"{kind}/{role}"
                if sn is None:
                    f = d.add("layer_missing", "error", loc, M_MISSING, {"layer": role}, role, None,
                              source=pb.concat.source, order=order_base)
                    roots[(kind, "layer_missing", role)] = f
                    continue
                diffs = [c for c in self.d.cmp(rn, sn) if c[0] != "filters"]
                if rn.op == "conv" and sn.op == "conv" and role in expected_value and sn.a("filters") != expected_value[role]:
                    diffs.append(("filters", "error", M_FILTERS, {}, expected_value[role], sn.a("filters")))
                for code, sev, tmpl, a, exp, act in diffs:
                    if code == "filters":
                        want = d.arch.argument_of(role, probe)
                        got = val_to_arg.get(act)
                        if got == want:
                            continue
                        if got is None:
                            if act == probe.get("input_channels"):
                                got = "the input's channel count"
                            f = d.add("argument_misuse", "error", loc, M_ARG_HARDCODED, {"layer": role}, want,
                                      act if got is None else got, node=sn, order=order_base)
                        else:
                            f = d.add("argument_misuse", "error", loc, M_ARGUMENT, {"layer": role}, want, got,
                                      node=sn, order=order_base)
                        roots[(kind, "filters", role)] = f
                        continue
                    if code == "padding":
                        a = {"detail": "a smaller map than the other branches"}
                    if code == "strides":
                        a = {"detail": "the branch's map no longer matches the others"}
                    at_role = role
                    if a.get("at"):
                        _, at_role, a = self._folded(self.d.names.bloc(rb), role, a)
                    f = d.add(code, sev, f"{kind}/{at_role}", tmpl, a, exp, act, node=sn, order=order_base)
                    roots[(kind, code, at_role)] = f
            order_base += 1
        # the branches' order in the concatenation
        perm = [si for si in assign]
        if None not in perm and perm != sorted(perm) and rb.concat.op == "concat":
            names = {si: rroles[ri][-1][0] for ri, si in enumerate(assign)}
            actual = [names[i] for i in range(len(pb.branches)) if i in names]
            f = d.add("branch_order", d.subs.get("concat_order", "info"), f"{kind}/{mrole}", M_ORDER, {},
                      ", ".join(r[-1][0] for r in rroles), ", ".join(actual), node=pb.concat, order=order_base)
            roots[(kind, "branch_order", mrole)] = f
        for code, sev, tmpl, a, exp, act in self.d.cmp(rb.concat, pb.concat):
            f = d.add(code, sev, f"{kind}/{mrole}", tmpl, a, exp, act, node=pb.concat, order=order_base)
            roots[(kind, code, mrole)] = f
        for extra in [pb.branches[i] for i in range(len(pb.branches)) if i not in assign]:
            f = d.add("branch_extra", "error", f"{kind}/{mrole}", M_BRANCH_EXTRA, {}, None,
                      " -> ".join(_op_name(n) for n in extra), node=extra[0] if extra else pb.concat, order=order_base)
            roots[(kind, "branch_extra", mrole)] = f
        # arguments never used
        used = {n.a("filters") for n in pg.nodes.values() if n.op in ("conv", "dense")}
        role_of_arg = {d.arch.argument_of(r, probe): r for r in expected_value}
        for a, v in args.items():
            if v not in used and a in role_of_arg:
                role = role_of_arg[a]
                cause = roots.get((kind, "filters", role))
                if cause is None:
                    cause = next((f for (_, c, r), f in roots.items() if c == "filters"), None)
                d.add("argument_unused", "warning" if cause is None else "error", f"{kind}/{role}", M_UNUSED,
                      {"argument": a}, a, None, source=pb.concat.source, caused_by=cause, order=order_base)
        self.probe_row = self._block_row(kind, rb, pb, assign, rroles, args=(val_to_arg, expected_value))
        return roots

    def _probe_reference(self, kind: str, pb: Block):
        """The reference block of ``kind`` the probe is most like apart from filter
        counts (a projection block called with stride 2 is conv3_block1, not conv2_block1)."""
        names = self.d.names
        best, best_cost = None, None
        for rb in self.R.blocks:
            if names.kind(rb) != kind:
                continue
            def pairs(ri, si):
                return align(rb.branches[ri], pb.branches[si], self.d.node_cost, lambda x: 2.0, lambda x: 2.0)

            def cost(ri, si):
                if si is None:
                    return 2.0 * max(1, len(rb.branches[ri]))
                return sum(len([c for c in self.d.cmp(r, s) if c[0] != "filters"]) if r is not None and s is not None
                           else 1 for r, s in pairs(ri, si))

            assign = match_branches(rb.branches, pb.branches, cost)
            cost = sum(cost(ri, si) for ri, si in enumerate(assign))
            if best_cost is None or cost < best_cost:
                best, best_cost = rb, cost
        return best

    # -- the nine blocks -------------------------------------------------------------------
    def _blocks(self, fn_roots: dict):
        d, names = self.d, self.d.names
        matched = [(rb, self.block_match[rb.id]) for rb in self.R.blocks if rb.id in self.block_match]
        cands = []
        self.loc_of_role = {(names.bloc(rb), r): names.loc(n) for rb in self.R.blocks for r, n in names.inner(rb)}
        self.branch_len = {(names.bloc(rb), r): len(br) for rb in self.R.blocks for br in names.roles(rb) for r, _ in br}
        for rb, sb in matched:
            bloc = names.bloc(rb)
            rroles = names.roles(rb)
            mrole = names.merge_role(rb)
            before = len(cands)

            def cost(ri, si, rroles=rroles, sb=sb):
                if si is None:
                    return 5.0
                pairs = align([n for _, n in rroles[ri]], sb.branches[si], self.d.node_cost, lambda x: 2.0,
                              lambda x: 1.0 if x.op in ("act", "norm") else 2.0)
                return sum(self.d.node_cost(a, b) if a is not None and b is not None else 2.0 for a, b in pairs)

            assign = match_branches(rroles, sb.branches, cost)
            self.block_rows.append(self._block_row(bloc, rb, sb, assign, rroles))
            rfilters = self.d.columns(rb)
            for ri, si in enumerate(assign):
                rbr = rroles[ri]
                if si is None:
                    if rbr:
                        cands.append((bloc, "branch_missing", rbr[-1][0], None, dict(layer=rbr[-1][0]), rbr[-1][0], None, sb.concat, M_BRANCH_MISSING, "error"))
                    continue
                pairs = align([n for _, n in rbr], sb.branches[si], self.d.node_cost, lambda x: 2.0,
                              lambda x: 1.0 if x.op in ("act", "norm") else 2.0)
                cands += self._layer_cands(bloc, rbr, pairs, rfilters, rbr[-1][0] if rbr else mrole, sb.concat)
            # what comes after the merge (a residual block's activation)
            if rb.tail or sb.tail:
                tail_roles = [(names.role(n, rb), n) for n in rb.tail]
                pairs = align(list(rb.tail), list(sb.tail), self.d.node_cost, lambda x: 2.0, lambda x: 2.0)
                cands += self._layer_cands(bloc, tail_roles, pairs, rfilters, mrole, sb.concat)
            perm = list(assign)
            if None not in perm and perm != sorted(perm) and rb.concat.op == "concat":  # an addition has no order
                named = {si: rroles[ri][-1][0] for ri, si in enumerate(assign) if rroles[ri]}
                actual = ", ".join(named[i] for i in range(len(sb.branches)) if i in named)
                cands.append((bloc, "branch_order", mrole, actual, {}, ", ".join(r[-1][0] for r in rroles if r), actual,
                              sb.concat, M_ORDER, d.subs.get("concat_order", "info")))
            for code, sev, tmpl, a, exp, act in self.d.cmp(rb.concat, sb.concat):
                cands.append((bloc, code, mrole, act, a, exp, act, sb.concat, tmpl, sev))
            cands[before:] = d.arch.block_faults(names.kind(rb), bloc, cands[before:], sb)
        n_blocks: dict = {}
        for rb, _ in matched:
            n_blocks[names.kind(rb)] = n_blocks.get(names.kind(rb), 0) + 1
        groups: dict = {}
        for c in cands:
            groups.setdefault((names.kind(names.block_of(c[0])), c[1], c[2], _hashable(c[3])), []).append(c)
        handled = set()
        # explained by a function-level root from the probe
        for key, items in groups.items():
            kind, code, role, _ = key
            root = fn_roots.get((kind, code, role))
            if root is None:
                continue
            for c in items:
                self._consequence_of(root, c)
            handled.add(key)
        # the same fault in every block of a kind: one root for the function
        for key, items in groups.items():
            if key in handled:
                continue
            kind, code, role, k = key
            blocks_hit = {c[0] for c in items}
            # (a block-function task grades the function: its one block is all its calls)
            if (n_blocks.get(kind, 0) >= 2 or (d.A.task and n_blocks.get(kind))) and len(blocks_hit) == n_blocks[kind]:
                first = items[0]
                loc = f"{kind}/{role}"
                if code == "filters" and isinstance(k, tuple) and k[0] == "column":
                    root = d.add("argument_misuse", "error", loc, M_ARGUMENT, {"layer": role},
                                 d.arch.column_title(role), d.arch.column_title(k[1]), node=first[7], order=90)
                else:
                    root = d.add(code, first[9], loc, first[8], dict(first[4]), first[5], first[6], node=first[7], order=90)
                for c in items:
                    self._consequence_of(root, c)
                handled.add(key)
        # the rest: faults of one block, shown at the line that makes this block
        # differ from the others (the call of the inception function for 4d); the same
        # wrong filter count given to several layers (a stage's filters in a table, the
        # shortcut's count that is the last 1x1's) is one mistake, at its first place
        rest = [c for key, items in groups.items() if key not in handled for c in items]
        # in network order, and in a block its main path before its shortcut
        rest.sort(key=lambda c: (self._block_order(c[0]), -self.branch_len.get((c[0], c[2]), 0)))
        given: dict = {}
        for c in rest:
            bloc, code, role, k, a, exp, act, sn, tmpl, sev = c
            # one wrong value given to several layers: filters anywhere, a stride in one block
            same = (code, _hashable(exp), _hashable(act)) + (() if code == "filters" else (bloc,))
            if code in ("filters", "strides") and same in given:
                self._consequence_of(given[same], c)
                continue
            kind = names.kind(names.block_of(bloc))
            src = _distinguishing_frame(sn, [self.match.get(rn.id) for rb2 in self.R.blocks if names.kind(rb2) == kind
                                             for r2, rn in names.inner(rb2) if r2 == role])
            args = dict(a)
            if code == "filters" and isinstance(k, tuple) and k[0] == "column":
                tmpl = M_SLIP_COLUMN
                args.update(column=d.arch.column_title(k[1]), layer=role)
            elif code == "filters" and is_typo(act, exp):
                tmpl = M_TYPO
            f = d.add(code, sev, self._block_loc(bloc, role), tmpl, args, exp, act, node=sn, source=src,
                      order=self._block_order(bloc))
            if code in ("filters", "strides"):
                given[same] = f

    def _layer_cands(self, bloc, rbr, pairs, rfilters, extra_role, anchor) -> list:
        """Differences between the layers of one reference branch and the student's."""
        out = []
        role_of = {id(n): ro for ro, n in rbr}
        style_norms = self.d.arch.norms_are_style
        for rn, sn in pairs:
            if rn is None:
                if sn is not None and not (style_norms and sn.op == "norm" and sn.a("norm") == "batchnorm"):
                    out.append((bloc, "layer_extra", extra_role, _op_name(sn), dict(layer=_op_name(sn)), None, _op_name(sn), sn, M_EXTRA, "error"))
                continue
            role = role_of[id(rn)]
            if sn is None:
                out.append((bloc, "layer_missing", role, None, dict(layer=role), role, None, anchor, M_MISSING, "error"))
                continue
            self.match[rn.id] = sn
            for code, sev, tmpl, a, exp, act in self.d.cmp(rn, sn):
                if a.get("at"):
                    at, role_here, a = self._folded(bloc, role, a)
                    self.loc_of_role[(bloc, role_here)] = at
                    out.append((bloc, code, role_here, act, a, exp, act, sn, tmpl, sev))
                    continue
                key = act
                if code == "filters":
                    cols = [c for c in rfilters if rfilters[c] == act and c != role]
                    key = ("column", cols[0]) if cols else ("value", act)
                if code == "padding":
                    a = {"detail": f"a {_shape_s(sn.out_shape)} map"}
                if code == "strides" and not a.get("detail"):
                    a = {"detail": "the block's output map and every later one change size"}
                out.append((bloc, code, role, key, a, exp, act, sn, tmpl, sev))
        return out

    def _folded(self, bloc: str, role: str, a: dict):
        """A finding about the BatchNormalization folded into a convolution (an
        ``at`` in its args) is at that BatchNormalization: (its location, its own
        role in the block (0_bn), the args without ``at``)."""
        at = self.d.arch.display_name(a["at"])
        return at, (at[len(bloc):].lstrip("/_") if at.startswith(bloc) else role), {k: v for k, v in a.items() if k != "at"}

    def _block_loc(self, bloc: str, role: str) -> str:
        return self.loc_of_role.get((bloc, role), f"{bloc}/{role}")

    def _block_order(self, bloc):
        for i, (r, s) in enumerate(self.pairs):
            if isinstance(r, Block) and self.d.names.bloc(r) == bloc:
                return i + 1.5
        return 50

    def _consequence_of(self, root: F, c):
        bloc, code, role, k, a, exp, act, sn, tmpl, sev = c
        args = dict(a)
        if code == "filters" and isinstance(k, tuple) and k[0] == "column":
            tmpl = M_FILTERS
        self.d.add(code, sev, self._block_loc(bloc, role), tmpl, args, exp, act, node=sn, caused_by=root,
                   order=self._block_order(bloc))

    def _block_row(self, loc, rb: Block, sb: Block, assign, rroles, args=None):
        exp = self.d.columns(rb)
        act = self.d.columns(sb)
        if args is not None:
            exp = dict(args[1])
        branches = []
        for ri, si in enumerate(assign):
            if si is None:
                branches.append([])
                continue
            layers = []
            rbr = rroles[ri]
            pairs = align([n for _, n in rbr], sb.branches[si], self.d.node_cost, lambda x: 2.0, lambda x: 2.0)
            role_of = {id(n): ro for ro, n in rbr}
            for rn, sn in pairs:
                if sn is None:
                    continue
                role = role_of.get(id(rn), "extra") if rn is not None else "extra"
                ok = rn is not None and not self.d.cmp(rn, sn)
                if args is not None and sn.op == "conv" and rn is not None:
                    ok = ok or all(c[0] == "filters" for c in self.d.cmp(rn, sn))
                    ok = ok and sn.a("filters") == exp.get(role)
                layers.append(BranchLayer(
                    location=self._block_loc(loc, role), type=sn.op, kernel=_j(sn.a("kernel") or sn.a("pool_size")),
                    filters=sn.a("filters"), activation=sn.a("activation"), pool_type=sn.a("pool_type"),
                    argument=(args[0].get(sn.a("filters")) if args is not None and sn.op == "conv" else None), ok=bool(ok)))
            branches.append(layers)
        ok = all(l.ok for br in branches for l in br) and all(b for b in branches)
        return BlockRow(location=loc, expected=exp, actual=act, output_shape=_j(sb.out_shape),
                        expected_output_shape=_j(rb.out_shape), params=sb.params(), expected_params=rb.params(),
                        branches=branches, ok=ok)

    # -- auxiliary heads --------------------------------------------------------------------
    def _aux(self):
        d = self.d
        mode = d.A.aux
        s_aux = self.S.aux
        r_aux = self.R.aux if mode != "forbidden" else []
        # where each student head hangs from, in reference terms
        s_to_r = {}
        for r, s in self.pairs:
            if s is not None and r is not None:
                s_to_r[id(s)] = r
        used = set()
        reached = {id(r) for r, s in self.pairs[: self._reached()] if r is not None}
        for k, ra in enumerate(r_aux):
            lname = self.d.names.aux_names[k]
            r_attach = self.R.spine[ra.attach]
            if id(r_attach) not in reached:
                continue
            # the student head hanging nearest the expected place
            best, best_c = None, None
            for j, sa in enumerate(s_aux):
                if j in used:
                    continue
                c = abs(sa.attach - self._s_index_of(r_attach))
                if best_c is None or c < best_c:
                    best, best_c = j, c
            if best is None:
                if mode == "required":
                    d.add("aux_missing", "error", lname, M_AUX_MISSING, {}, self.d.names.loc(r_attach), None,
                          source=self._near_source(r_attach), order=60 + k)
                continue
            used.add(best)
            sa = s_aux[best]
            s_attach = self.S.spine[sa.attach]
            r_of = s_to_r.get(id(s_attach))
            exp_loc = self.d.names.loc(r_attach)
            act_loc = self.d.names.loc(r_of) if r_of is not None else "an unexpected layer"
            if r_of is not r_attach:
                # hanging from what a branchless inception function built instead of a block
                by_fn = self.no_branches if (self.no_branches is not None and not isinstance(s_attach, Block)
                                             and s_attach.source in self.fn_sources) else None
                d.add("aux_position", "error", lname, M_AUX_POS, {}, exp_loc, act_loc,
                      node=sa.nodes[0] if sa.nodes else None, order=60 + k, caused_by=by_fn)
            pairs = align(ra.nodes, sa.nodes, self.d.node_cost, lambda x: 2.0, self._gap_stu)
            for rn, sn in pairs:
                if rn is not None and sn is not None:
                    self.match[rn.id] = sn
                    for code, sev, tmpl, a, exp, act in self.d.cmp(rn, sn):
                        if code == "strides":
                            a = {"detail": "the head's map changes size"}
                        if code == "padding":
                            a = {"detail": f"a {_shape_s(sn.out_shape)} map"}
                        d.add(code, sev, self.d.names.loc(rn), tmpl, a, exp, act, node=sn, order=60 + k + 0.1)
                elif rn is not None:
                    d.add("layer_missing", "error", self.d.names.loc(rn), M_MISSING, {"layer": _layer_desc(rn)}, _layer_desc(rn), None,
                          source=sa.nodes[-1].source if sa.nodes else None, order=60 + k + 0.1)
                elif sn is not None and sn.op not in ("reshape",):
                    d.add("layer_extra", "error", lname, M_EXTRA, {"layer": _op_name(sn)}, None, _op_name(sn), node=sn, order=60 + k + 0.1)
        for j, sa in enumerate(s_aux):
            if j in used:
                continue
            sev = "error" if mode in ("required", "forbidden") else "warning"
            d.add("aux_extra", sev, d.arch.aux_name(j if mode != "forbidden" else 0), M_AUX_EXTRA, {}, None,
                  "auxiliary classifier", node=sa.nodes[0] if sa.nodes else None, order=70)
        if self.S.extra_outputs:
            main = self.R.graph.nodes.get(self.R.main_output) if self.R.main_output else None
            d.add("output_count", "error", self.d.names.loc(main) if main is not None else "data", M_OUTPUTS, {}, 1 + len(r_aux),
                  len(self.S.graph.outputs), order=80)

    def _s_index_of(self, r_item):
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

    # -- build failures ---------------------------------------------------------------------
    def _failure(self, error, status):
        d = self.d
        if not error or error.get("after_model"):
            return
        src = error.get("source")
        src = (src["file"], src["line"]) if src else None
        msg = f"{error.get('type', 'Error')}: {_first_line(error.get('message', ''))}"
        roots = sorted([f for f in d.findings if f.caused_by is None and f.severity == "error" and f.code != "training_skipped"],
                       key=lambda f: f.order)
        if error.get("type") in ("ResourceExhaustedError", "MemoryError"):
            d.add("memory_limit", "error", "data", M_OOM, {}, None, _first_line(error.get("message", ""))[-160:],
                  source=src, order=0.5)
            return
        cause = None
        text = error.get("message", "")
        names = self.d.names

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

    # -- consequences: shapes downstream of a root ----------------------------------------
    def _position(self, loc: str) -> float:
        """Where a location sits along the network, for "what comes before what"."""
        spine_locs = {}
        for i, it in enumerate(self.R.spine):
            spine_locs[self.d.names.loc(it)] = i
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
        return float("inf")

    def _shape_cause(self, loc: str):
        """The first divergence that changes shapes at or before ``loc``."""
        pos = self._position(loc)
        cands = [f for f in self.d.findings if f.caused_by is None and f.severity == "error" and f.code in SHAPE_CODES]
        before = [f for f in cands if self._position(f.location) <= pos]
        pool = before or cands
        return min(pool, key=lambda f: (self._position(f.location), f.order)) if pool else None

    def _consequences(self):
        d = self.d
        ordered = []
        for r, s in self.pairs:
            if r is None or s is None:
                continue
            rn = r.concat if isinstance(r, Block) else r
            sn = s.concat if isinstance(s, Block) else s
            loc = self.d.names.loc(r)
            ordered.append((loc, rn, sn))
        for ra in self.R.aux:
            for rn in ra.nodes:
                if rn.id in self.match:
                    ordered.append((self.d.names.loc(rn), rn, self.match[rn.id]))
        for loc, rn, sn in ordered:
            if rn.out_shape is None or sn.out_shape is None:
                continue
            exp, act = tuple(rn.out_shape), tuple(sn.out_shape)
            if exp == act or _dense_on_map_ok(d.A, rn, sn):
                continue
            if any(f.location == loc and f.caused_by is None for f in d.findings):
                continue
            cause = self._shape_cause(loc)
            d.add("output_shape", "error", loc, M_SHAPE, {}, _shape_s(exp), _shape_s(act), node=sn, caused_by=cause,
                  order=self._order_of(loc) + 0.01)

    def _order_of(self, loc):
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

    def _params(self):
        d = self.d
        ref_total = self.R.graph.total_params()
        g = self.S.graph
        total = g.total_params()
        if g.partial:
            return
        if total == ref_total:
            return
        if d.arch.norms_are_style:
            # what allowed substitutions add (BatchNorm/LayerNorm instead of LRN, BN after convs)
            allowance = 0
            for n in g.nodes.values():
                if n.op == "norm" and n.a("norm") in ("batchnorm", "layernorm"):
                    allowance += n.params
                if n.a("post_norm") == "batchnorm" and n.a("filters"):
                    allowance += 4 * int(n.a("filters"))
                    if not n.a("use_bias"):
                        allowance -= int(n.a("filters"))  # a BatchNorm makes the conv's bias redundant
            if total - allowance == ref_total:
                return
        elif _without_redundant_biases(g) == _without_redundant_biases(self.R.graph):
            return  # the same network, with or without the biases a BatchNorm makes redundant
        cause = self._shape_cause("total")
        d.add("params", "error", "total", M_PARAMS, {}, ref_total, total, caused_by=cause, order=99)

    # -- rows for the report ----------------------------------------------------------------------
    def _rows(self):
        rows = []
        r_nodes = [n for n in self.R.graph.nodes.values()]
        for rn in r_nodes:
            sn = self.match.get(rn.id)
            if rn.op in ("concat", "add"):  # a merge: the block it makes (a residual block's addition too)
                sb = self.block_match.get(rn.id)
                sn = sb.concat if sb is not None else None
            loc = self.d.names.loc(rn)
            rows.append(LayerRow(
                location=loc, type=_type_name(rn), output_shape=_j(sn.out_shape) if sn is not None else None,
                expected_output_shape=_j(rn.out_shape), params=sn.params if sn is not None else None,
                expected_params=rn.params, source=self.d.source_of(sn.source) if sn is not None and sn.source else None,
                config=_cfg(sn) if sn is not None else {}, expected_config=_cfg(rn)))
        self.layer_rows = rows


def _without_redundant_biases(g: Graph) -> int:
    """The parameter total without the biases of convolutions followed by a BatchNormalization."""
    return g.total_params() - sum(int(n.a("filters") or 0) for n in g.nodes.values()
                                  if n.op == "conv" and n.a("post_norm") and n.a("use_bias"))


def _distinguishing_frame(node: Node, peers: list):
    """The innermost of the student's frames at which ``node`` differs from the
    same layer of the other blocks: the call site of a shared function, else the
    layer's own line."""
    if node is None:
        return None
    stacks = [p.stack for p in peers if p is not None and p is not node and p.stack]
    for depth, frame in enumerate(node.stack):
        if stacks and all(len(st) > depth and st[depth] != frame for st in stacks):
            return frame
    return node.source


def _cfg(n: Node) -> dict:
    keep = ("kernel", "strides", "padding", "filters", "activation", "pool_type", "pool_size", "units", "rate", "norm", "axis")
    return {k: _j(v) for k, v in n.attrs.items() if k in keep and v is not None}


def _type_name(n: Node) -> str:
    return {"conv": "Conv2D", "pool": _op_name(n), "gap": "GlobalAveragePooling2D", "norm": "LRN" if n.a("norm") == "lrn" else _norm_name(n.a("norm")),
            "dropout": "Dropout", "dense": "Dense", "concat": "Concatenate", "input": "Input", "reshape": "Flatten"}.get(n.op, n.cls or n.op)


def _layer_desc(n: Node) -> str:
    if n.op == "gap":
        size = n.a("pool_size") or (n.in_shape[1:3] if n.in_shape and len(n.in_shape) == 4 and None not in n.in_shape[1:3] else None)
        return f"{_k(size)} average pooling" if size else "global average pooling"
    if n.op == "conv":
        return f"{_k(n.a('kernel'))} convolution"
    if n.op == "pool":
        return f"{_k(n.a('pool_size'))} {n.a('pool_type')} pool"
    return _type_name(n)


def _dense_on_map_ok(A: Assignment, rn: Node, sn: Node) -> bool:
    if not A.accept_dense_on_map or sn.out_shape is None or rn.out_shape is None:
        return False
    a = tuple(x for x in sn.out_shape[1:] if x != 1)
    b = tuple(x for x in rn.out_shape[1:] if x != 1)
    return a == b


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _first_line(s: str) -> str:
    """The line of an exception message that says what went wrong (Keras wraps
    the real message in 'Exception encountered when calling ...')."""
    s = _ANSI.sub("", s or "").strip()
    for line in s.splitlines():
        line = line.strip()
        if line and not line.startswith("Exception encountered when calling"):
            return line[:300]
    return s[:300]


def _first(items: list, n: int) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _summarise(locs: list) -> str:
    """Consecutive blocks of a stage in short: inception_4a, ..., inception_4e ->
    inception_4a-e; conv4_block1, ..., conv4_block6 -> conv4_block1-6."""
    def split(loc):
        m = re.match(r"^(.*?)(\d+|[a-z])$", loc)
        return (m.group(1), m.group(2)) if m else (loc, None)

    def follows(a, b):
        if a.isdigit() and b.isdigit():
            return int(b) == int(a) + 1
        return len(a) == len(b) == 1 and ord(b) == ord(a) + 1

    out, i = [], 0
    while i < len(locs):
        prefix, n = split(locs[i])
        j = i
        while n is not None and j + 1 < len(locs):
            p2, n2 = split(locs[j + 1])
            if p2 != prefix or n2 is None or not follows(split(locs[j])[1], n2):
                break
            j += 1
        if j == i:
            out.append(locs[i])
        elif j == i + 1:
            out += [locs[i], locs[j]]
        else:
            out.append(f"{locs[i]}-{split(locs[j])[1]}")
        i = j + 1
    return ", ".join(out)


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    return v
