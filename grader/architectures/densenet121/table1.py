"""Table 1 of "Densely Connected Convolutional Networks", DenseNet-121 column.

:func:`table` returns a :class:`grader.architectures.paper_table.PaperTable`: one row per
printed line (a transition layer and the classification layer take two lines
each, with their own output sizes), each beside what the reference computes.
Table 1 prints no parameter or FLOPs figures; ``totals`` holds the computed
ones only.

The notation, in ASCII: ``7x7 conv, stride 2``, ``[1x1 conv; 3x3 conv] x6``
(the bracket's two rows separated by ``;``), ``2x2 average pool, stride 2``.
The caption's "each "conv" layer shown in the table corresponds the sequence
BN-ReLU-Conv" is why a transition's ``1x1 conv`` row counts its BN and ReLU.
"""

from __future__ import annotations

import functools
import re
from typing import Optional

from grader.architectures.densenet121.model import densenet121
from grader.architectures.paper_table import Column, PaperTable, TableRow, Totals, build_rows

__all__ = ["COLUMNS", "PRINTED_ROWS", "reference_model", "table", "table_rows"]

_BLOCK_NOTE = ("Each of the bracket's layers is BN-ReLU-Conv1x1(4k = 128)-BN-ReLU-Conv3x3(k = 32), "
               "its output concatenated onto its input; 4k and k are in Section 3, not in the table.")
_TRANSITION_NOTE = ("BN-ReLU-Conv1x1 with floor(theta m) filters, theta = 0.5 (DenseNet-BC, Section 3): "
                    "the table does not print the filter count.")

#: (name, layer name, output size, DenseNet-121 column, note), as printed.
PRINTED_ROWS = (
    ("conv1", "Convolution", "112x112", "7x7 conv, stride 2",
     "The caption makes every 'conv' BN-ReLU-Conv; for this first layer the authors' code and Keras "
     "use Conv-BN-ReLU (the reference's conv1_conv, conv1_bn, conv1_relu), and so does the reference. "
     "The course variant's BN-ReLU on the input reads the caption literally."),
    ("pool1", "Pooling", "56x56", "3x3 max pool, stride 2", ""),
    ("conv2", "Dense Block (1)", "56x56", "[1x1 conv; 3x3 conv] x6", _BLOCK_NOTE),
    ("pool2_conv", "Transition Layer (1)", "56x56", "1x1 conv", _TRANSITION_NOTE),
    ("pool2_pool", "Transition Layer (1)", "28x28", "2x2 average pool, stride 2", ""),
    ("conv3", "Dense Block (2)", "28x28", "[1x1 conv; 3x3 conv] x12", ""),
    ("pool3_conv", "Transition Layer (2)", "28x28", "1x1 conv", ""),
    ("pool3_pool", "Transition Layer (2)", "14x14", "2x2 average pool, stride 2", ""),
    ("conv4", "Dense Block (3)", "14x14", "[1x1 conv; 3x3 conv] x24", ""),
    ("pool4_conv", "Transition Layer (3)", "14x14", "1x1 conv", ""),
    ("pool4_pool", "Transition Layer (3)", "7x7", "2x2 average pool, stride 2", ""),
    ("conv5", "Dense Block (4)", "7x7", "[1x1 conv; 3x3 conv] x16", ""),
    ("avg_pool", "Classification Layer", "1x1", "7x7 global average pool",
     "The final BN-ReLU before the pool (the reference's bn, relu) is not printed; counted in this row."),
    ("predictions", "Classification Layer", "1x1", "1000D fully-connected, softmax", ""),
)

COLUMNS = (
    Column("layer_name", "Layers"),
    Column("output_size", "Output Size"),
    Column("computed_output_size", "computed output"),
    Column("content", "DenseNet-121"),
    Column("computed_content", "computed"),
    Column("params", "params"),
    Column("mult_adds", "mult-adds"),
    Column("note", "note"),
)

_BLOCK_RE = re.compile(r"^(conv[2-5])_block(\d+)_")
_TRANSITION_RE = re.compile(r"^(pool[2-4])_(bn|relu|conv|pool)$")


def _row_of(name: str) -> Optional[str]:
    if name.startswith("conv1_"):
        return "conv1"
    if name == "pool1":
        return "pool1"
    match = _BLOCK_RE.match(name)
    if match:
        return match.group(1)
    match = _TRANSITION_RE.match(name)
    if match:
        return f"{match.group(1)}_{'pool' if match.group(2) == 'pool' else 'conv'}"
    if name in ("bn", "relu", "avg_pool"):
        return "avg_pool"
    if name == "predictions":
        return "predictions"
    return None


def _size(pair) -> str:
    return f"{pair[0]}x{pair[1]}"


def _pool_text(pool) -> str:
    kind = "average" if "Average" in type(pool).__name__ else "max" if "Max" in type(pool).__name__ else "?"
    stride = f", stride {pool.strides[0]}" if pool.strides[0] != 1 else ""
    return f"{_size(pool.pool_size)} {kind} pool{stride}"


def _conv_text(conv) -> str:
    stride = f", stride {conv.strides[0]}" if conv.strides[0] != 1 else ""
    return f"{_size(conv.kernel_size)} conv{stride}"


def _content(row: str, group: list) -> str:
    by_name = {layer.name: layer for layer in group}
    if row == "conv1":
        return _conv_text(by_name["conv1_conv"])
    if row == "pool1" or row.endswith("_pool") and row != "avg_pool":
        return _pool_text(group[-1])
    if row.endswith("_conv"):
        return _conv_text(by_name[row])
    if row == "avg_pool":
        pool = by_name["avg_pool"]
        h, w = (int(d) for d in tuple(pool.input.shape)[1:3])
        covers = "Global" in type(pool).__name__ or tuple(pool.pool_size) == (h, w)
        return f"{h}x{w} {'global ' if covers else ''}average pool"
    if row == "predictions":
        fc = by_name["predictions"]
        return f"{fc.units}D fully-connected, {fc.get_config()['activation']}"
    layers = sorted({int(m.group(2)) for m in map(_BLOCK_RE.match, by_name) if m})
    convs = (by_name[f"{row}_block1_1_conv"], by_name[f"{row}_block1_2_conv"])
    return f"[{'; '.join(_conv_text(c) for c in convs)}] x{len(layers)}"


@functools.lru_cache(maxsize=1)
def reference_model():
    """The paper's DenseNet-121 (k = 32, theta = 0.5), built once per process."""
    return densenet121()


def table_rows(model=None) -> tuple[TableRow, ...]:
    """The rows of Table 1 computed from ``model`` (default: the reference; any
    DenseNet-121 with the reference's names, e.g. ``densenet121_course(32, 0.5)``)."""
    return build_rows(model if model is not None else reference_model(), PRINTED_ROWS, _row_of, _content)


def table(model=None) -> PaperTable:
    model = model if model is not None else reference_model()
    rows = table_rows(model)
    return PaperTable(
        title="DenseNet-121",
        source='Huang et al., "Densely Connected Convolutional Networks", Table 1 (DenseNet-121, k = 32)',
        columns=COLUMNS,
        rows=rows,
        totals=Totals(params=model.count_params(), mult_adds=sum(r.mult_adds for r in rows)),
    )
