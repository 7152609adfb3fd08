"""``grader reference``: an architecture's reference table as data, and as text
that reads well at any width.

A :class:`ReferenceTable` is generic: columns (with a priority that says which
to drop first when the width is short), rows of cell texts, a note per row,
and totals.  :func:`render_text` lays it out for a terminal or a pipe; the JSON
of ``--json`` is :meth:`ReferenceTable.to_json`.  What is specific to one
architecture is only the adapter that builds the table, its ``table()``
(:func:`googlenet_table` for GoogLeNet's Table 1, :func:`paper_table` for the
rows of a ``grader.architectures.paper_table``); the renderer stays as it is.

Nothing here imports TensorFlow at import time; the adapters build the reference
model, so the CLI calls them inside :func:`grader.tfenv.native_stderr_filtered`.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Column", "ReferenceTable", "Total", "googlenet_table", "reference_table", "render_text"]

GAP = "  "
GROUP_GAP = " "  # between two columns of one group: they read as one block


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # may hold "\n": a header of two lines keeps a column narrow
    align: str = "left"  # left | right
    #: 0 is always shown; higher numbers are dropped first when the width is short
    priority: int = 0
    #: columns of one group are shown or dropped together (Table 1's six filter columns)
    group: str = ""


    @property
    def name(self) -> str:
        """The title on one line ("patch/\nstride" -> "patch/stride")."""
        return self.title.replace("/\n", "/").replace("\n", " ")


@dataclass(frozen=True)
class Total:
    key: str
    label: str
    value: int | float
    text: str  # the value as shown, e.g. "13,378,280"
    detail: str = ""  # shown after the value, e.g. "(1.58G)"


@dataclass(frozen=True)
class ReferenceTable:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict, ...]  # column key -> cell text
    notes: tuple[str, ...]  # one per row ("" for none), shown below the row
    totals: tuple[Total, ...] = ()
    caption: str = ""  # one line under the title (units, what "printed | computed" means)
    data: dict = field(default_factory=dict)  # the machine-readable rows for --json

    def to_json(self) -> dict[str, Any]:
        """``{"title", "rows": [...], "totals": {key: value}}``: the rows as the
        adapter gives them (every field), the totals by key."""
        return {
            "title": self.title,
            "rows": self.data.get("rows", [dict(r) for r in self.rows]),
            "totals": {t.key: t.value for t in self.totals},
        }


def _header_lines(c: Column) -> list[str]:
    return c.title.split("\n")


def _natural_width(t: ReferenceTable, c: Column) -> int:
    cells = [len(str(r.get(c.key, "") or "")) for r in t.rows]
    return max([len(x) for x in _header_lines(c)] + cells + [1])


def _gap(a: Column, b: Column) -> str:
    return GROUP_GAP if a.group and a.group == b.group else GAP


def _choose(t: ReferenceTable, width: int, wide: bool) -> list[Column]:
    """The columns to show: all with ``wide``; otherwise the most important ones
    (by priority, groups whole) that fit in ``width``."""
    if wide:
        return list(t.columns)
    widths = {c.key: _natural_width(t, c) for c in t.columns}

    def total(cols):
        return sum(widths[c.key] for c in cols) + sum(len(_gap(a, b)) for a, b in zip(cols, cols[1:]))

    shown = list(t.columns)
    while total(shown) > width:
        droppable = [c for c in shown if c.priority > 0]
        if not droppable:
            break
        worst = max(c.priority for c in droppable)
        victim = next(c for c in reversed(shown) if c.priority == worst)
        shown = [c for c in shown if not (c is victim or (victim.group and c.group == victim.group))]
    return shown


def render_text(t: ReferenceTable, *, width: int = 80, wide: bool = False) -> str:
    """The table as plain text: lines of at most ``width`` characters unless ``wide``
    (every column, however long the lines), each row's note wrapped below it, the
    columns left out named, and the totals."""
    width = max(20, int(width))
    cols = _choose(t, width, wide)
    widths = [_natural_width(t, c) for c in cols]
    out = [t.title]
    if t.caption:
        out += textwrap.wrap(t.caption, width) if not wide else [t.caption]
    out.append("")
    depth = max(len(_header_lines(c)) for c in cols)

    def line(cells: list[str]) -> str:
        parts = []
        for i, (c, w, text) in enumerate(zip(cols, widths, cells)):
            if i:
                parts.append(_gap(cols[i - 1], c))
            parts.append(text.rjust(w) if c.align == "right" else text.ljust(w))
        return "".join(parts).rstrip()

    for i in range(depth):
        # a two-line header is bottom-aligned, so each title's last line sits on the rule
        out.append(line([(_header_lines(c)[i - (depth - len(_header_lines(c)))]
                          if i >= depth - len(_header_lines(c)) else "") for c in cols]))
    out.append(line(["-" * w for w in widths]))
    note_width = max(20, (width if not wide else max(width, 100)) - len("    note: "))
    for row, note in zip(t.rows, t.notes):
        out.append(line([str(row.get(c.key, "") or "") for c in cols]))
        if note:
            wrapped = textwrap.wrap(note, note_width)
            out += ["    note: " + wrapped[0]] + ["          " + w for w in wrapped[1:]]
    hidden = [c.name for c in t.columns if c not in cols]
    if hidden:
        out.append("")
        out += textwrap.wrap(f"Not shown at {width} columns: {', '.join(hidden)} "
                             "(grader reference --wide shows every column).", width)
    if t.totals:
        out.append("")
        label_w = max(len(x.label) for x in t.totals)
        value_w = max(len(x.text) for x in t.totals)
        out.append("Totals")
        for x in t.totals:
            out.append(f"  {x.label.ljust(label_w)}  {x.text.rjust(value_w)}" + (f"  {x.detail}" if x.detail else ""))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- GoogLeNet


def _k(x: int | None) -> str:
    return "" if x is None else f"{x / 1024:.1f}K".replace(".0K", "K")


def _m(x: int | None) -> str:
    return "" if x is None else f"{x / 1e6:.0f}M"


def _pair(printed: str, computed: str) -> str:
    if not printed and not computed:
        return ""
    return f"{printed or '-'} | {computed or '-'}"


def googlenet_table() -> ReferenceTable:
    """The paper's Table 1 as printed and as the reference model computes it, with
    the totals: parameters (biases included) with and without the auxiliary heads,
    and the multiply-adds of the rows.  Builds the reference model (TensorFlow)."""
    from grader.architectures.googlenet import build_googlenet
    from grader.architectures.googlenet.table1 import FILTER_COLUMNS, parse_figure, reference_model, table_rows

    rows = table_rows()
    without_aux = int(reference_model().count_params())
    with_aux = int(build_googlenet(aux=True).count_params())
    ops = sum(r.computed_ops or 0 for r in rows)
    printed_ops = sum(parse_figure(r.printed_ops) for r in rows if r.printed_ops)

    filter_titles = ("#1x1", "#3x3\nreduce", "#3x3", "#5x5\nreduce", "#5x5", "pool\nproj")
    columns = (
        Column("name", "layer"),
        Column("type", "type", priority=3),
        Column("patch", "patch/\nstride", priority=2),
        Column("output", "output\nsize"),
        Column("depth", "depth", align="right", priority=4),
        *(Column(key, title, align="right", priority=1, group="filters")
          for key, title in zip(FILTER_COLUMNS, filter_titles)),
        Column("params", "params", align="right"),
        Column("ops", "ops", align="right", priority=2),
    )
    cells = []
    for r in rows:
        c = {"name": r.name, "type": r.type, "patch": r.patch_size_stride, "output": r.output_size,
             "depth": str(r.depth), "params": _pair(r.printed_params, _k(r.computed_params)),
             "ops": _pair(r.printed_ops, _m(r.computed_ops))}
        for key in FILTER_COLUMNS:
            v = getattr(r, key)
            c[key] = "" if v is None else str(v)
        cells.append(c)
    totals = (
        Total("params_with_aux", "parameters, with the auxiliary heads", with_aux, f"{with_aux:,}"),
        Total("params_without_aux", "parameters, without the auxiliary heads", without_aux, f"{without_aux:,}"),
        Total("ops", "multiply-adds of the rows, computed", ops, f"{ops:,}", f"({ops / 1e9:.2f}G)"),
        Total("ops_printed", "multiply-adds of the rows, as printed", int(printed_ops), f"{int(printed_ops):,}",
              f"({printed_ops / 1e9:.2f}G)"),
    )
    return ReferenceTable(
        title="GoogLeNet, Table 1 of Szegedy et al. (printed | computed by the reference)",
        caption="params and ops: as printed | as computed. params: weights without biases, "
                "K = 1024; ops: multiply-adds, M = 10^6. The parameter totals count biases too, "
                "as Keras's count_params() does.",
        columns=columns,
        rows=tuple(cells),
        notes=tuple(r.note for r in rows),
        totals=totals,
        data={"rows": [r.to_dict() for r in rows]},
    )


def paper_table(t) -> ReferenceTable:
    """Any architecture's paper table (``grader.architectures.paper_table.PaperTable``: rows of
    printed and computed figures, and totals) as a table to render."""
    # what the paper prints first; the computed figures as the width allows
    priority = {"layer_name": 0, "output_size": 0, "content": 0, "params": 1, "mult_adds": 2, "computed_content": 3,
                "computed_output_size": 4}
    columns = tuple(Column(c.key, c.title.replace(" ", "\n", 1) if len(c.title) > 10 else c.title,
                           align="right" if c.key in ("params", "mult_adds") else "left",
                           priority=priority.get(c.key, 2))
                    for c in t.columns if c.key != "note")

    def cell(row, key):
        v = getattr(row, key, "")
        if key in ("params", "mult_adds") and isinstance(v, int):
            return f"{v:,}"
        return "" if v is None else str(v)

    rows = tuple({c.key: cell(r, c.key) for c in columns} for r in t.rows)
    tot = t.totals
    totals = [Total("params", "parameters, computed", tot.params, f"{tot.params:,}"),
              Total("mult_adds", "multiply-adds, computed", tot.mult_adds, f"{tot.mult_adds:,}",
                    f"({tot.mult_adds / 1e9:.2f}G)")]
    if tot.printed_mult_adds:
        totals.append(Total("mult_adds_printed", "multiply-adds, as printed", tot.printed_mult_adds,
                            tot.printed_mult_adds, "(consistent)" if tot.mult_adds_consistent else "(differs)"))
    notes = tuple(r.note for r in t.rows)
    return ReferenceTable(title=t.title, caption=f"{t.source}; printed figures beside the reference's computed ones. "
                          + (tot.note or ""), columns=columns, rows=rows, notes=notes, totals=tuple(totals),
                          data={"rows": [r.to_dict() for r in t.rows]})


def reference_table(assignment=None) -> ReferenceTable:
    """The paper's table of ``assignment``'s architecture (GoogLeNet's Table 1 by
    default), printed beside what its reference computes: the architecture's
    ``table()``, laid out here when it gives the rows of a ``grader.architectures.paper_table``."""
    from .arch import get

    arch = assignment.arch if assignment is not None else get("googlenet")
    t = arch.table(assignment)
    return t if isinstance(t, ReferenceTable) else paper_table(t)
