"""A paper's architecture table as plain data, printed beside computed.

The shape every architecture's ``table.py`` returns (:class:`PaperTable`), so
that one renderer (``grader reference``) can print any of them without knowing
the architecture: ``columns`` names the row fields to show, in order, with
their titles; each :class:`TableRow` holds what the paper prints (layer name,
output size, the column's content, its note) and what the reference model
computes for the same row (output size, content in the paper's notation,
parameters, multiply-adds, the Keras layers counted); ``totals`` holds the
model's totals and the paper's printed total where there is one.

Conventions (the same as ``googlenet/table1.py`` for GoogLeNet):

* parameters: everything Keras counts (weights, biases, BN's four vectors),
  so the rows add up to ``model.count_params()``;
* multiply-adds: kernel weights x output positions (H x W) of every layer
  with a kernel (convolutions and the fully connected layer); biases, BN,
  pooling and additions are not counted, as in the papers' FLOPs figures;
* printed sizes and contents use ASCII ``x`` for the multiplication sign.

Everything is read from layer shapes and configs: no TensorFlow computation.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Optional

__all__ = [
    "Column",
    "PaperTable",
    "TableRow",
    "Totals",
    "build_rows",
    "format_shape",
    "layer_mult_adds",
    "matches_scientific",
    "parse_scientific",
]


@dataclass(frozen=True)
class Column:
    """A field of :class:`TableRow` to show, and its title."""

    key: str
    title: str


@dataclass(frozen=True)
class TableRow:
    """One row of the paper's table: printed figures, then computed ones."""

    name: str  # the row's key, unique in the table ("conv2_x", "pool2_conv")
    layer_name: str  # as printed ("conv2_x", "Transition Layer (1)"); "" where the paper prints none
    output_size: str  # as printed, spatial only ("56x56")
    content: str  # the architecture column as printed, in ASCII
    computed_output_size: str  # HxWxC of the row's last layer in the reference
    computed_content: str  # the same notation, read off the reference's layers
    params: int
    mult_adds: int
    layers: tuple[str, ...]  # the reference's Keras layer names counted in this row
    note: str = ""

    @property
    def output_size_consistent(self) -> bool:
        """The printed output size is the computed one's spatial part."""
        return self.computed_output_size.rsplit("x", 1)[0] == self.output_size

    @property
    def content_consistent(self) -> bool:
        return self.computed_content == self.content

    @property
    def consistent(self) -> bool:
        return self.output_size_consistent and self.content_consistent

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["layers"] = list(self.layers)
        return data


@dataclass(frozen=True)
class Totals:
    """The reference's totals with its top, and the paper's printed total if any."""

    params: int
    mult_adds: int
    printed_mult_adds: str = ""  # e.g. ResNet's "FLOPs" row, "3.8x10^9"
    note: str = ""

    @property
    def mult_adds_consistent(self) -> Optional[bool]:
        """None when the paper prints no total; else within one unit of its last digit."""
        if not self.printed_mult_adds:
            return None
        return matches_scientific(self.mult_adds, self.printed_mult_adds)


@dataclass(frozen=True)
class PaperTable:
    title: str
    source: str  # the paper and table
    columns: tuple[Column, ...]
    rows: tuple[TableRow, ...]
    totals: Totals

    def row(self, name: str) -> TableRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no row {name!r} in {self.title}; rows: {[r.name for r in self.rows]}")


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------
_SCI_RE = re.compile(r"^\s*(\d+(?:\.(\d+))?)\s*x\s*10\^(\d+)\s*$")


def parse_scientific(text: str) -> tuple[float, float]:
    """``"3.8x10^9"`` -> (3.8e9, 1e8): the value and one unit of its last printed digit."""
    match = _SCI_RE.match(text or "")
    if not match:
        raise ValueError(f"not a figure like 3.8x10^9: {text!r}")
    exponent = int(match.group(3))
    decimals = len(match.group(2) or "")
    return float(match.group(1)) * 10.0**exponent, 10.0 ** (exponent - decimals)


def matches_scientific(computed: float, printed: str) -> bool:
    """Within one unit of the last printed digit, as ``grader.architectures.googlenet.table1.matches_figure``:
    papers truncate as often as they round (ResNet-50's 3.86x10^9 is printed 3.8x10^9)."""
    value, unit = parse_scientific(printed)
    return abs(computed - value) <= unit * (1 + 1e-9)


# --------------------------------------------------------------------------
# Reading a model
# --------------------------------------------------------------------------
def format_shape(shape) -> str:
    """(None, 56, 56, 256) -> "56x56x256"; (None, 1000) -> "1x1x1000"."""
    dims = [int(d) for d in tuple(shape)[1:]]
    while len(dims) < 3:
        dims.insert(0, 1)
    return "x".join(str(d) for d in dims)


def layer_mult_adds(layer) -> int:
    """Kernel weights x output positions; 0 for a layer without a kernel."""
    kernel = getattr(layer, "kernel", None)
    if kernel is None:
        return 0
    positions = math.prod(int(d) for d in tuple(layer.output.shape)[1:-1])
    return math.prod(int(d) for d in kernel.shape) * positions


@dataclass(frozen=True)
class _Printed:
    name: str
    layer_name: str
    output_size: str
    content: str
    note: str = ""


def build_rows(model, printed: Iterable[tuple], row_of: Callable[[str], Optional[str]],
               content_of: Callable[[str, list], str]) -> tuple[TableRow, ...]:
    """Rows from the printed ones and the model.

    ``printed``: (name, layer_name, output_size, content[, note]) tuples in
    the paper's order; ``row_of(layer_name)``: the row a Keras layer belongs
    to (None: in no row, e.g. the input); ``content_of(row name, layers)``:
    the row's content in the paper's notation, from its layers (in model
    order).  Every layer of the model with parameters must be in a row, so
    the rows add up to the model's total.
    """
    members: dict[str, list] = {}
    for layer in model.layers:
        row = row_of(layer.name)
        if row is None:
            if layer.count_params():
                raise ValueError(f"layer {layer.name!r} has parameters but belongs to no row of the table")
            continue
        members.setdefault(row, []).append(layer)
    rows = []
    for entry in printed:
        p = _Printed(*entry)
        group = members.get(p.name, [])
        if not group:
            raise ValueError(f"the model has no layers for row {p.name!r}")
        rows.append(TableRow(
            name=p.name,
            layer_name=p.layer_name,
            output_size=p.output_size,
            content=p.content,
            computed_output_size=format_shape(group[-1].output.shape),
            computed_content=content_of(p.name, group),
            params=sum(layer.count_params() for layer in group),
            mult_adds=sum(layer_mult_adds(layer) for layer in group),
            layers=tuple(layer.name for layer in group),
            note=p.note,
        ))
    unknown = set(members) - {r.name for r in rows}
    if unknown:
        raise ValueError(f"layers in rows the table does not have: {sorted(unknown)}")
    return tuple(rows)
