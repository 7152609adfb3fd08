"""An architecture derived from the instructor's own solution file (issue 24).

``[assignment] solution = "solution.py"`` (or ``grader check FILE --solution
SOLUTION.py``) grades any CNN against the network the solution builds: the
solution is traced in the sandbox like a submission (found by the same object
and builder rules), its canonical graph becomes the reference, and everything
the engine needs of an architecture is read off that graph, with no Python
from the instructor:

- locations are the solution's layer names (``block3_conv2``, ``fc2``), or,
  where the solution kept Keras's defaults (``conv2d_7``), names generated from
  the structure (``block3/conv2``, ``stage3/block2/b2/conv1``, ``head/fc1``);
- blocks are the merges (``Concatenate``, ``Add``) of branches from one
  tensor; in a plain chain (VGG, AlexNet), where there is none, a block is a
  run of convolutions between pools (``block3``), and the pools between them
  are the layout;
- the rubric parts come from the structure: the stem before the first block,
  the blocks (every layer of each), their configuration (filters), the
  layout (the blocks and what lies between them), the side heads, the head
  after the last block, the parameter total.

The traced graph is cached on disk by the solution's sha256 (with the
grader's, TensorFlow's and Keras's versions and the child's and graph
builder's own source), so a class is traced against it once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import replace
from pathlib import Path

from .arch import Architecture, Defaults, PartSpec
from .solution_probes import ProbeError, ProbeReading, read_probes, solution_specs

HERE = Path(__file__).resolve()

#: The parts of every solution-derived rubric (the same roles as the papers'
#: architectures; points as the default GoogLeNet assignment's).
PARTS = (
    PartSpec("stem", "Stem (before the first block)", "stem", 15),
    PartSpec("blocks", "Blocks (every layer of each)", "module", 25, "layers", "blocks"),
    PartSpec("config", "Block configuration (filters)", "config", 20, "blocks"),
    PartSpec("layout", "Network layout (blocks, pools, input)", "layout", 15, "blocks and pools"),
    PartSpec("aux", "Side heads", "aux", 10, "layers", "heads"),
    PartSpec("head", "Classifier head (after the last block)", "head", 10),
    PartSpec("params", "Parameter total", "params", 5, ""),
)

#: What an op is called in a generated name.
OP_WORD = {"conv": "conv", "pool": "pool", "norm": "bn", "act": "act", "dropout": "dropout", "dense": "fc",
           "gap": "gap", "reshape": "flatten", "concat": "concat", "add": "add"}


def snake(cls: str) -> str:
    """Keras's default layer name for a class (``MaxPooling2D`` -> ``max_pooling2d``)."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", cls.split(".")[-1])
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def is_default_name(name: str, cls: str) -> bool:
    """Whether a layer kept the name Keras gave it (``conv2d``, ``conv2d_7``,
    ``re_lu_3``): such a name says nothing about where the layer is."""
    if not name:
        return True
    base = snake(cls) if cls else ""
    if base and (name == base or re.fullmatch(re.escape(base) + r"_\d+", name)):
        return True
    # keras.ops and raw TF calls, folded activations: names like "add_3", "tf.nn.relu_2"
    return bool(re.fullmatch(r"(tf\.[\w.]+|[a-z]+(_[a-z]+)*)_\d+", name)) and not re.search(r"\d[a-z]", name)


def _prefix(locs: list) -> str:
    """What a block's layer locations share, cut at a ``/`` or ``_``."""
    p = os.path.commonprefix(locs) if locs else ""
    if len(locs) > 1 and p not in locs:
        # a prefix ends where every location goes on with a separator (s1b1 of s1b1_conv1, s1b1/add)
        if not all(loc[len(p):][:1] in ("/", "_") for loc in locs):
            cut = max(p.rfind("/"), p.rfind("_"))
            p = p[:cut] if cut > 0 else ""
    return p.rstrip("/_")


def _branch_sig(br: list) -> str:
    convs = sum(1 for n in br if n.op == "conv")
    return ("p" if any(n.op == "pool" for n in br) else "") + f"c{convs}"


def branch_keys(block) -> list:
    """A structural key per branch of a block (in merge order), the same for a
    student's block and the solution's: whether it has a pool, how many
    convolutions, and which of the equal ones it is."""
    seen: dict = {}
    out = []
    for br in block.branches:
        sig = _branch_sig(br)
        seen[sig] = seen.get(sig, 0) + 1
        out.append(sig if seen[sig] == 1 else f"{sig}#{seen[sig]}")
    return out


def structure_key(block) -> tuple:
    """What makes blocks of one kind: the merge, and the branches by structure."""
    return block.concat.op, tuple(sorted(_branch_sig(br) for br in block.branches))


def conv_runs(spine: list) -> list:
    """A plain chain's blocks: the spine indices of each run of convolutions
    (with what follows each: its normalization, activation, dropout) up to the
    next pool or other layer."""
    runs, cur = [], []
    for i, n in enumerate(spine):
        if getattr(n, "op", None) == "conv" or (cur and getattr(n, "op", None) in ("norm", "act", "dropout")):
            cur.append(i)
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return runs


class SolutionArchitecture(ProbeReading, Architecture):
    """The architecture of one traced solution graph (``bind``), or, unbound, the
    rubric's parts and defaults that an assignment file is validated against."""

    name = "solution"
    title = "the solution"
    parts = PARTS
    merge_ops = ("concat", "add")
    #: set from the solution (``_derive``): whether a BatchNormalization it has not got is style
    norms_are_style = True
    block_word = "block"

    def __init__(self, graph=None, path: str = "", sha256: str = "", title: str = "", entry: dict | None = None):
        # entry: the default assignment's [entry] (grader.assignment passes it, so that
        # this module does not import the assignment module that loads it)
        e = entry or {}
        self.entry = e
        self.defaults = Defaults(
            name=title or "Solution",
            entry_files=tuple(dict.fromkeys(["solution.py", *e.get("files", []), "vgg16.py", "network.py"])),
            objects=tuple(dict.fromkeys([*e.get("objects", []), "vgg", "vgg16", "alexnet", "resnet"])),
            builders=tuple(dict.fromkeys([*e.get("builders", []), "build", "build_network", "build_vgg16", "vgg16",
                                          "VGG16", "build_resnet", "resnet", "alexnet", "AlexNet"])),
        )
        self.graph = graph
        self.path = path
        self.sha256 = sha256
        if title:
            self.title = title
        self._loc: dict = {}
        self._kind: dict = {}
        self._kinds: list = []
        self._units: list = []
        self._stage: dict = {}
        self._titles: dict = {}
        self._aux: list = []  # the solution's side heads' locations
        self._sig_kind: dict = {}  # structure_key -> block kind
        self._role_cols: dict = {}  # block kind -> {role: column} in its first block
        self.probes = ()  # the [functions] probed (bind, from the solution's own probes)
        self._expect = {}  # block kind -> {role: filters} of the solution's function called alone
        self._drawing_cache: dict = {}  # the report's drawings of its blocks, read off the graph once
        if graph is not None:
            self._derive(graph)

    # -- what the engine asks ------------------------------------------------------------
    @property
    def function_kinds(self):
        return tuple(self._kinds)

    def source_files(self) -> list:
        return [Path(self.path)] if self.path else []

    def display_name(self, name: str) -> str:
        return name.replace("__", "/")

    def location(self, node) -> str:
        if node.op == "input":
            return "data"
        return self._loc.get(node.id) or self.display_name(node.name)

    def block_kind(self, block, roles) -> str:
        return self._kind.get(block.id) or ("add_block" if block.concat.op == "add" else "concat_block")

    def columns(self, block, roles=None) -> dict:
        """A block's filters by column: the branch's structural key and the
        convolution's place in it, so that a student's block and the solution's
        are read the same way."""
        out = {}
        for key, br in zip(branch_keys(block), block.branches):
            for j, n in enumerate([n for n in br if n.op == "conv"], 1):
                out[f"{key}.{j}"] = n.a("filters")
        return out

    #: what the messages call the reference, said of the solution
    WORDS = (("the paper's rule", "the solution's rule"), ("the paper's", "the solution's"),
             ("not the paper's", "not the solution's"), ("the paper", "the solution"), ("Table 1", "the solution"))

    def reword(self, template: str) -> str:
        for a, b in self.WORDS:
            template = template.replace(a, b)
        return template

    def templates(self) -> list:
        """Every message template a solution's findings can have: the diagnosis's,
        as reword() says them (each a msgid of its own in the catalogs)."""
        from .diagnose import messages

        return [self.reword(v) for k, v in vars(messages).items() if k.startswith("M_") and isinstance(v, str)]

    def aux_name(self, k: int) -> str:
        return self._aux[k] if k < len(self._aux) else f"aux{k + 1}"

    def column_title(self, column: str) -> str:
        return self._titles.get(column, column)

    def chain_layout(self, R):
        """A plain chain's blocks (runs of convolutions between pools) and the
        stage of every layer of the spine, or None for a network with merges."""
        if not self._units:
            return None
        return self._units, self._stage

    def table(self, assignment=None):
        return solution_table(self)

    # -- how the report draws the solution's blocks ------------------------------------------
    # what the report calls the reference, as the messages do (``reword``)
    as_expected = "as in the solution"
    expected_value = "solution: %(n)s"

    @property
    def reference_file(self) -> str:
        return Path(self.path).name if self.path else ""

    @property
    def blocks_legend(self) -> str:
        if self._units:
            return ("Each block: its convolutions in order, up to the pool that closes it, as the solution builds "
                    "them. Boxes with a dashed red outline and ✗ differ from the solution.")
        return ("Each block: the previous layer feeds its branches, whose outputs are merged (added or "
                "concatenated), as the solution builds it. Boxes with a dashed red outline and ✗ differ from "
                "the solution.")

    @property
    def drawings(self) -> tuple:
        """A drawing per block kind of the solution (its first block's), and per run of a plain chain."""
        return self._drawn()[1]

    def drawing(self, block):
        """The drawing of the solution's own block at the report block's location (its roles are
        that block's), else of the kind a block function graded alone is, else of the first kind."""
        at, kinds = self._drawn()
        by = {d.kind: d for d in kinds}
        return at.get(block.location) or by.get(block.location) or (kinds[0] if kinds else None)

    def drawn_segments(self, locations: list) -> list:
        """A plain chain's blocks (``block3``), each drawn as a chain of its layers, when the report has layers."""
        return [(loc, loc) for loc, _ in self._units] if locations else []

    def segment_layers(self, prefix: str, locations: list) -> list:
        want = set(self._segment_locs().get(prefix, ()))
        return [loc for loc in locations if loc in want]

    def _segment_locs(self) -> dict:
        if "segments" not in self._drawing_cache:
            from .solution_drawing import segment_locations

            self._drawing_cache["segments"] = segment_locations(self)
        return self._drawing_cache["segments"]

    def _drawn(self):
        if "blocks" not in self._drawing_cache:
            from .solution_drawing import block_drawings

            self._drawing_cache["blocks"] = block_drawings(self, self._segment_locs())
        return self._drawing_cache["blocks"]

    # -- reading the solution's graph --------------------------------------------------------
    def _derive(self, g):
        from .align import Block, structure

        R = structure(g, self.merge_ops)
        # a solution with BatchNormalization asks for it (a course's variant with BatchNorm);
        # one without any (VGG-16, GoogLeNet with LRN) leaves it a matter of style, as the papers' do
        self.norms_are_style = not any(n.a("post_norm") or (n.op == "norm" and n.a("norm") == "batchnorm")
                                       for n in g.nodes.values())
        used: set = set()

        def put(n, loc):
            if loc != own(n):  # a generated name never takes one the solution gave
                base, k = loc, 2
                while loc in used:
                    loc, k = f"{base}_{k}", k + 1
            used.add(loc)
            self._loc[n.id] = loc

        def own(n):
            return None if is_default_name(n.name, n.cls) else self.display_name(n.name)

        counters: dict = {}

        def gen(scope, n):
            word = OP_WORD.get(n.op, n.op)
            counters[(scope, word)] = counters.get((scope, word), 0) + 1
            return f"{scope}/{word}{counters[(scope, word)]}" if scope else f"{word}{counters[(scope, word)]}"

        for n in g.nodes.values():  # names the solution gave keep their places first
            if own(n) and n.op != "input":
                used.add(own(n))
        blocks = [i for i, it in enumerate(R.spine) if isinstance(it, Block)]
        if blocks:
            self._derive_blocks(R, blocks, own, put, gen)
        else:
            self._derive_chain(R, own, put, gen)
        for k, a in enumerate(R.aux):
            for n in a.nodes:
                if n.id not in self._loc:
                    put(n, own(n) or gen(f"aux{k + 1}", n))
            self._aux.append(_prefix([self._loc[n.id] for n in a.nodes]) or f"aux{k + 1}")
        for n in g.nodes.values():  # anything else (a layer off every path)
            if n.id not in self._loc and n.op != "input":
                put(n, own(n) or gen("other", n))

    def _derive_chain(self, R, own, put, gen):
        """Blocks of a plain chain: each run of convolutions (with what follows
        each: its normalization, activation, dropout) up to the next pool."""
        spine = R.spine
        convs = [i for i, n in enumerate(spine) if n.op == "conv"]
        if not convs:
            for n in spine:
                if n.op != "input":
                    put(n, own(n) or gen("", n))
            return
        runs = conv_runs(spine)
        first, last = runs[0][0], runs[-1][-1]
        # the pool right after the last run closes it (VGG's block5_pool), before the head
        while last + 1 < len(spine) and spine[last + 1].op == "pool":
            last += 1
        in_run = {i: k for k, run in enumerate(runs) for i in run}
        pools_after: dict = {}
        for i, n in enumerate(spine):
            if n.op == "input":
                continue
            if i in in_run:
                k = in_run[i] + 1
                put(n, own(n) or gen(f"block{k}", n))
                self._stage[n.id] = "config"
            elif i < first:
                put(n, own(n) or gen("stem", n))
                self._stage[n.id] = "stem"
            elif i <= last:
                k = max(in_run[j] for j in in_run if j < i) + 1
                pools_after[k] = pools_after.get(k, 0) + 1
                name = f"pool{k}" if pools_after[k] == 1 else f"pool{k}_{pools_after[k]}"
                put(n, own(n) or (name if n.op == "pool" else gen(f"block{k}", n)))
                self._stage[n.id] = "layout"
            else:
                put(n, own(n) or gen("", n))
                self._stage[n.id] = "head"
        for k, run in enumerate(runs, 1):
            locs = [self._loc[spine[i].id] for i in run]
            loc = _prefix(locs)
            if not loc or loc in locs or loc in self._loc.values() or loc in [u[0] for u in self._units]:
                loc = f"block{k}"
            self._units.append((loc, [spine[i].id for i in run]))

    def _derive_blocks(self, R, blocks, own, put, gen):
        """Names of a network with merge blocks: the stem, the stages of blocks
        (a stage ends where something else than a block lies between two), the head."""
        from .align import Block
        from .diagnose.naming import Naming

        spine = R.spine
        first, last = blocks[0], blocks[-1]
        stage, nblock, between = 1, 0, False
        sigs: dict = {}
        for i, it in enumerate(spine):
            if isinstance(it, Block):
                if between:
                    stage, nblock, between = stage + 1, 0, False
                nblock += 1
                scope = f"stage{stage}/block{nblock}"
                nodes = it.nodes()
                named = [own(n) for n in nodes if own(n)]
                prefix = _prefix(named) if len(named) >= 2 else ""
                # a generated name inside a named block is written as the block's names are
                sep = named[0][len(prefix):][:1] if prefix else "/"
                for b, br in enumerate(it.branches, 1):  # branches in the solution's merge order
                    for n in br:
                        if not own(n):
                            put(n, gen(f"{prefix}{sep}b{b}" if prefix else f"{scope}/b{b}", n))
                        else:
                            put(n, own(n))
                for n in [it.concat, *it.tail]:
                    word = "out" if n in it.tail else OP_WORD.get(n.op, n.op)
                    put(n, own(n) or (f"{prefix}{sep}{word}" if prefix else f"{scope}/{word}"))
                sigs.setdefault(structure_key(it), []).append(it)  # in order of first appearance
                continue
            if it.op == "input":
                continue
            if i < first:
                put(it, own(it) or gen("stem", it))
            elif i > last:
                put(it, own(it) or gen("head", it))
            else:
                between = True
                put(it, own(it) or (f"pool{stage}" if it.op == "pool" else gen(f"stage{stage}", it)))
        # block kinds: one per structure, named after what the solution's block names share
        for (op, branches), members in sigs.items():
            locs = [_prefix([self._loc[n.id] for n in b.nodes()]) for b in members]
            common = _prefix(locs) if len(locs) > 1 else ""
            # a name the solution gave its blocks (inception_3a, inception_3b: inception), never
            # one the grader generated (the stage1 of stage1/block1, stage1/block2)
            named = all(sum(1 for n in b.nodes() if own(n)) >= 2 for b in members)
            if not (named and common and common.isidentifier() and common not in self._kinds):
                empty = any(s == "c0" for s in branches)
                common = ("identity_block" if empty else "projection_block") if op == "add" else "concat_block"
                if common in self._kinds:
                    common = f"{common}{len(self._kinds) + 1}"
            self._kinds.append(common)
            for b in members:
                self._kind[b.id] = common
            self._sig_kind[(op, branches)] = common
            # column titles: the solution's role of each column's convolution, in its first block
            b = members[0]
            bloc = _prefix([self._loc[n.id] for n in b.nodes()])
            common_loc = Naming._common([self._loc[n.id] for n in b.nodes()])
            cols = self._role_cols.setdefault(common, {})
            for key, br in zip(branch_keys(b), b.branches):
                for j, n in enumerate([n for n in br if n.op == "conv"], 1):
                    self._titles.setdefault(f"{key}.{j}", self._loc[n.id][len(bloc):].lstrip("/_") or key)
                    # the role the diagnosis gives it (grader.diagnose.naming.Naming.role)
                    cols[self._loc[n.id][len(common_loc):].lstrip("/_")] = f"{key}.{j}"

    def kind_of_structure(self, block) -> str | None:
        """The solution's block kind a block (a function called alone) is one of, by structure."""
        return self._sig_kind.get(structure_key(block))

    def role_columns(self, kind: str) -> dict:
        """role -> the column (branch key and convolution) of each convolution of a block kind."""
        return dict(self._role_cols.get(kind, {}))

    def probe_columns(self, kind: str, expected: dict) -> dict:
        cols = self.role_columns(kind)
        return {cols.get(role, role): v for role, v in expected.items()}


def solution_table(arch: SolutionArchitecture):
    """The solution's own layer table (what ``grader reference`` shows where a
    paper's table would be): a row per layer, from its traced graph."""
    from .diagnose.rules import type_name
    from .reftable import Column, ReferenceTable, Total

    g = arch.graph
    cols = (Column("location", "layer"), Column("type", "type", priority=1), Column("config", "patch/stride", priority=2),
            Column("filters", "filters/\nunits", "right"), Column("output", "output size"),
            Column("params", "params", "right"))
    rows = []
    for n in g.nodes.values():
        k, s = n.a("kernel"), n.a("strides")
        conf = (f"{k[0]}x{k[1]}" if k else "") + (f"/{s[0]}" if s and k else "")
        width = n.a("filters") or n.a("units")
        rows.append({"location": arch.location(n), "type": type_name(n), "config": conf,
                     "filters": "" if width is None else str(width),
                     "output": "x".join(str(x) for x in (n.out_shape or ())[1:]), "params": f"{n.params:,}"})
    total = g.total_params()
    return ReferenceTable(title=f"{arch.title}: the solution's layers ({Path(arch.path).name})", columns=cols,
                          rows=tuple(rows), notes=tuple("" for _ in rows),
                          totals=(Total("params", "parameters", total, f"{total:,}"),),
                          caption="traced from the solution file; locations as the reports show them")


# -- tracing the solution --------------------------------------------------------------------------


class SolutionError(ValueError):
    """The solution could not be traced into a model."""


def _cache_key(sha: str, A) -> str:
    from . import check, graph, solution_probes, trace

    h = hashlib.sha256()
    for part in (check.__version__, check._version("keras"), check._version("tensorflow"), sha,
                 str(A.input_shape), str(A.num_classes), ",".join(A.objects), ",".join(A.builders),
                 json.dumps(A.builder_kwargs, sort_keys=True), json.dumps(A.functions, sort_keys=True)):
        h.update(part.encode() + b"\0")
    for f in (HERE, Path(graph.__file__), Path(solution_probes.__file__), *trace.child_files()):
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:32]


def _traced(sub, A, path, extra: dict):
    from . import trace

    res = trace.run_trace(sub, A, use_sandbox=True, timeout_s=max(120.0, A.timeout_s),
                          extra_request={"probes": [], "task": None, **extra})
    if res.status != "ok" or res.trace is None or res.trace.get("graph") is None:
        detail = res.detail or ((res.trace or {}).get("error") or {}).get("message") or res.stderr[-2000:]
        raise SolutionError(f"solution {path} builds no model ({res.status}: {detail})")
    return res.trace


def trace_solution(path: Path, A):
    """(graph, sha256, probe specs, probe results): the canonical graph of the
    solution's model, traced in the sandbox like a submission, and its block
    functions named in ``[functions]``, each called alone with the arguments
    its network passes them (``grader.solution_probes``); cached on disk by the
    solution's sha256 (``A`` gives the entry rules and the input shape a
    builder is called with)."""
    from . import check, graph, trace
    from .submission import LoadError, load

    try:
        sub = load(path, A.entry_files)
    except LoadError as e:
        raise SolutionError(f"solution {path}: {e}") from None
    key = _cache_key(sub.sha256, A)
    cached = check.cache_dir() / f"solution-{key}.json"
    try:
        doc = json.loads(cached.read_text())
        return graph.Graph.from_dict(doc["graph"]), sub.sha256, doc["specs"], doc["probes"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    functions = dict(A.functions)
    t = _traced(sub, A, path, {"record_calls": list(functions)} if functions else {})
    g = graph.build(t["graph"])
    specs, results = [], []
    if functions:
        try:
            specs = solution_specs(t.get("calls") or {}, functions, any(n.op == "add" for n in g.nodes.values()))
        except ProbeError as e:
            raise SolutionError(f"solution {path}: {e}") from None
        results = trace.probes_of(_traced(sub, A, path, {"probes": specs}))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"graph": g.to_dict(), "specs": specs, "probes": results}))
        os.replace(tmp, cached)
    except OSError:
        pass
    return g, sub.sha256, specs, results


def bind(A, solution: str | Path, *, input_shape_given: bool, classes_given: bool, parts_given: bool = False):
    """The assignment ``A`` graded against the solution file: the solution traced,
    its architecture registered under a name of its own, and, where the
    assignment file does not say them, the input shape and classes read off the
    solution's graph."""
    from .arch import register

    path = Path(solution)
    if not path.exists():
        raise SolutionError(f"solution file not found: {path}")
    g, sha, specs, results = trace_solution(path, A)
    ins = [g.nodes[i] for i in g.inputs if i in g.nodes]
    shape = tuple(ins[0].out_shape[1:]) if ins and ins[0].out_shape and len(ins[0].out_shape) == 4 else A.input_shape
    outs = [g.nodes[o].out_shape for o in g.outputs if o in g.nodes]
    classes = outs[0][-1] if outs and outs[0] and isinstance(outs[0][-1], int) else A.num_classes
    name = f"solution_{sha[:16]}"
    title = A.name if A.name != "Solution" else f"the network of {path.name}"
    arch = SolutionArchitecture(g, str(path.resolve()), sha, title, entry=getattr(A.arch, "entry", None))
    if A.functions:
        try:
            arch.probes, arch._expect = read_probes(arch, results, specs, A.functions)
        except ProbeError as e:
            raise SolutionError(f"solution {path}: {e}") from None
    register(name, arch)
    parts = A.parts if parts_given else _points(arch, g)
    # what is keyed by the assignment (the batch's cache of graded reports) covers the solution too
    key = hashlib.sha256(f"{A.sha256}\0{sha}".encode()).hexdigest()
    return replace(A, architecture=name, solution=str(path.resolve()), parts=parts, sha256=key,
                   input_shape=A.input_shape if input_shape_given else tuple(int(x) for x in shape),
                   num_classes=A.num_classes if classes_given else int(classes),
                   # no aux head the solution has not got
                   aux=A.aux if _has_aux(g, arch) else "forbidden")


def _points(arch, g) -> dict:
    """The default points, without the parts the solution has nothing for (a
    VGG has no stem before its first block, no side head), the rest scaled to 100
    in whole points: a part with no elements would be earned by anything."""
    from .align import Block, structure

    R = structure(g, arch.merge_ops)
    chain = arch.chain_layout(R)
    if chain is not None:
        stem = any(v == "stem" for v in chain[1].values())
    else:
        first = next((i for i, it in enumerate(R.spine) if isinstance(it, Block)), len(R.spine))
        stem = any(it.op != "input" for it in R.spine[:first])
    empty = {"stem": not stem, "aux": not R.aux}
    base = {p.name: (0.0 if empty.get(p.name) else p.points) for p in arch.parts}
    total = sum(base.values())
    out = {k: float(round(v * 100 / total)) for k, v in base.items()}
    big = max(out, key=out.get)
    out[big] += 100 - sum(out.values())
    return out


def _has_aux(g, arch) -> bool:
    from .align import structure

    return bool(structure(g, arch.merge_ops).aux)
