"""Table 1 of "Deep Residual Learning for Image Recognition", 50-layer column.

:func:`table` returns the table as a :class:`grader.architectures.paper_table.PaperTable`:
the six printed rows (conv1, conv2_x .. conv5_x and the unnamed last row),
each with the output size and content the reference model computes, its
parameters and multiply-adds; the paper's "FLOPs" row (3.8x10^9, which counts
multiply-adds) is ``totals.printed_mult_adds``, beside the computed total.

The notation of the content column, in ASCII: ``7x7, 64, stride 2`` for a
convolution, ``[1x1, 64; 3x3, 64; 1x1, 256] x3`` for a stage of bottleneck
blocks (the paper's bracket, rows separated by ``;``), parts of one cell
separated by ``; `` outside the bracket.
"""

from __future__ import annotations

import functools
import re
from typing import Optional

from grader.architectures.paper_table import Column, PaperTable, TableRow, Totals, build_rows
from grader.architectures.resnet50.model import resnet50

__all__ = ["COLUMNS", "PRINTED_FLOPS", "PRINTED_ROWS", "reference_model", "table", "table_rows"]

#: (name, layer name, output size, 50-layer column, note), as printed.
PRINTED_ROWS = (
    ("conv1", "conv1", "112x112", "7x7, 64, stride 2", ""),
    ("conv2_x", "conv2_x", "56x56", "3x3 max pool, stride 2; [1x1, 64; 3x3, 64; 1x1, 256] x3",
     "The 3x3 max pool is printed in conv2_x's cell (the reference's pool1_pool); conv2_1 has "
     "stride 1, so its projection shortcut only widens 64 to 256 channels."),
    ("conv3_x", "conv3_x", "28x28", "[1x1, 128; 3x3, 128; 1x1, 512] x4",
     "Downsampling by conv3_1 with stride 2 (the caption): on its first 1x1, the paper's Caffe "
     "model and Keras' placement; 'v1.5' puts it on the 3x3 (same parameters, more multiply-adds)."),
    ("conv4_x", "conv4_x", "14x14", "[1x1, 256; 3x3, 256; 1x1, 1024] x6", ""),
    ("conv5_x", "conv5_x", "7x7", "[1x1, 512; 3x3, 512; 1x1, 2048] x3", ""),
    ("fc", "", "1x1", "average pool, 1000-d fc, softmax",
     "The paper leaves this row's layer name empty; 'fc' here (the reference's avg_pool and predictions)."),
)

PRINTED_FLOPS = "3.8x10^9"

COLUMNS = (
    Column("layer_name", "layer name"),
    Column("output_size", "output size"),
    Column("computed_output_size", "computed output"),
    Column("content", "50-layer"),
    Column("computed_content", "computed"),
    Column("params", "params"),
    Column("mult_adds", "mult-adds"),
    Column("note", "note"),
)

_STAGE_RE = re.compile(r"^(conv[2-5])_block(\d+)_")


def _row_of(name: str) -> Optional[str]:
    if name.startswith("conv1_"):
        return "conv1"
    if name == "pool1_pool":
        return "conv2_x"  # printed in conv2_x's cell
    match = _STAGE_RE.match(name)
    if match:
        return f"{match.group(1)}_x"
    if name in ("avg_pool", "predictions"):
        return "fc"
    return None


def _conv_text(conv) -> str:
    k = conv.kernel_size
    text = f"{k[0]}x{k[1]}, {conv.filters}"
    return text + (f", stride {conv.strides[0]}" if conv.strides[0] != 1 else "")


def _content(row: str, group: list) -> str:
    by_name = {layer.name: layer for layer in group}
    if row == "conv1":
        return _conv_text(by_name["conv1_conv"])
    if row == "fc":
        pool, fc = by_name["avg_pool"], by_name["predictions"]
        kind = "average pool" if "Average" in type(pool).__name__ else type(pool).__name__
        return f"{kind}, {fc.units}-d fc, {fc.get_config()['activation']}"
    stage = row[: -len("_x")]
    blocks = sorted({int(m.group(2)) for m in map(_STAGE_RE.match, by_name) if m})
    # The bracket shows the filters only (the stride is in the caption), as printed.
    convs = [by_name[f"{stage}_block1_{i}_conv"] for i in (1, 2, 3)]
    bracket = "; ".join(f"{c.kernel_size[0]}x{c.kernel_size[1]}, {c.filters}" for c in convs)
    text = f"[{bracket}] x{len(blocks)}"
    if "pool1_pool" in by_name:
        pool = by_name["pool1_pool"]
        text = f"{pool.pool_size[0]}x{pool.pool_size[1]} max pool, stride {pool.strides[0]}; " + text
    return text


@functools.lru_cache(maxsize=1)
def reference_model():
    """The paper's ResNet-50, built once per process."""
    return resnet50()


def table_rows(model=None) -> tuple[TableRow, ...]:
    """The rows of Table 1, printed and computed from ``model`` (default: the reference).

    ``model`` may be any ResNet-50 with the reference's layer names, e.g.
    ``resnet50_course()`` or ``resnet50(stride_on="3x3")``.
    """
    return build_rows(model if model is not None else reference_model(), PRINTED_ROWS, _row_of, _content)


def table(model=None) -> PaperTable:
    """Table 1 (50-layer column) as a :class:`PaperTable`."""
    model = model if model is not None else reference_model()
    rows = table_rows(model)
    mult_adds = sum(r.mult_adds for r in rows)
    totals = Totals(
        params=model.count_params(),
        mult_adds=mult_adds,
        printed_mult_adds=PRINTED_FLOPS,
        note=("The paper's FLOPs are multiply-adds of the convolutions and the fc layer; 3.86x10^9 "
              "with the stride on the first 1x1 is printed 3.8x10^9 (truncated); the v1.5 placement "
              "gives 4.09x10^9."),
    )
    return PaperTable(
        title="ResNet-50",
        source='He et al., "Deep Residual Learning for Image Recognition", Table 1 (50-layer)',
        columns=COLUMNS,
        rows=rows,
        totals=totals,
    )
