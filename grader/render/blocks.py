"""The block drawings of the HTML report, as the architecture describes its block kinds.

An architecture's ``drawings`` (``grader.arch.BlockDrawing``) name each kind's paths,
the roles on them and its merge; a report's ``Block`` has the student's branches. This
module lays one over the other: each branch is matched to the path whose roles it has
(an empty branch is the input itself where the kind has such a path: ResNet's identity
shortcut, a dense layer's input), a role the student's branch lacks is a missing box,
and the merge is drawn as the engine knows it ("add" and the ReLU after it, or
"concatenate onto the input"). Marks go only on what differs: a layer the diagnosis
found different, a role missing, a merge a finding names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..arch import BlockDrawing
from ..report import Block, BranchLayer, Finding, LayerRow

_W, _H, _GAP, _PAD, _IO_H, _ROW_GAP = 170, 70, 14, 8, 30, 20
_CHAIN_W = 136  # a transition's four layers side by side fit a column of the page


@dataclass
class Box:
    x: int
    y: int
    w: int
    h: int
    lines: list[str]
    kind: str  # conv | pool | norm | io | pass | missing
    bad: bool = False
    title: str = ""


@dataclass
class Diagram:
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)
    edges: list[tuple[int, int, int, int]] = field(default_factory=list)
    description: list[str] = field(default_factory=list)


def fit(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def kernel_text(v) -> str:
    if isinstance(v, (list, tuple)):
        return "×".join(str(x) for x in v)
    if isinstance(v, int):
        return f"{v}×{v}"
    return "" if v is None else str(v)


def role_of(location: str, block_location: str) -> str:
    """What a layer's location adds to its block's (``conv2_block1_1_conv`` -> ``1_conv``,
    ``identity_block/1_conv`` -> ``1_conv``)."""
    if location.startswith(block_location) and len(location) > len(block_location):
        return location[len(block_location) + 1:]
    return location.rsplit("/", 1)[-1]


def segment_role(location: str, prefix: str) -> str:
    """What a layer's location adds to its segment's (``pool2_conv`` -> ``conv``); a layer named
    apart (a plain chain's ``pool3`` after ``block3``) is its whole location."""
    if location.startswith(prefix) and location[len(prefix):][:1] in ("_", "/") and len(location) > len(prefix) + 1:
        return location[len(prefix) + 1:]
    return location


def _activation(name: str | None) -> str | None:
    return {"relu": "ReLU"}.get(name, name) if name else None


def _number(role: str) -> str:
    return role.split("_", 1)[0]


class Drawer:
    """Draws a block, the probe of a block function, or a chain (a transition)."""

    def __init__(self, gettext: Callable[..., str], findings: list[Finding], column_title: Callable[[str], str],
                 expected_value: str = "paper: %(n)s"):
        self._ = gettext
        self.expected_value = expected_value  # how a box says the value it should have (a msgid): the paper's, a solution's
        self.roots = [f for f in findings if f.caused_by is None and f.severity in ("error", "warning")]
        # a chain's layers show a fault repeated where an earlier one is its root (every transition's max
        # pool), but not the shapes an earlier fault changed
        self.at_layers = [f for f in findings if f.severity in ("error", "warning")
                          and f.code not in ("output_shape", "params")]
        self.column_title = column_title

    def _expected(self, value) -> str:
        """A box's "paper: 256" (or the solution's), translated."""
        tr = self._  # a msgid of the architecture's, not a literal for the catalog's extraction
        return tr(self.expected_value, n=value)

    # -- findings ---------------------------------------------------------------------
    def _finding(self, location: str, kind: str, roles: tuple) -> Finding | None:
        """A root finding of this block (or of its kind: the block function) at one of ``roles``."""
        wanted = {f"{location}/{r}" for r in roles} | {f"{location}_{r}" for r in roles} | {f"{kind}/{r}" for r in roles}
        return next((f for f in self.roots if f.location in wanted), None)

    def _related(self, location: str, kind: str, role: str) -> Finding | None:
        """A finding at the role, or at a layer folded into it (``3_bn`` for ``3_conv``): the
        block's own first (its value is this block's: 16 filters, where the block function's
        root says the argument, ``f5``), else the root of the block function."""
        for prefixes, found in (((location + "/", location + "_"), self.at_layers), ((kind + "/",), self.roots)):
            for f in found:
                for prefix in prefixes:
                    if f.location.startswith(prefix):
                        r = f.location[len(prefix):]
                        if r == role or ("_" in r and _number(r) == _number(role) and r.endswith("_bn")):
                            return f
        return None

    # -- boxes -------------------------------------------------------------------------
    def layer_box(self, layer: BranchLayer, role: str, spec: BlockDrawing, loc: str, kind: str,
                  x: int, y: int, probe: bool) -> Box:
        kernel = kernel_text(layer.kernel)
        if layer.type == "pool":
            box_kind = "pool"
            lines = [" ".join(s for s in (self._("%(type)s pool", type=layer.pool_type) if layer.pool_type
                                          else self._("pool"), kernel) if s)]
        elif layer.type == "norm":
            box_kind, lines = "norm", [self._("BatchNorm")]
        elif layer.type == "act":
            box_kind = "norm"
            lines = [_activation(layer.activation) or (self._("ReLU") if layer.ok and role.endswith("relu")
                                                       else self._("activation"))]
        elif layer.type == "conv":
            box_kind = "conv"
            lines = [" ".join(s for s in (self._("conv"), kernel) if s)]
            if layer.filters is not None:
                lines.append(self._("%(n)s filters", n=layer.filters))
            after = [self._("BN")] if role in spec.folded_norms else []
            after.append(_activation(layer.activation) or self._("no activation"))
            lines.append(" · ".join(after))
        else:
            box_kind, lines = "conv", [layer.type]
        if probe and layer.argument:
            lines.append("← " + layer.argument)
        elif not layer.ok:
            f = self._related(loc, kind, role)
            if f is not None and f.expected is not None:
                lines.append(self._expected(f.expected))
        if not layer.ok:
            lines[0] = "✗ " + lines[0]
        title = f"{layer.location}: " + ", ".join(lines)
        return Box(x, y, _W, _H, [fit(s, 22 if layer.ok else 20) for s in lines], box_kind, bad=not layer.ok,
                   title=title)

    def _missing_box(self, role: str, loc: str, kind: str, x: int, y: int) -> Box:
        lines = ["✗ " + self._("missing"), self.column_title(role)]
        f = self._related(loc, kind, role)
        if f is not None and f.expected is not None and str(f.expected) != role:
            lines.append(self._expected(f.expected))
        return Box(x, y, _W, _H, [fit(s, 20) for s in lines], "missing", bad=True,
                   title=f"{loc}: " + ", ".join(lines))

    # -- a block -------------------------------------------------------------------------
    def _columns(self, spec: BlockDrawing, b: Block) -> list:
        """(path, [(role, layer or None)]) for each column: the kind's paths, each with the
        student's branch that has most of its roles (a path without roles: an empty branch,
        else the shortest left), then any branch no path took (path None)."""
        branches = [[(role_of(l.location, b.location), l) for l in br] for br in b.branches]
        free = list(range(len(branches)))
        taken: dict[int, int] = {}
        for k, path in enumerate(spec.paths):
            if path.roles:
                overlap = {i: len({r for r, _ in branches[i]} & set(path.roles)) for i in free}
                best = max(free, key=lambda i: overlap[i], default=None)
                if best is not None and overlap[best]:
                    taken[k] = best
                    free.remove(best)
        for k, path in enumerate(spec.paths):
            if k not in taken and free and not path.roles:
                taken[k] = min(free, key=lambda i: len(branches[i]))
                free.remove(taken[k])
        for k, path in enumerate(spec.paths):
            if k not in taken and free:
                taken[k] = min(free, key=lambda i: len(branches[i]))
                free.remove(taken[k])
        cols = [(path, self._merged(path.roles, branches[taken[k]]) if k in taken else [(r, None) for r in path.roles])
                for k, path in enumerate(spec.paths)]
        return cols + [(None, branches[i]) for i in free]

    @staticmethod
    def _merged(roles: tuple, branch: list) -> list:
        """The student's layers in their order, with each role of the path they lack put where it belongs."""
        out, k = [], 0
        for role, layer in branch:
            if role in roles[k:]:
                j = roles.index(role, k)
                out += [(r, None) for r in roles[k:j]]
                k = j + 1
            out.append((role, layer))
        return out + [(r, None) for r in roles[k:]]

    def block(self, b: Block, spec: BlockDrawing, probe: bool = False) -> tuple[Diagram, bool]:
        """The drawing of a block, and whether it is as the paper has it."""
        kind = spec.kind
        cols = self._columns(spec, b)
        n = len(cols)
        rows = max([len(c) for _, c in cols] + [1])
        width = _PAD * 2 + n * _W + (n - 1) * _GAP
        d = Diagram(width=width, height=0)
        d.boxes.append(Box(_PAD, _PAD, width - 2 * _PAD, _IO_H, [self._("block input")], "io"))
        y1 = _PAD + _IO_H + _ROW_GAP
        merge_y = y1 + rows * (_H + _ROW_GAP)
        ok = True
        for i, (path, col) in enumerate(cols):
            x = _PAD + i * (_W + _GAP)
            cx = x + _W // 2
            prev_y = _PAD + _IO_H
            if not col:  # the input itself: a line, named
                label = self._(path.label) if path is not None and path.label else self._("the input")
                box = Box(x + 10, y1 + (rows - 1) * (_H + _ROW_GAP) + (_H - _IO_H) // 2, _W - 20, _IO_H,
                          [fit(label, 24)], "pass", title=f"{b.location}: {label}")
                d.boxes.append(box)
                d.description.append(label)
                d.edges += [(cx, prev_y, cx, box.y), (cx, box.y + box.h, cx, merge_y)]
                continue
            offset = rows - len(col)
            for j, (role, layer) in enumerate(col):
                y = y1 + (offset + j) * (_H + _ROW_GAP)
                if layer is None:
                    box = self._missing_box(role, b.location, kind, x, y)
                else:
                    box = self.layer_box(layer, role, spec, b.location, kind, x, y, probe)
                ok = ok and not box.bad
                if path is None or not path.roles:  # a layer where the paper's block has none
                    box.bad, ok = True, False
                    box.lines[0] = box.lines[0] if box.lines[0].startswith("✗") else "✗ " + box.lines[0]
                d.boxes.append(box)
                d.edges.append((cx, prev_y, cx, y))
                prev_y = y + _H
                d.description.append(box.title)
            d.edges.append((cx, prev_y, cx, merge_y))
        merge_bad = self._finding(b.location, kind, spec.merge_roles) if spec.merge_roles else None
        has_input = any(not p.roles for p in spec.paths)
        if spec.merge == "add":
            text = self._("add")
        elif has_input:
            text = self._("concatenate onto the input")
        else:
            text = self._("concatenate")
        if b.output_shape is not None and not spec.after_merge:
            text += " → " + "×".join("?" if v is None else str(v) for v in b.output_shape[1:])
        y = merge_y
        for step in (None, *spec.after_merge):
            label = text if step is None else self._("ReLU") if step == "relu" else self._(step)
            if step is not None and b.output_shape is not None:
                label += " → " + "×".join("?" if v is None else str(v) for v in b.output_shape[1:])
            bad = merge_bad is not None and (step is not None or merge_bad.code != "activation" or not spec.after_merge)
            if bad and step is not None and merge_bad.code == "activation" and merge_bad.expected is not None:
                label = self._expected(merge_bad.expected)
            if bad:
                label = "✗ " + label
            box = Box(_PAD, y, width - 2 * _PAD, _IO_H, [label], "io", bad=bad,
                      title=f"{b.location}: {label}" + (f" ({merge_bad.message})" if bad else ""))
            if step is not None:
                d.edges.append((width // 2, y - _ROW_GAP, width // 2, y))
            d.boxes.append(box)
            d.description.append(label)
            y += _IO_H + _ROW_GAP
        ok = ok and merge_bad is None
        d.height = y - _ROW_GAP + _PAD
        return d, ok

    # -- a chain (a transition) ------------------------------------------------------------
    def chain(self, prefix: str, spec: BlockDrawing, rows: list[LayerRow]) -> tuple[Diagram, bool]:
        """The layers ``<prefix>_<role>`` in a row, left to right, each marked where the
        diagnosis found it different (a finding at it, or its shape or parameters)."""
        roles = spec.paths[0].roles if spec.paths else ()
        by_role = {segment_role(r.location, prefix): r for r in rows}
        order = [(role, by_role.get(role)) for role in roles] + [
            (role, r) for role, r in by_role.items() if role not in roles]
        n = len(order)
        width = _PAD * 2 + n * _CHAIN_W + (n - 1) * _GAP
        d = Diagram(width=width, height=_PAD * 2 + _H)
        ok = True
        for i, (role, row) in enumerate(order):
            x = _PAD + i * (_CHAIN_W + _GAP)
            # a layer the student has not got keeps its row in the report (the reference's): drawn as missing,
            # named by what the reference has there ("1x1 convolution")
            gone = None if row is None else next((f for f in self.at_layers if f.code == "layer_missing" and f.location
                                                  in (row.location, f"{spec.kind}/{role}")), None)
            if gone is not None:
                lines = ["✗ " + self._("missing"), str(gone.expected if gone.expected is not None else role)]
                box = Box(x, _PAD, _CHAIN_W, _H, [fit(s, 18) for s in lines], "missing", bad=True,
                          title=f"{row.location}: " + ", ".join(lines))
            elif row is None:
                box = self._missing_box(role, prefix, spec.kind, x, _PAD)
                box.lines = [fit(s, 18) for s in box.lines]  # a chain's boxes are narrower
            else:
                box = self._row_box(row, role, prefix, spec, x)
            box.w = _CHAIN_W
            ok = ok and not box.bad
            d.boxes.append(box)
            d.description.append(box.title)
            if i:
                d.edges.append((x - _GAP, _PAD + _H // 2, x, _PAD + _H // 2))
        return d, ok

    def _row_box(self, row: LayerRow, role: str, prefix: str, spec: BlockDrawing, x: int) -> Box:
        cfg = row.config or {}
        if cfg.get("pool_type") or "Pool" in (row.type or ""):
            kind = "pool"
            stride = cfg.get("strides")
            s = stride[0] if isinstance(stride, (list, tuple)) and stride else stride
            lines = [" ".join(t for t in (self._("%(type)s pool", type=cfg["pool_type"]) if cfg.get("pool_type")
                                          else self._("pool"), kernel_text(cfg.get("pool_size"))) if t)
                     + (f"/{s}" if s else "")]
        elif "Conv" in (row.type or ""):
            kind = "conv"
            lines = [" ".join(t for t in (self._("conv"), kernel_text(cfg.get("kernel"))) if t)]
            if cfg.get("filters") is not None:
                lines.append(self._("%(n)s filters", n=cfg["filters"]))
            if cfg.get("activation"):  # folded into the convolution (VGG's); a transition's has none
                lines.append(_activation(cfg["activation"]))  # a line of its own: a chain's boxes are narrow
        elif "Normalization" in (row.type or ""):
            kind, lines = "norm", [self._("BatchNorm")]
        elif row.type == "Activation" or role == "relu":
            kind, lines = "norm", [cfg.get("activation") or self._("ReLU")]
        else:
            kind, lines = "conv", [row.type or role]
        f = next((f for f in self.at_layers if f.location in (row.location, f"{spec.kind}/{role}")), None)
        bad = f is not None  # not its shape: an earlier fault changes every later shape
        if f is not None and f.expected is not None:
            lines.append(self._expected(f.expected))
        if bad:
            lines[0] = "✗ " + lines[0]
        return Box(x, _PAD, _CHAIN_W, _H, [fit(s, 18) for s in lines], kind, bad=bad,
                   title=f"{row.location}: " + ", ".join(lines))
