"""What the engine knows of an architecture: one small interface.

The engine (tracing, the canonical graph, block and spine discovery,
alignment, root causes, scoring, rendering) knows graphs, merge blocks (a
``Concatenate`` or an ``Add`` of branches that start from one tensor), spines
and side heads. Everything that belongs to one architecture lives in its
package under ``grader/architectures/`` (``googlenet/``, ``resnet50/``,
``densenet121/``), whose ``arch`` module exposes ``ARCHITECTURE``, an :class:`Architecture`:

- how to build its reference in the tracing child (``reference_script``);
- its location names (read from the reference's layer names: ``location``);
- its block kinds and their roles (``block_kind``; a role is what a layer's
  location adds to its block's location: ``5x5``, ``1_conv``, ``add``);
- its rubric parts (``parts``: each has a role in the network: stem, module,
  config, layout, aux, head, params) and the block configuration it grades
  (``columns``: a block's filter counts by column);
- its block functions, as the child probes them (``probes``) and as the
  diagnosis reads the probe (``probe_expectations``, ``named_values``);
- its paper table for ``grader reference`` (``table``), its messages.

An assignment file names its architecture (``[assignment] architecture``); a
new architecture is a new package there, never a change to the engine; the
assignment files stay in the repository's ``reference/`` folder.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

#: The roles a rubric part can have; the engine credits elements by role.
PART_ROLES = ("stem", "module", "config", "layout", "aux", "head", "params", "returns")


@dataclass(frozen=True)
class PartSpec:
    """One rubric part of an architecture."""

    name: str  # its key in the assignment file's [parts]
    title: str
    role: str  # one of PART_ROLES
    points: float  # the default points
    unit: str = "layers"  # what its summary counts
    group_unit: str | None = None  # what its elements are grouped in (blocks, heads)

    def __post_init__(self):
        if self.role not in PART_ROLES:
            raise ValueError(f"part {self.name}: role {self.role!r} is not one of {PART_ROLES}")


@dataclass(frozen=True)
class ProbeSpec:
    """A block function the child calls alone, with argument values chosen so
    that each filter count names the argument it came from.

    ``signatures`` are tried in order against the function's parameters after
    the input: each is ``{"name", "args": [values...]}`` (a list value is
    passed as one tuple argument); the child names each argument after the
    student's own parameter (``filters[1]`` inside a tuple).
    """

    kind: str  # the block kind (or segment) it builds: inception, identity_block, dense_block, ...
    names: tuple  # default function / Layer class names
    input_shape: tuple  # (h, w, c) of the probe's input
    signatures: tuple  # ({"name": "six", "args": [11, 13, ...]}, ...)


@dataclass(frozen=True)
class Defaults:
    """What an assignment file of this architecture defaults to."""

    name: str
    entry_files: tuple
    objects: tuple
    builders: tuple


@dataclass(frozen=True)
class PathDrawing:
    """One path of a block, from the block's input to its merge, as the report draws it.
    A path without roles is the input itself (ResNet's identity shortcut, a dense layer's
    input): it has no layer, so the report draws it as a line, never as a missing layer."""

    label: str  # what the path is ("shortcut", "the input"); a msgid, translated by the report
    roles: tuple = ()  # the roles on it in order ("1_conv", "2_conv", "3_conv")


@dataclass(frozen=True)
class BlockDrawing:
    """How the report draws one kind of block: its paths side by side, then the merge
    (the engine knows merges: ``add`` or ``concat``); ``merge=None`` is a chain of layers
    with no merge (DenseNet's transition)."""

    kind: str  # the block kind (a ``function_kinds`` name, or a segment such as transition_layer)
    title: str  # the kind in words ("identity block"); a msgid
    paths: tuple  # PathDrawing, left to right
    merge: str | None = "concat"
    after_merge: tuple = ()  # what the block applies to the merge ("relu": ResNet's ReLU after the addition)
    folded_norms: tuple = ()  # roles whose BatchNormalization the report folds into the convolution
    merge_roles: tuple = ()  # location suffixes of the merge and what follows it; a finding there marks it


class Architecture:
    """The base of every architecture; defaults suit networks whose reference
    layers carry the location names (Keras names)."""

    name: str = ""
    title: str = ""
    parts: tuple = ()  # PartSpec, in report order
    defaults: Defaults | None = None
    #: function-level locations: faults of the student's block function are at "<kind>/<role>"
    function_kinds: tuple = ()
    #: the merges that make a block: ("concat",) (inception modules, dense layers) or ("add",) (residual blocks)
    merge_ops: tuple = ("concat",)
    #: BatchNormalization anywhere is a matter of style (GoogLeNet), or every
    #: BatchNormalization of the reference is part of the network (ResNet, DenseNet)
    norms_are_style: bool = True
    #: the code of a block function that builds no merge at all: its branches are
    #: missing (an inception function's chain) or the merge is (a residual block's Add)
    no_merge_code: str = "branch_missing"
    #: a block's filter counts are given together, at one call (ResNet's ``filters=(F1, F2, F3)``):
    #: several wrong at one call are one mistake there; when False each count is its own
    filters_given_together: bool = False
    #: words of the reports: what a block is called ("residual block conv4_block6"), the titles of its columns
    block_word: str = "block"
    column_titles: dict = {}
    messages: dict = {}
    #: how the report draws each block kind (BlockDrawing); the title of its blocks section, and its legend (msgids)
    drawings: tuple = ()
    blocks_title: str = "The blocks"
    blocks_legend: str = ("Each block: the previous layer feeds its branches, whose outputs are merged (concatenated "
                          "or added). Boxes with a dashed red outline and ✗ differ from the paper.")
    #: what the report calls the reference (msgids): a block drawn as it should be, the value a box should have
    as_expected: str = "as in the paper"
    expected_value: str = "paper: %(n)s"
    #: the file the reference is read from, named in the report's header ("" for a paper's architecture)
    reference_file: str = ""

    # -- the reference ---------------------------------------------------------------
    def reference_script(self, assignment) -> str:
        """Python code, run in the tracing child with the repository on its path,
        that builds the reference model as ``model``."""
        raise NotImplementedError

    def adjust_reference(self, graph, assignment):
        """The canonical reference graph, adjusted for the assignment's options."""
        return graph

    def source_files(self) -> list:
        """The files whose content the reference cache key covers."""
        return []

    # -- names ---------------------------------------------------------------------
    def display_name(self, name: str) -> str:
        return name

    def location(self, node) -> str:
        if node.op == "input":
            return "data"
        return self.display_name(node.name)

    def block_kind(self, block, roles: list) -> str:
        """The kind of a reference block, given its branches' roles."""
        return self.function_kinds[0] if self.function_kinds else "block"

    def columns(self, block, roles: list | None = None) -> dict:
        """The block configuration (filter counts by column) of a block: of the
        reference from its roles, of a student's block from its structure."""
        out = {}
        if roles is not None:
            for br in roles:
                for role, n in br:
                    if n.op == "conv":
                        out[role] = n.a("filters")
        return out

    def column_title(self, column: str) -> str:
        return self.column_titles.get(column, column)

    def chain_layout(self, R):
        """For a network without merge blocks whose blocks the architecture reads
        otherwise (a plain chain's runs of convolutions between pools): (units,
        stage), units a list of (block location, [reference node ids]) and stage a
        reference spine node id -> stem, config, layout or head; None: the
        engine's rule (the merge blocks)."""
        return None

    def adjust_structure(self, S):
        """The student's structure, where the architecture reads a block that the
        generic discovery cut wrongly (a residual block whose shortcut leaves from
        inside it); the default leaves it as it is."""
        return S

    def block_faults(self, kind: str, bloc: str, faults: list, block=None) -> list:
        """The differences found in one block, as the architecture explains them:
        several that are one mistake of its kind may become one. Each is a tuple
        (block, code, role, key, args, expected, actual, student node, template, severity)."""
        return faults

    def derived_filters(self, node, assignment):
        """For a reference layer whose filter count follows from its input's channels
        (DenseNet's transitions: theta * m), (that function, the rule in words); None for the others. A
        student's layer that follows the rule on its own input is right, whatever
        an earlier fault did to that input."""
        return None

    def templates(self) -> list:
        """Every message template of the architecture (for its translations)."""
        return [v for v in self.messages.values()]

    def block_name(self, location: str) -> str:
        """A block in a message ("conv4_block6 is missing")."""
        return f"{self.block_word} {location}"

    def aux_name(self, k: int) -> str:
        """The location of the k-th (0-based) auxiliary head the reference does not have."""
        return f"aux{k + 1}"

    def drawing(self, block) -> BlockDrawing | None:
        """How the report draws a block of its report (``grader.report.Block``): the drawing
        of the kind its location names (a block function called alone), else of the first kind."""
        by = {d.kind: d for d in self.drawings}
        return by.get(block.location) or (self.drawings[0] if self.drawings else None)

    def drawn_segments(self, locations: list) -> list:
        """(prefix, kind) of each chain of layers the report draws apart (a transition),
        found in the report's layer locations; none by default."""
        return []

    def segment_layers(self, prefix: str, locations: list) -> list:
        """The report's layer locations (of ``locations``) a drawn segment has: its ``<prefix>_<role>`` layers."""
        return [loc for loc in locations if loc.startswith(prefix + "_")]

    # -- block functions ------------------------------------------------------------
    probes: tuple = ()

    def probe_expectations(self, probe: dict) -> dict:
        """role -> the filter count a correct function gives it, for the probe's arguments."""
        return {}

    def named_values(self, probe: dict) -> dict:
        """value -> the argument (or expression of arguments) it stands for."""
        return {v: a for a, v in (probe.get("arguments") or {}).items() if isinstance(v, int)}

    def argument_of(self, role: str, probe: dict) -> str | None:
        """The argument a role's filters should come from."""
        return None

    def accepts_probe(self, probe: dict, blocks: list) -> bool:
        """Whether a probe (whose graph's blocks are ``blocks``) is read at all."""
        return True

    def probe_columns(self, kind: str, expected: dict) -> dict:
        """The probe's expected counts (by role) as the report's columns read a block."""
        return expected

    def expected_count(self, kind: str, args: list) -> int | None:
        """The filter count a correct block function of ``kind`` returns for the
        arguments ``args`` it was called with (after the input); None: it returns none."""
        return None

    #: options of the assignment file's [options] for this architecture: key -> type or allowed values
    options: dict = {}

    def reference_task_script(self, assignment) -> str:
        """Code building the reference of a block-function task ([task]) as ``model``."""
        raise NotImplementedError(f"{self.name} has no block-function tasks")

    # -- the paper's table -------------------------------------------------------------
    def table(self, assignment=None):
        """The paper's table: a ``grader.reftable.ReferenceTable``, or a
        ``grader.architectures.paper_table`` table that ``grader reference`` lays out."""
        return None

    def message(self, key: str, default: str) -> str:
        return self.messages.get(key, default)

    def reword(self, template: str) -> str:
        """A finding's message template as this architecture says it (what the
        reference is called: the paper, or an instructor's solution)."""
        return template


_CACHE: dict = {}


class ArchitectureError(ValueError):
    pass


def register(name: str, arch: Architecture) -> None:
    """An architecture that is no package (one derived from a solution file:
    grader/solution.py), known by ``name`` from now on in this process."""
    _CACHE[name] = arch


def get(name: str) -> Architecture:
    """The architecture of ``grader/architectures/<name>/`` (its ``ARCHITECTURE``)."""
    if name not in _CACHE:
        if not name.isidentifier():
            raise ArchitectureError(f"not an architecture name: {name!r}")
        try:
            mod = importlib.import_module(f"grader.architectures.{name}.arch")
        except ModuleNotFoundError as e:
            raise ArchitectureError(f"unknown architecture {name!r}: there is no grader/architectures/{name}/arch.py ({e})") from None
        arch = getattr(mod, "ARCHITECTURE", None)
        if not isinstance(arch, Architecture):
            raise ArchitectureError(f"grader/architectures/{name}/arch.py defines no ARCHITECTURE")
        _CACHE[name] = arch
    return _CACHE[name]
