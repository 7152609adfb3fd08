"""Table 1 of "Going Deeper with Convolutions", checked against the reference.

``table1.csv`` (next to this file) holds every row of Table 1 as printed in
the paper, with ASCII ``x`` for the multiplication sign (``7x7/2``,
``112x112x64``) and a ``name`` column giving the Caffe layer (or inception
module) the row describes.  :func:`table_rows` loads it and recomputes each
row from the reference model of :mod:`grader.architectures.googlenet`:

* output size, depth and the six filter columns, read off the model;
* params: weights only, no biases (the paper's convention), in units of
  ``K = 1024``;
* ops: multiply-adds = weights x output positions (H x W), in units of
  ``M = 10**6``.

"Consistent" means the printed figure equals the computed one within one unit
of its last printed digit (``380K``: +-1K, ``2.7K``: +-0.1K, ``54M``: +-1M).
The paper rounds loosely (3b's 379.0K is printed 380K, 4b's 438.0K 437K, 4a's
73.6M ops 73M), so a strict half-unit rule would flag plain rounding; every
real discrepancy is off by 2.75 units or more.  The rows that do not
recompute carry an explanation in the CSV's ``note`` column.

The module builds the reference model at most once (when no model is passed)
and does no other TensorFlow work: everything is read from layer shapes.
"""

from __future__ import annotations

import csv
import functools
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from grader.architectures.googlenet import build_googlenet, keras_to_caffe

__all__ = [
    "CSV_PATH",
    "COLUMNS",
    "FILTER_COLUMNS",
    "KILO",
    "MEGA",
    "TableRow",
    "figure_unit",
    "load_table",
    "matches_figure",
    "parse_figure",
    "reference_model",
    "table_rows",
]

CSV_PATH = Path(__file__).with_name("table1.csv")

#: The six filter columns of Table 1, in printed order.
FILTER_COLUMNS = ("n1x1", "n3x3_reduce", "n3x3", "n5x5_reduce", "n5x5", "pool_proj")

#: All CSV columns, in order.
COLUMNS = (
    "name",
    "type",
    "patch_size_stride",
    "output_size",
    "depth",
    *FILTER_COLUMNS,
    "params",
    "ops",
    "note",
)

#: Table 1's units: params in K = 1024 weights, ops in M = 10**6 multiply-adds.
KILO = 1024
MEGA = 10**6

# Caffe layer-name suffix of the layer whose `filters` fills each filter column.
_FILTER_SUFFIXES = dict(zip(FILTER_COLUMNS, ("1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj")))

# Rows whose output is not the layer named in the row (or `<module>/output`).
_OUTPUT_LAYER = {"prob": "loss3/classifier"}  # softmax is the classifier's activation

_FIGURE_RE = re.compile(r"^\s*(\d+(?:\.(\d+))?)\s*([KkMmGg]?)\s*$")


@dataclass(frozen=True)
class TableRow:
    """One row of Table 1: printed values and what the reference computes.

    The printed columns (``output_size``, ``depth``, filter columns,
    ``printed_params``, ``printed_ops``) are the paper's; ``computed_*`` come
    from the reference model.  ``consistent`` is ``params_consistent and
    ops_consistent``; ``structure_consistent`` says the output size, depth and
    filter columns are reproduced exactly.
    """

    name: str
    type: str
    patch_size_stride: str
    output_size: str
    depth: int
    n1x1: Optional[int]
    n3x3_reduce: Optional[int]
    n3x3: Optional[int]
    n5x5_reduce: Optional[int]
    n5x5: Optional[int]
    pool_proj: Optional[int]
    printed_params: str
    printed_ops: str
    computed_params: Optional[int]
    computed_ops: Optional[int]
    note: str
    consistent: bool
    params_consistent: bool = True
    ops_consistent: bool = True
    computed_output_size: str = ""
    computed_depth: Optional[int] = None
    computed_filters: tuple = (None,) * 6
    structure_consistent: bool = True
    layers: tuple = ()  # Caffe names of the weighted layers counted in this row

    @property
    def filters(self) -> tuple:
        """The printed filter columns as a tuple, in Table 1 order."""
        return tuple(getattr(self, column) for column in FILTER_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists instead of tuples), e.g. for JSON or pandas."""
        data = asdict(self)
        data["computed_filters"] = list(self.computed_filters)
        data["layers"] = list(self.layers)
        return data


# --------------------------------------------------------------------------
# Printed figures
# --------------------------------------------------------------------------
def _suffix_scale(suffix: str, kilo: int, mega: int) -> int:
    suffix = suffix.upper()
    return {"": 1, "K": kilo, "M": mega, "G": mega * 1000}[suffix]


def parse_figure(text: str, *, kilo: int = KILO, mega: int = MEGA) -> float:
    """Turn a printed figure into a plain number, in Table 1's units.

    ``parse_figure("2.7K") == 2.7 * 1024``, ``parse_figure("34M") == 34e6``
    (K = 1024 for the params column, M = 10**6 for the ops column; override
    with ``kilo=``/``mega=``).  Raises ``ValueError`` for an empty or
    malformed figure.
    """
    match = _FIGURE_RE.match(text or "")
    if not match:
        raise ValueError(f"not a Table 1 figure: {text!r}")
    return float(match.group(1)) * _suffix_scale(match.group(3), kilo, mega)


def figure_unit(text: str, *, kilo: int = KILO, mega: int = MEGA) -> float:
    """One unit of the last printed digit: ``"2.7K"`` -> 0.1 * 1024, ``"54M"`` -> 10**6."""
    match = _FIGURE_RE.match(text or "")
    if not match:
        raise ValueError(f"not a Table 1 figure: {text!r}")
    decimals = len(match.group(2) or "")
    return 10.0**-decimals * _suffix_scale(match.group(3), kilo, mega)


def matches_figure(computed: Optional[float], printed: str, *, kilo: int = KILO, mega: int = MEGA) -> bool:
    """Whether ``computed`` agrees with the printed figure within rounding.

    An empty printed cell matches only ``None`` (nothing to compute), and
    vice versa.  Otherwise the difference may be at most one unit of the last
    printed digit (see the module docstring for why not half a unit).
    """
    if not (printed or "").strip():
        return computed is None
    if computed is None:
        return False
    value = parse_figure(printed, kilo=kilo, mega=mega)
    unit = figure_unit(printed, kilo=kilo, mega=mega)
    return abs(computed - value) <= unit * (1 + 1e-9)


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------
def load_table(path: Optional[Path | str] = None) -> list[dict[str, str]]:
    """Read ``table1.csv`` as a list of dicts of strings (empty cells are ``""``)."""
    with open(path or CSV_PATH, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"unexpected Table 1 columns: {reader.fieldnames!r}")
        return [dict(row) for row in reader]


def _int_or_none(text: str) -> Optional[int]:
    text = (text or "").strip()
    return int(text) if text else None


# --------------------------------------------------------------------------
# Reading the model
# --------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def reference_model():
    """The reference GoogLeNet without auxiliary heads, built once per process."""
    return build_googlenet(aux=False)


def _stage(caffe_name: str) -> str:
    return caffe_name.split("/", 1)[0]


def _layer_index(model) -> dict[str, Any]:
    return {keras_to_caffe(layer.name): layer for layer in model.layers}


def _kernels(layer) -> list:
    """Weight tensors of a layer (kernels only: biases are not counted)."""
    return [w for w in layer.weights if w.name.endswith("kernel")]


def _format_shape(shape) -> str:
    dims = [int(d) for d in tuple(shape)[1:]]
    while len(dims) < 3:  # (batch, C) after global pooling / dense -> 1x1xC
        dims.insert(0, 1)
    return "x".join(str(d) for d in dims)


def _inbound_layers(layer) -> list:
    inputs = layer.input
    tensors = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    parents = []
    for tensor in tensors:
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            parents.append(history[0])
    return parents


def _depth(row_layers: dict[str, Any], output_name: Optional[str]) -> int:
    """Longest chain of weighted layers inside the row ending at its output."""
    members = {id(layer) for layer in row_layers.values()}
    memo: dict[int, int] = {}

    def depth_of(layer) -> int:
        key = id(layer)
        if key not in memo:
            below = [depth_of(p) for p in _inbound_layers(layer) if id(p) in members]
            memo[key] = (1 if _kernels(layer) else 0) + max(below, default=0)
        return memo[key]

    if output_name is None or output_name not in row_layers:
        return max((depth_of(layer) for layer in row_layers.values()), default=0)
    return depth_of(row_layers[output_name])


def _output_layer_name(name: str, index: dict[str, Any]) -> Optional[str]:
    for candidate in (_OUTPUT_LAYER.get(name), name, f"{name}/output"):
        if candidate and candidate in index:
            return candidate
    return None


def _compute_row(raw: dict[str, str], index: dict[str, Any]) -> TableRow:
    name = raw["name"]
    stage = _stage(name)
    row_layers = {n: layer for n, layer in index.items() if _stage(n) == stage}
    weighted = [(n, layer) for n, layer in row_layers.items() if _kernels(layer)]

    output_name = _output_layer_name(name, index)
    computed_output = _format_shape(index[output_name].output.shape) if output_name else ""

    if weighted:
        params = 0
        ops = 0
        for _, layer in weighted:
            positions = math.prod(int(d) for d in tuple(layer.output.shape)[1:-1])
            for kernel in _kernels(layer):
                size = math.prod(int(d) for d in kernel.shape)
                params += size
                ops += size * positions
        computed_params: Optional[int] = params
        computed_ops: Optional[int] = ops
    else:
        computed_params = computed_ops = None

    computed_filters = []
    for column in FILTER_COLUMNS:
        layer = row_layers.get(f"{stage}/{_FILTER_SUFFIXES[column]}")
        computed_filters.append(getattr(layer, "filters", None) if layer is not None else None)
    computed_filters_t = tuple(computed_filters)

    # A row without layers of its own (softmax) has depth 0 whatever its output.
    computed_depth = _depth(row_layers, output_name) if row_layers else 0

    printed_filters = tuple(_int_or_none(raw[column]) for column in FILTER_COLUMNS)
    depth = int(raw["depth"])
    params_ok = matches_figure(computed_params, raw["params"], kilo=KILO, mega=MEGA)
    ops_ok = matches_figure(computed_ops, raw["ops"], kilo=KILO, mega=MEGA)

    return TableRow(
        name=name,
        type=raw["type"],
        patch_size_stride=raw["patch_size_stride"],
        output_size=raw["output_size"],
        depth=depth,
        **dict(zip(FILTER_COLUMNS, printed_filters)),
        printed_params=raw["params"],
        printed_ops=raw["ops"],
        computed_params=computed_params,
        computed_ops=computed_ops,
        note=raw["note"],
        consistent=params_ok and ops_ok,
        params_consistent=params_ok,
        ops_consistent=ops_ok,
        computed_output_size=computed_output,
        computed_depth=computed_depth,
        computed_filters=computed_filters_t,
        structure_consistent=(
            computed_output == raw["output_size"]
            and computed_depth == depth
            and computed_filters_t == printed_filters
        ),
        layers=tuple(n for n, _ in weighted),
    )


def table_rows(model=None) -> list[TableRow]:
    """Every row of Table 1, printed and recomputed from ``model``.

    ``model`` defaults to :func:`reference_model` (built once, cached).  A
    model with auxiliary heads gives the same rows: the heads are not in
    Table 1.  The model must use the reference's Caffe layer names.
    """
    if model is None:
        model = reference_model()
    index = _layer_index(model)
    return [_compute_row(raw, index) for raw in load_table()]
