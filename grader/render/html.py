"""The HTML report: one self-contained page (inline CSS and SVG, no script needed).

``render_html(report)`` returns the page as a string; ``write_html(report, path)``
writes it atomically. Templates live in ``grader/templates`` (``report.html.j2`` and
its ``_*.j2`` partials) and are rendered with autoescaping on, so nothing that comes
from a submission (names, messages, captured output) can inject markup.
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from .. import arch as _arch
from .. import i18n
from ..fsutil import write_atomic
from ..report import Block, BranchLayer, Finding, LayerRow, Report, Source
from .blocks import Box, Diagram, Drawer
from .blocks import fit as _fit

__all__ = ["render_html", "write_html", "load_table1", "TABLE1_COLUMNS"]

#: The six filter columns of Table 1: (table1.csv column, Block.expected/actual key).
TABLE1_COLUMNS = (
    ("n1x1", "1x1"),
    ("n3x3_reduce", "3x3_reduce"),
    ("n3x3", "3x3"),
    ("n5x5_reduce", "5x5_reduce"),
    ("n5x5", "5x5"),
    ("pool_proj", "pool_proj"),
)
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
#: Table 1 rows that are no layer of their own in a Keras model: the softmax is
#: usually the classifier's activation.
_ROW_ALIASES = {"prob": "loss3/classifier"}
_CONTEXT_LINES = 3
_MAX_OUTPUT_CHARS = 200_000
_PYGMENTS_STYLE = "xcode"  # every token colour passes WCAG AA on white and on the highlight


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------
def render_html(
    report: Report,
    *,
    lang: str = "en",
    source_files: dict[str, str] | None = None,
    table1: list[dict] | None = None,
    locale_dir: str | os.PathLike | None = None,
    part_titles: dict[str, str] | None = None,
) -> str:
    """The report as one self-contained HTML page.

    ``source_files`` maps ``Source.file`` (or ``f"{file}#cell{cell}"`` for notebooks,
    whose ``cell_line`` then counts inside that cell) to the student's text, to show the
    lines around each cause. ``table1`` is the paper's Table 1 (``reference/table1.csv``
    rows); by default it is read from the ``reference`` package when installed.
    ``locale_dir`` overrides the catalog tree of ``grader/locale``. ``part_titles``
    (part name -> title) are the assignment's own titles in ``lang``
    (``Assignment.titles(lang)``); other parts get the catalog's translation.
    """
    return _render("report.html.j2", report, lang=lang, source_files=source_files, table1=table1,
                   locale_dir=locale_dir, part_titles=part_titles)


def _render(template: str, report: Report, *, lang, source_files, table1, locale_dir, part_titles,
            **extra: Any) -> str:
    code = i18n.normalize_lang(lang, locale_dir)
    translations = i18n.get_translations(code, locale_dir)
    if table1 is None:
        table1 = load_table1()
    builder = _Builder(report, code, translations, source_files or {}, table1, locale_dir, part_titles)
    env = _environment(translations)
    return env.get_template(template).render(**builder.context(), **extra)


def write_html(report: Report, path: str | os.PathLike, **kw: Any) -> Path:
    """Render ``report`` (keywords as for :func:`render_html`) and write it to ``path``
    atomically: a temporary file in the same directory, then a rename."""
    return write_atomic(path, render_html(report, **kw))


def load_table1(path: str | os.PathLike | None = None) -> list[dict] | None:
    """Table 1 rows from a CSV file (default: GoogLeNet's ``table1.csv``, beside
    ``grader/architectures/googlenet/table1.py``); None when there is no such file."""
    try:
        if path is None:
            from importlib import resources

            res = resources.files("grader.architectures.googlenet").joinpath("table1.csv")
            if not res.is_file():
                return None
            text = res.read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None
    return [dict(r) for r in csv.DictReader(text.splitlines())]


# ---------------------------------------------------------------------------
# jinja2
# ---------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _environment(translations) -> jinja2.Environment:
    """One environment per catalog (cached: templates compile once)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader", "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(translations, newstyle=True)
    # ``tr`` translates a *dynamic* string (a part title...) and returns plain text, so
    # autoescaping still applies (jinja2's ``_`` would mark the result safe).
    env.filters["tr"] = lambda s: translations.gettext(str(s)) if s else s
    return env


# ---------------------------------------------------------------------------
# formatting helpers
# ---------------------------------------------------------------------------
def _babel_locale(code: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(code)
        return code
    except (UnknownLocaleError, ValueError, TypeError):
        return "en"


def _num(value: Any, locale: str) -> str:
    if value is None:
        return "—"
    from babel.numbers import format_decimal

    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return format_decimal(value, locale=locale)
    except Exception:  # noqa: BLE001 - formatting must never break a report
        return str(value)


def _dims(shape: Any) -> list | None:
    """The dimensions of an output shape without the batch axis."""
    if not isinstance(shape, (list, tuple)) or not shape:
        return None
    if any(isinstance(d, (list, tuple)) for d in shape):
        return None
    dims = list(shape)
    if dims and dims[0] is None:
        dims = dims[1:]
    return dims


def _squeeze(dims: list) -> list:
    """1×1×1000 (Table 1) and 1000 (a Dense layer) are the same output."""
    return [d for d in dims if d != 1]


def _hwc(shape: Any) -> str:
    dims = _dims(shape)
    if dims is None:
        return _value(shape)
    return "×".join("?" if d is None else str(d) for d in dims) or "—"


def _value(v: Any, code: str | None = None) -> str:
    """A finding's expected/actual value, a shape or a config value as short text."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (list, tuple)):
        if code in ("kernel_size", "pool_size", "strides") and all(isinstance(x, int) for x in v):
            return "×".join(str(x) for x in v)
        inner = ", ".join("None" if x is None else _value(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_value(x)}" for k, x in v.items())
    return str(v)


def _int(v: Any) -> int | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    s = str(v).strip().replace(",", "")
    return int(s) if re.fullmatch(r"\d+", s) else None


def _cell_text(v: Any) -> str:
    s = "" if v is None else str(v).strip()
    if not s or s.lower() in ("nan", "none"):
        return "—"
    return re.sub(r"(?<=\d)\s*[x×]\s*(?=\d)", "×", s)  # 7x7/2 -> 7×7/2


def _kernel_text(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "×".join(str(x) for x in v)
    if isinstance(v, int):
        return f"{v}×{v}"
    return _value(v)


def _norm_name(name: str) -> str:
    """Table 1 row names may be Caffe locations or the paper's ``inception (3a)``."""
    name = (name or "").strip()
    m = re.fullmatch(r"inception\s*\(?\s*(\d[a-z])\s*\)?", name, flags=re.I)
    return f"inception_{m.group(1).lower()}" if m else name


def _as_source(src: Any) -> Source | None:
    if src is None or isinstance(src, Source):
        return src
    if isinstance(src, dict) and "file" in src:
        try:
            return Source(
                file=str(src["file"]),
                line=int(src.get("line") or 0),
                cell=src.get("cell"),
                cell_line=src.get("cell_line"),
                code=src.get("code"),
            )
        except (TypeError, ValueError):
            return None
    return None


# ---------------------------------------------------------------------------
# source snippets
# ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _formatter() -> HtmlFormatter:
    return HtmlFormatter(nowrap=True, style=_PYGMENTS_STYLE)


@lru_cache(maxsize=1)
def pygments_css() -> str:
    defs = _formatter().get_style_defs(".src")
    return "\n".join(line for line in defs.splitlines() if line.startswith(".src ."))


class _Sources:
    def __init__(self, files: dict[str, str]):
        self.files = files
        self._lines: dict[str, list[str]] = {}

    def _highlighted(self, key: str) -> list[str]:
        if key not in self._lines:
            text = self.files[key]
            if isinstance(text, bytes):
                text = text.decode("utf-8", errors="replace")
            text = str(text).replace("\r\n", "\n").replace("\r", "\n")
            html = highlight(text, PythonLexer(stripnl=False, ensurenl=True), _formatter())
            lines = html.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            self._lines[key] = lines
        return self._lines[key]

    def snippet(self, src: Source | None) -> Markup | None:
        """The lines around ``src`` (±3), syntax-highlighted, the cause marked."""
        if src is None:
            return None
        candidates = []
        if src.cell is not None:
            candidates.append((f"{src.file}#cell{src.cell}", src.cell_line or src.line))
            whole = self.files.get(src.file)
            if isinstance(whole, str) and not whole.lstrip().startswith("{"):  # not raw .ipynb JSON
                candidates.append((src.file, src.line))
        else:
            candidates.append((src.file, src.line))
        for key, line in candidates:
            if key in self.files and line:
                lines = self._highlighted(key)
                if 1 <= line <= len(lines):
                    lo = max(1, line - _CONTEXT_LINES)
                    hi = min(len(lines), line + _CONTEXT_LINES)
                    return _snippet_markup([(n, lines[n - 1]) for n in range(lo, hi + 1)], line)
        if src.code:
            line = (src.cell_line if src.cell is not None else src.line) or 1
            html = highlight(src.code.rstrip("\n"), PythonLexer(stripnl=False), _formatter())
            return _snippet_markup([(line, html.split("\n")[0])], line)
        return None


def _snippet_markup(lines: list[tuple[int, str]], target: int) -> Markup:
    width = len(str(lines[-1][0]))
    out = []
    for n, html in lines:
        num = str(n).rjust(width)
        if n == target:
            out.append(
                f'<mark class="hl"><span class="ln">{num}</span>'
                f'<span class="gut" aria-hidden="true">▶</span>{html}</mark>'
            )
        else:
            out.append(f'<span class="ln">{num}</span><span class="gut"> </span>{html}')
    # pygments escaped the code; numbers are ours
    return Markup('<pre class="src"><code>' + "\n".join(out) + "</code></pre>")


# ---------------------------------------------------------------------------
# views
# ---------------------------------------------------------------------------
@dataclass
class Cell:
    text: str
    expected: str | None = None  # set when the cell differs from the paper
    missing: bool = False

    @property
    def bad(self) -> bool:
        return self.expected is not None


class _Builder:
    def __init__(self, report: Report, lang: str, translations, files, table1, locale_dir, part_titles=None):
        self.r = report
        self.part_titles = {p.name: (part_titles or {}).get(p.name) or p.title or p.name for p in report.parts}
        self.lang = lang
        self.t = translations
        self.locale = _babel_locale(lang)
        self.sources = _Sources(files)
        self.table1 = table1
        self.locale_dir = locale_dir
        try:  # the architecture describes how its blocks are drawn; an unknown one: GoogLeNet's generic branches
            self.arch = _arch.get(report.architecture or "googlenet")
        except _arch.ArchitectureError:
            self.arch = None
        self.generic = self.arch is None or self.arch.name == "googlenet" or not self.arch.drawings
        self.drawer = Drawer(self._, report.findings,
                             lambda c: self.arch.column_title(c) if self.arch else c,
                             self.arch.expected_value if self.arch else "paper: %(n)s")

    def _(self, msgid: str, **kw) -> str:
        text = self.t.gettext(msgid)
        if not kw:
            return text
        try:
            return text % kw
        except (KeyError, ValueError, TypeError):  # a broken translation: English
            return msgid % kw

    # -- header -----------------------------------------------------------
    def _when(self, iso: str | None) -> str:
        if not iso:
            return ""
        try:
            when = _dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
        except ValueError:
            return str(iso)
        try:
            from babel.dates import format_datetime

            return format_datetime(when, format="medium", locale=self.locale) + (
                f" ({when.tzname()})" if when.tzinfo else ""
            )
        except Exception:  # noqa: BLE001
            return str(iso)

    def parts(self) -> list[dict]:
        out = []
        for p in self.r.parts:
            pct = 100.0 * p.score / p.max_score if p.max_score else 0.0
            out.append({
                "name": p.name, "title": self.part_titles[p.name],
                "score": _num(round(p.score, 2), self.locale),
                "max_score": _num(round(p.max_score, 2), self.locale),
                "pct": max(0.0, min(100.0, round(pct, 1))),
                "full": p.score >= p.max_score,
                "summary": i18n.translate_part_summary(p, self.lang, self.locale_dir),
                "missing": ", ".join(p.missing[:8]) + (" …" if len(p.missing) > 8 else ""),
            })
        return out

    # -- findings ------------------------------------------------------------
    def _finding(self, f: Finding, n: int, with_snippet: bool = True) -> dict:
        src = _as_source(f.source)
        part_titles = self.part_titles
        return {
            "anchor": f"finding-{n}",
            "f": f,
            "severity": f.severity if f.severity in _SEVERITY_RANK else "info",
            "message": i18n.translate_finding(f, self.lang, self.locale_dir),
            "expected": _value(f.expected, f.code) if f.expected is not None else None,
            "actual": _value(f.actual, f.code) if f.actual is not None else None,
            "deduction": _num(round(f.deduction, 2), self.locale) if f.deduction else None,
            "part": part_titles.get(f.part, f.part) if f.part else None,
            "source": self._source_label(src),
            "snippet": self.sources.snippet(src) if with_snippet else None,
            "consequences": [],
        }

    def _source_label(self, src: Source | None) -> dict | None:
        if src is None:
            return None
        if src.cell is not None:
            return {"file": src.file, "cell": src.cell, "line": src.cell_line or src.line,
                    "text": self._("%(file)s: cell %(cell)s, line %(line)s", file=src.file,
                                   cell=src.cell, line=src.cell_line or src.line)}
        return {"file": src.file, "cell": None, "line": src.line, "text": f"{src.file}:{src.line}"}

    def findings(self) -> dict:
        fs = list(self.r.findings)
        ids = {f.id for f in fs}
        index = {id(f): i for i, f in enumerate(fs)}
        by_parent: dict[str, list[Finding]] = {}
        roots = []
        for f in fs:
            if f.caused_by is None or f.caused_by not in ids or f.caused_by == f.id:
                roots.append(f)  # an orphan consequence is shown as a root
            else:
                by_parent.setdefault(f.caused_by, []).append(f)

        def descendants(root: Finding) -> list[Finding]:
            out, seen, todo = [], {root.id}, [root.id]
            while todo:
                for child in by_parent.get(todo.pop(0), []):
                    if child.id not in seen:
                        seen.add(child.id)
                        out.append(child)
                        todo.append(child.id)
            return out

        def key(f: Finding):
            return (_SEVERITY_RANK.get(f.severity, 2), -(f.deduction or 0), index[id(f)])

        # findings caught in a cycle of caused_by are reached from no root: show them too
        reached = {f.id for f in roots} | {c.id for f in roots for c in descendants(f)}
        for f in fs:
            if f.id not in reached:
                roots.append(f)
                reached |= {f.id} | {c.id for c in descendants(f)}

        first, warnings, infos = [], [], []
        counter = 0
        for f in sorted(roots, key=key):
            counter += 1
            view = self._finding(f, counter)
            for c in sorted(descendants(f), key=lambda c: index[id(c)]):
                counter += 1
                view["consequences"].append(self._finding(c, counter, with_snippet=False))
            lost = round(sum(c.deduction or 0 for c in descendants(f)), 2)
            view["consequence_deduction"] = _num(lost, self.locale) if lost else None
            if f.severity == "error" or (f.deduction or 0) > 0:
                first.append(view)
            elif f.severity == "warning":
                warnings.append(view)
            else:
                infos.append(view)
        return {"first": first, "warnings": warnings, "infos": infos}

    # -- Table 1 ---------------------------------------------------------------
    def _table1_rows(self) -> list[dict]:
        if self.table1:
            return [dict(r) for r in self.table1]
        rows = []
        for b in self.r.model.blocks:  # no Table 1 at hand: the blocks' own expectations
            row = {"name": b.location, "type": "inception", "patch_size_stride": "",
                   "output_size": _hwc(b.expected_output_shape),
                   "params": _num(b.expected_params, self.locale), "note": ""}
            for col, key in TABLE1_COLUMNS:
                row[col] = (b.expected or {}).get(key)
            rows.append(row)
        return rows

    def table1_view(self) -> tuple[list[dict], list[str]]:
        notes: list[str] = []
        layers = {row.location: row for row in self.r.model.layers}
        blocks = {b.location: b for b in self.r.model.blocks}
        failed = self.r.status == "failed"
        out = []
        for raw in self._table1_rows():
            name = _norm_name(str(raw.get("name", "")))
            paper = {
                "name": str(raw.get("name", "")),
                "type": _cell_text(raw.get("type")),
                "patch": _cell_text(raw.get("patch_size_stride")),
                "output": _cell_text(raw.get("output_size")),
                "cols": [_cell_text(raw.get(col)) for col, _ in TABLE1_COLUMNS],
                "params": _cell_text(raw.get("params")),
                "note": str(raw.get("note") or "").strip(),
                "note_n": None,
            }
            if paper["note"]:
                notes.append(paper["note"])
                paper["note_n"] = len(notes)
            want_cols = [_int(raw.get(col)) for col, _ in TABLE1_COLUMNS]
            want_dims = [int(x) for x in re.findall(r"\d+", str(raw.get("output_size") or ""))]
            view = {"name": name, "paper": paper, "found": True}
            if name in blocks:
                view["yours"] = self._block_cells(blocks[name], want_cols, want_dims)
            else:
                group = self._layer_group(name, raw, layers)
                alias = None
                if group is None and name in _ROW_ALIASES:
                    alias = self._layer_group(_ROW_ALIASES[name], raw, layers)
                if alias is not None:
                    view["yours"] = self._layer_cells(alias, raw, want_cols, want_dims)
                    view["yours"]["params"] = Cell("—")
                    view["yours"]["type"] = Cell(f"({_ROW_ALIASES[name]})")
                    view["yours"]["patch"] = Cell("—")
                elif group is None and not failed and not any(
                        _norm_name(f.location) == name for f in self.r.findings):
                    continue  # a row the assignment's reference leaves out (the d2l head has no dropout)
                elif group is None:
                    view["found"] = False
                    view["missing_text"] = (
                        self._("not built") if failed else self._("missing")
                    )
                    view["yours"] = None
                else:
                    view["yours"] = self._layer_cells(group, raw, want_cols, want_dims)
            view["bad"] = (not view["found"]) or any(
                c.bad for c in self._cells(view.get("yours")))
            out.append(view)
        return out, notes

    @staticmethod
    def _cells(yours: dict | None) -> list[Cell]:
        if not yours:
            return []
        return [yours["type"], yours["patch"], yours["output"], *yours["cols"], yours["params"]]

    def _out_cell(self, shape, expected_shape, want_dims) -> Cell:
        dims = _dims(shape)
        text = _hwc(shape) if shape is not None else "—"
        # the assignment's reference first (a 96x96 course input), the paper's printed size without one
        want = _dims(expected_shape) or want_dims
        if want and dims is not None and _squeeze(dims) != _squeeze(want):
            return Cell(text, "×".join(str(d) for d in want))
        if want and shape is None:
            return Cell("—", "×".join(str(d) for d in want), missing=True)
        return Cell(text)

    def _params_cell(self, params, expected) -> Cell:
        text = _num(params, self.locale)
        if expected is not None and params != expected:
            return Cell(text, _num(expected, self.locale))
        return Cell(text)

    def _filters_cell(self, actual, want) -> Cell:
        if want is None:
            return Cell("—" if actual is None else str(actual))
        if actual is None:
            return Cell("—", str(want), missing=True)
        if _int(actual) != want:
            return Cell(str(actual), str(want))
        return Cell(str(actual))

    def _block_cells(self, b: Block, want_cols, want_dims) -> dict:
        cols = []
        for (col, key), want in zip(TABLE1_COLUMNS, want_cols):
            if want is None:
                want = _int((b.expected or {}).get(key))
            cols.append(self._filters_cell((b.actual or {}).get(key), want))
        return {
            "type": Cell("inception"), "patch": Cell("—"),
            "output": self._out_cell(b.output_shape, b.expected_output_shape, want_dims),
            "cols": cols, "params": self._params_cell(b.params, b.expected_params),
            "source": None,
        }

    def _layer_group(self, name: str, raw: dict, layers: dict[str, LayerRow]):
        """The student's layers for a Table 1 row that is not a block: the layer named
        like the row (or ``<row>/output``, or the last ``<row>/...`` layer), the layers
        whose ``filters`` fill the row's filter columns (``conv2/3x3_reduce`` for
        ``conv2/3x3``), and the layers whose params the row counts."""
        prefix = name.rsplit("/", 1)[0] if "/" in name else name
        family = [r for loc, r in layers.items() if loc.startswith(prefix + "/")]
        main = layers.get(name) or layers.get(f"{name}/output")
        if main is None and "/" not in name and family:
            main = family[-1]
        if main is None:
            return None
        by_col = {}
        for col, key in TABLE1_COLUMNS:
            row = layers.get(f"{prefix}/{key}")
            if row is None and _int(raw.get(col)) is not None and not key.endswith("_reduce"):
                row = main if main.location == name else None
            if row is not None:
                by_col[key] = row
        counted = family if "/" not in name else [main] + [
            r for r in by_col.values() if r is not main]
        return main, by_col, counted

    def _layer_cells(self, group, raw: dict, want_cols, want_dims) -> dict:
        main, by_col, counted = group
        cols = []
        for (col, key), want in zip(TABLE1_COLUMNS, want_cols):
            row = by_col.get(key)
            actual = None if row is None else (row.config or {}).get("filters")
            cols.append(self._filters_cell(actual, want))
        rows = counted
        params = None if any(r.params is None for r in rows) else sum(r.params for r in rows)
        expected = (None if any(r.expected_params is None for r in rows)
                    else sum(r.expected_params for r in rows))
        # kernel / stride, against the paper's "patch size/stride"
        patch = Cell("—")
        cfg = main.config or {}
        kernel = cfg.get("kernel_size", cfg.get("pool_size"))
        if kernel is not None:
            stride = cfg.get("strides")
            s = stride[0] if isinstance(stride, (list, tuple)) and stride else stride
            text = _kernel_text(kernel) + (f"/{s}" if s is not None else "")
            m = re.fullmatch(r"\s*(\d+)\s*[×x]\s*(\d+)\s*/\s*(\d+)\s*", str(raw.get("patch_size_stride") or ""))
            patch = Cell(text)
            if m:
                want_text = f"{m.group(1)}×{m.group(2)}/{m.group(3)}"
                if text.replace(" ", "") != want_text:
                    patch = Cell(text, want_text)
        return {
            "type": Cell(main.type or "—"), "patch": patch,
            "output": self._out_cell(main.output_shape, main.expected_output_shape, want_dims),
            "cols": cols, "params": self._params_cell(params, expected),
            "source": self._source_label(_as_source(main.source)),
        }

    # -- inception diagrams ------------------------------------------------------
    def diagram(self, b: Block, probe: bool = False) -> Diagram:
        bw, bh, gap, pad, io_h, row_gap = 158, 60, 12, 8, 30, 22
        branches = list(b.branches) or [[], [], [], []]
        n = len(branches)
        rows = max([len(br) for br in branches] + [1])
        width = pad * 2 + n * bw + (n - 1) * gap
        d = Diagram(width=width, height=0)
        top = Box(pad, pad, width - 2 * pad, io_h,
                  [self._("previous layer")], "io")
        y1 = pad + io_h + row_gap
        concat_y = y1 + rows * (bh + row_gap)
        out_text = self._("concatenate")
        if b.output_shape is not None:
            out_text += f" → {_hwc(b.output_shape)}"
        bottom = Box(pad, concat_y, width - 2 * pad, io_h, [out_text], "io")
        d.boxes += [top, bottom]
        for i, branch in enumerate(branches):
            x = pad + i * (bw + gap)
            cx = x + bw // 2
            prev_y = pad + io_h
            if not branch:
                box = Box(x, y1 + (rows - 1) * (bh + row_gap), bw, bh,
                          ["✗ " + self._("branch missing")], "missing", bad=True)
                d.boxes.append(box)
                d.description.append(self._("branch %(n)s: missing", n=i + 1))
                d.edges.append((cx, prev_y, cx, box.y))
                d.edges.append((cx, box.y + bh, cx, concat_y))
                continue
            offset = rows - len(branch)
            for j, layer in enumerate(branch):
                y = y1 + (offset + j) * (bh + row_gap)
                box = self._branch_box(layer, b, x, y, bw, bh, probe)
                d.boxes.append(box)
                d.edges.append((cx, prev_y, cx, y))
                prev_y = y + bh
                d.description.append(box.title)
            d.edges.append((cx, prev_y, cx, concat_y))
        d.height = concat_y + io_h + pad
        return d

    def _branch_box(self, layer: BranchLayer, b: Block, x, y, w, h, probe: bool) -> Box:
        kernel = _kernel_text(layer.kernel) if layer.kernel else ""
        if layer.type == "pool":
            kind = "pool"
            first = " ".join(s for s in (
                self._("%(type)s pool", type=layer.pool_type) if layer.pool_type else self._("pool"),
                kernel) if s)
            second = ""
            if layer.filters is not None:  # unusual, but show it
                second = self._("%(n)s filters", n=layer.filters)
        else:
            kind = "conv"
            first = " ".join(s for s in (self._("conv"), kernel) if s)
            parts = []
            if layer.filters is not None:
                parts.append(self._("%(n)s filters", n=layer.filters))
            parts.append(layer.activation if layer.activation else self._("no activation"))
            second = " · ".join(parts)
        third = ""
        key = layer.location.rsplit("/", 1)[-1]
        if probe and layer.argument:
            third = "← " + layer.argument
        elif not layer.ok and key in (b.expected or {}) and b.expected.get(key) is not None:
            third = self._("paper: %(n)s", n=b.expected[key])
        if not layer.ok:
            first = "✗ " + first
        lines = [s for s in (first, second, third) if s]
        title = f"{layer.location}: " + ", ".join(lines)
        return Box(x, y, w, h, [_fit(s, 22) for s in lines], kind, bad=not layer.ok, title=title)

    def blocks(self) -> list[dict]:
        out = []
        for i, b in enumerate(self.r.model.blocks):
            diffs = []
            for _, key in TABLE1_COLUMNS:
                want, got = (b.expected or {}).get(key), (b.actual or {}).get(key)
                if want is not None and _int(got) != _int(want):
                    diffs.append({"column": key, "expected": want, "actual": "—" if got is None else got})
            if self.generic:
                ok = b.ok and not diffs and all(l.ok for br in b.branches for l in br)
                diagram, title = self.diagram(b), ""
            else:  # b.ok counts the identity shortcut, which has no layer, as a missing branch
                spec = self.arch.drawing(b)
                diagram, ok = self.drawer.block(b, spec)
                ok = ok and not diffs
                title = self._(spec.title)
            out.append({"id": f"block-{i}", "b": b, "ok": ok, "diffs": diffs, "diagram": diagram,
                        "location": b.location, "kind": title,
                        "output": _hwc(b.output_shape) if b.output_shape is not None else "—"})
        return self._with_segments(out)

    def _with_segments(self, blocks: list[dict]) -> list[dict]:
        """The blocks, with the chains the architecture draws apart (DenseNet's transitions)
        put in network order among them: by the position of their first layer."""
        if self.generic:
            return blocks
        layers = self.r.model.layers
        segments = self.arch.drawn_segments([r.location for r in layers])
        if not segments:
            return blocks
        by = {d.kind: d for d in self.arch.drawings}
        first = {}
        for k, r in enumerate(layers):
            for loc in {r.location, r.location.rsplit("_", 1)[0]}:
                first.setdefault(loc, k)
        items = [(first.get(b["location"], first.get(b["location"] + "_" + "0_bn", len(layers))), 0, b) for b in blocks]
        at = {r.location: k for k, r in enumerate(layers)}
        for j, (prefix, kind) in enumerate(segments):
            want = set(self.arch.segment_layers(prefix, [r.location for r in layers]))
            rows = [r for r in layers if r.location in want]
            diagram, ok = self.drawer.chain(prefix, by[kind], rows)
            last = rows[-1] if rows else None
            items.append((first.get(prefix, at[rows[0].location] if rows else len(layers)), 1, {
                "id": f"segment-{j}", "b": None, "ok": ok, "diffs": [], "diagram": diagram, "location": prefix,
                "kind": self._(by[kind].title),
                "output": _hwc(last.output_shape) if last is not None and last.output_shape is not None else "—"}))
        return [b for *_, b in sorted(items, key=lambda t: (t[0], t[1]))]

    def probe(self) -> dict | None:
        p = self.r.model.probe
        if p is None:
            return None
        if self.generic:
            ok = p.ok and all(l.ok for br in p.branches for l in br)
            return {"id": "probe", "b": p, "ok": ok, "diagram": self.diagram(p, probe=True), "kind": ""}
        spec = self.arch.drawing(p)
        diagram, ok = self.drawer.block(p, spec, probe=True)
        return {"id": "probe", "b": p, "ok": ok, "diagram": diagram, "kind": self._(spec.title)}

    # -- layers --------------------------------------------------------------
    def layers(self) -> list[dict]:
        rows = []
        for r in self.r.model.layers:
            # 1×1×2048 (a pool of the whole map) and 2048 (a global pool) are the same output, as in Table 1
            got, want = _dims(r.output_shape), _dims(r.expected_output_shape)
            shape_bad = (r.output_shape != r.expected_output_shape if got is None or want is None
                         else _squeeze(got) != _squeeze(want))
            params_bad = r.params != r.expected_params
            # the diagnosis's verdict where the report has one: a difference the rules accept
            # (a convolution without bias, a pool of the whole map) is no mistake, and one that
            # only follows from an earlier finding is not this layer's
            status = r.status or ("wrong" if shape_bad or params_bad else "ok")
            if status == "ok":
                shape_bad = params_bad = False
            rows.append({
                "r": r,
                "bad": status == "wrong",
                "follows": status == "follows",
                "shape_bad": shape_bad,
                "params_bad": params_bad,
                "expected_shape": _value(r.expected_output_shape),
                "shape": _value(r.output_shape),
                "expected_params": _num(r.expected_params, self.locale),
                "params": _num(r.params, self.locale),
                "source": self._source_label(_as_source(r.source)),
            })
        return rows

    # -- the graded model ------------------------------------------------------------
    def origin(self) -> dict | None:
        """Which object was graded and how it was obtained, as one sentence."""
        o = self.r.model.origin
        if o is None:
            return None
        label = self._source_label(o.source)
        at = label["text"] if label else ""
        if o.how == "builder":
            text = self._("built by calling %(call)s", call=o.call or o.name + "()")
            if o.wrapped:
                text = self._("built by calling %(call)s and wrapping its outputs in a Model", call=o.call or o.name + "()")
        elif o.how == "object":
            text = (self._("the global %(name)s, built at %(where)s", name=o.name, where=at) if at
                    else self._("the global %(name)s", name=o.name))
        elif o.how == "global":
            text = self._("%(name)s, the largest model among the script's globals", name=o.name)
        elif o.how == "task":
            text = self._("the block function graded alone: %(call)s", call=o.call or o.name + "()")
        elif o.how == "wrapped":
            text = self._("the network the script built from its Input at %(where)s without a Model, wrapped as %(call)s",
                          where=at or "?", call=o.call or "Model()")
        else:
            text = self._("the model %(name)s built at %(where)s, which the script did not keep in a global",
                          name=o.name, where=at or "?")
        return {"text": text, "graded": self.r.status != "failed"}

    # -- failure -----------------------------------------------------------------
    def error(self) -> dict | None:
        e = self.r.error
        if not e and self.r.status != "failed":
            return None
        e = e or {}
        src = _as_source(e.get("source"))
        return {
            "type": str(e.get("type") or ""),
            "message": str(e.get("message") or ""),
            "source": self._source_label(src),
            "snippet": self.sources.snippet(src),
        }

    # -- output --------------------------------------------------------------------
    @staticmethod
    def _output(text: str) -> dict:
        text = text or ""
        cut = max(0, len(text) - _MAX_OUTPUT_CHARS)
        return {"text": text[-_MAX_OUTPUT_CHARS:] if cut else text, "cut": cut,
                "lines": text.count("\n") + (1 if text and not text.endswith("\n") else 0)}

    def context(self) -> dict:
        r = self.r
        findings = self.findings()
        layers = self.layers()
        model = r.model
        table1_rows, table1_notes = self.table1_view()
        return {
            "lang": self.lang.replace("_", "-"),
            "r": r,
            "sub": r.submission,
            "graded_at": self._when(r.graded_at),
            "committed_at": self._when(r.submission.committed_at),
            "score": _num(round(r.score, 2), self.locale),
            "max_score": _num(round(r.max_score, 2), self.locale),
            "percent": _num(r.percent, self.locale),
            "score_pct": max(0.0, min(100.0, r.percent)),
            "duration": _num(round(r.duration_s, 1), self.locale) if r.duration_s is not None else None,
            "parts": self.parts(),
            "counts": {s: r.count(s) for s in ("error", "warning", "info")},
            "findings": findings,
            "error": self.error(),
            "origin": self.origin(),
            "table1": table1_rows if r.architecture == "googlenet" else [],
            "googlenet": r.architecture == "googlenet",
            "arch_title": self.arch.title if self.arch else "GoogLeNet (Inception v1)",
            # a network graded against a solution file: the header names the file, not "the assignment"
            "reference_file": self.arch.reference_file if self.arch else "",
            "named": bool(r.assignment) and self.arch is not None and r.assignment == self.arch.title,
            "as_expected": self._(self.arch.as_expected) if self.arch else self._("as in the paper"),
            "blocks_title": self._(self.arch.blocks_title) if self.arch else self._("The inception blocks"),
            "blocks_legend": self._(self.arch.blocks_legend) if self.arch else "",
            "table1_notes": table1_notes,
            "table1_given": bool(self.table1),
            "blocks": self.blocks(),
            "probe": self.probe(),
            "layers": layers,
            "layers_bad": sum(1 for x in layers if x["bad"]),
            "layers_follow": sum(1 for x in layers if x["follows"]),
            "total_params": _num(model.total_params, self.locale),
            "reference_total_params": _num(model.reference_total_params, self.locale),
            "params_bad": (model.total_params is not None
                           and model.total_params != model.reference_total_params),
            "stdout": self._output(r.stdout),
            "stderr": self._output(r.stderr),
            "pygments_css": Markup(pygments_css()),
        }



