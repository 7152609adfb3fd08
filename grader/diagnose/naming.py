"""Locations, blocks and roles of the reference (Naming), and the rubric part
each location belongs to (PartMap)."""

from __future__ import annotations

import os

from ..align import Block, Structure
from ..graph import Node
from ..report import FATAL


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
        chain = arch.chain_layout(R)
        if chain is not None:
            # a plain chain's blocks (runs of convolutions) and stages, as the architecture reads them
            units, stage = chain
            for it in R.spine:
                if it.id in stage:
                    self.stage[it.id] = stage[it.id]
                    self.where[names.loc(it)] = stage[it.id]
            for bloc, _ in units:
                self.where[bloc] = "layout"
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
