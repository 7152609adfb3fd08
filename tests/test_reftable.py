"""The reference table renderer on its own: generic columns, rows and totals
(any architecture's table, here a made-up one), laid out for a width."""

from __future__ import annotations

from grader.reftable import Column, ReferenceTable, Total, render_text

TABLE = ReferenceTable(
    title="ResNet-50, Table 1 (as printed)",
    columns=(
        Column("name", "layer"),
        Column("output", "output\nsize"),
        Column("k1", "#1x1", align="right", priority=1, group="block"),
        Column("k3", "#3x3", align="right", priority=1, group="block"),
        Column("k1b", "#1x1\nout", align="right", priority=1, group="block"),
        Column("flops", "FLOPs", align="right", priority=2),
        Column("detail", "what the stage does, in words", priority=3),
    ),
    rows=(
        {"name": "conv1", "output": "112x112", "flops": "118M", "detail": "7x7, 64, stride 2"},
        {"name": "conv2_x", "output": "56x56", "k1": "64", "k3": "64", "k1b": "256", "flops": "680M",
         "detail": "three bottleneck blocks"},
    ),
    notes=("", "the first block projects the shortcut with a 1x1 convolution " * 4),
    totals=(Total("params", "parameters", 25_557_032, "25,557,032"),),
)


def test_drops_by_priority_keeps_groups_whole_and_names_what_it_left_out():
    text = render_text(TABLE, width=48)
    lines = text.splitlines()
    assert max(len(l) for l in lines) <= 48
    row = next(l for l in lines if l.startswith("conv2_x"))
    assert row.split() == ["conv2_x", "56x56", "64", "64", "256", "680M"]
    assert "Not shown at 48 columns: what the stage does, in words" in " ".join(lines)
    text = render_text(TABLE, width=35)
    row = next(l for l in text.splitlines() if l.startswith("conv2_x"))
    assert row.split() == ["conv2_x", "56x56", "64", "64", "256"]  # the block's three columns together
    assert "Not shown at 35 columns: FLOPs, what the stage does, in words" in " ".join(text.splitlines())
    narrow = render_text(TABLE, width=24)
    assert next(l for l in narrow.splitlines() if l.startswith("conv2_x")).split() == ["conv2_x", "56x56"]
    assert "#1x1, #3x3, #1x1 out" in " ".join(narrow.splitlines())  # the group went whole


def test_wide_notes_and_totals():
    text = render_text(TABLE, width=48, wide=True)
    row = next(l for l in text.splitlines() if l.startswith("conv2_x"))
    assert "680M" in row and "three bottleneck blocks" in row and "Not shown" not in text
    notes = [l for l in text.splitlines() if l.strip().startswith("note:")]
    assert len(notes) == 1  # one row has a note: under it, wrapped
    assert text.rstrip().endswith("parameters  25,557,032")
    assert TABLE.to_json()["totals"] == {"params": 25_557_032}
