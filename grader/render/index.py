"""The class overview: ``OUT/index.html`` of ``grader batch``.

One self-contained page (inline CSS and SVG, a few lines of inline script that
only add sort buttons; the page is complete without them): the score
distribution and the average per rubric part as SVG plots, the problems most
students share (root findings grouped by code and location), the submissions
that could not be graded, the collection failures of ``collect.csv``, and a
table of every student linking to their ``<id>/report.html``.

``render_index(reports, assignment=..., collect_rows=..., lang=...)`` returns the
page; ``reports`` is a list of ``(id, Report or None, problem or None)`` as
``grader.batch.load_reports`` gives it.  Rendered with autoescaping on: nothing
from a submission can inject markup.  The page's text comes from the same
message catalogs as the reports (``grader/locale``), and so do the rubric part
titles, unless the assignment file gives its own (``[part_titles.LANG]``).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from functools import lru_cache
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from .. import i18n
from ..report import FATAL

__all__ = ["render_index", "histogram", "part_chart"]

_SEV_RANK = {"error": 0, "warning": 1, "info": 2}
#: How many groups of common findings are listed (the rest are counted).
TOP_FINDINGS = 25
#: Collection statuses that are not failures.
COLLECT_OK = ("ok", "late")


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
    env.filters["num"] = _num
    # markup around a value that goes into a translated sentence (escaped, then wrapped)
    env.filters["codetag"] = lambda v: Markup("<code>%s</code>") % escape(str(v))
    env.filters["timetag"] = lambda v: Markup('<time datetime="%s">%s</time>') % (escape(str(v)), escape(str(v)))
    return env


def _num(x, digits: int = 1) -> str:
    """12.0 -> "12", 12.345 -> "12.3", None -> "–"."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    s = f"{round(float(x), digits):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _href(sid: str) -> str:
    return quote(sid, safe="") + "/report.html"


def _first_line(text: str, limit: int = 300) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


# ---------------------------------------------------------------------------
# plots (geometry here, markup in the template)
# ---------------------------------------------------------------------------
def _nice_step(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if top / step <= 5:
            return step
    return int(math.ceil(top / 5))


def histogram(percents: list[float], bins: int = 10) -> dict:
    """Counts of scores (percent of the maximum) in ``bins`` equal bins, the last one
    including 100, laid out as an SVG bar chart."""
    counts = [0] * bins
    for p in percents:
        i = min(bins - 1, max(0, int(p * bins // 100)))
        counts[i] += 1
    width, height = 560, 300
    left, right, top, bottom = 44, 8, 20, 52
    pw, ph = width - left - right, height - top - bottom
    ymax = max(counts) if counts and max(counts) else 1
    step = _nice_step(ymax)
    ymax = int(math.ceil(ymax / step) * step)
    bw = pw / bins
    bars = []
    for i, c in enumerate(counts):
        lo, hi = 100 * i // bins, 100 * (i + 1) // bins
        label = f"{lo}–{hi}" if i == bins - 1 else f"{lo}–{hi - 1}"
        h = ph * c / ymax
        bars.append({
            "x": round(left + i * bw + 3, 1), "y": round(top + ph - h, 1), "w": round(bw - 6, 1), "h": round(h, 1),
            "cx": round(left + i * bw + bw / 2, 1), "count": c, "label": label,
            "ty": round(top + ph - h - 5, 1),
        })
    ticks = [{"y": round(top + ph - ph * v / ymax, 1), "v": v} for v in range(0, ymax + 1, step)]
    desc = "; ".join(f"{b['label']}%: {b['count']}" for b in bars)
    return {"width": width, "height": height, "left": left, "right": width - right, "top": top,
            "base": top + ph, "bars": bars, "ticks": ticks, "desc": desc, "xlabel_y": height - 10,
            "label_y": top + ph + 18, "ylabel_x": 14, "ylabel_y": top + ph / 2}


def part_chart(parts: list[dict], gettext=lambda s: s) -> dict:
    """Horizontal bars, one per rubric part with its title above: the class average
    as a share of the part's points."""
    width, row = 560, 46
    bar_w, value_x = 400, 410
    top = 4
    rows = []
    for i, p in enumerate(parts):
        y = top + i * row
        frac = 0.0 if not p["max"] or p["mean"] is None else max(0.0, min(1.0, p["mean"] / p["max"]))
        rows.append({**p, "ly": y + 14, "by": y + 20, "ty": y + 34, "bw": round(bar_w * frac, 1),
                     "pct": round(100 * frac)})
    height = top + len(parts) * row + 2
    desc = "; ".join(gettext("%(part)s: %(mean)s of %(max)s") % {"part": p["title"], "mean": _num(p["mean"]),
                                                                   "max": _num(p["max"])} for p in parts)
    return {"width": width, "height": height, "bar_w": bar_w, "value_x": value_x, "rows": rows, "desc": desc}


# ---------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------
def _context(reports, assignment, collect_rows, lang: str, translations) -> dict:
    own_titles = assignment.titles(lang) if assignment is not None and hasattr(assignment, "titles") else {}

    ok = [(sid, r) for sid, r, _ in reports if r is not None]
    unreadable = [(sid, problem) for sid, r, problem in reports if r is None]
    students = []
    for sid, r in ok:
        roots = sorted(r.roots(), key=lambda f: (_SEV_RANK.get(f.severity, 3), -(f.deduction or 0)))
        main = next((f for f in roots if f.severity != "info"), None)
        s = r.submission
        students.append({
            "id": sid, "href": _href(sid), "score": r.score, "max": r.max_score, "percent": r.percent,
            "status": r.status, "errors": r.count("error"), "warnings": r.count("warning"),
            "late": s.late, "commit": (s.commit or "")[:10],
            "main": f"{main.code} at {main.location}" if main else "",
            "main_code": main.code if main else "", "main_location": main.location if main else "",
            "main_msg": _first_line(i18n.translate_finding(main, lang), 200) if main else "",
            # its score is withheld until the instructor has looked (integrity)
            "review": any(f.code == "integrity" for f in roots),
        })
    for sid, problem in unreadable:
        students.append({"id": sid, "href": _href(sid), "score": None, "max": None, "percent": None,
                         "status": "unreadable", "errors": None, "warnings": None, "late": None, "commit": "",
                         "main": "", "main_msg": problem or ""})
    students.sort(key=lambda s: s["id"])
    scores = [r.score for _, r in ok]
    percents = [r.percent for _, r in ok]
    maxes = sorted({r.max_score for _, r in ok})
    stats = {
        "n": len(reports), "graded": sum(r.status == "graded" for _, r in ok),
        "failed": sum(r.status != "graded" for _, r in ok), "unreadable": len(unreadable),
        "max": maxes[0] if len(maxes) == 1 else None,
        "mean": statistics.fmean(scores) if scores else None,
        "median": statistics.median(scores) if scores else None,
        "min": min(scores) if scores else None, "hi": max(scores) if scores else None,
        "full": sum(r.score >= r.max_score for _, r in ok),
        "late": sum(bool(r.submission.late) for _, r in ok),
        "review": sum(s["review"] for s in students if s.get("review")),
    }
    # per-part averages, in rubric order
    sums, maxs, titles, counts = defaultdict(float), {}, {}, defaultdict(int)
    for _, r in ok:
        for p in r.parts:
            sums[p.name] += p.score
            counts[p.name] += 1
            maxs[p.name] = max(maxs.get(p.name, 0.0), p.max_score)
            titles.setdefault(p.name, own_titles.get(p.name) or translations.gettext(p.title or p.name))
    order = list(titles)  # rubric order, as the reports list their parts
    parts = [{"name": n, "title": titles[n], "mean": sums[n] / counts[n], "max": maxs[n]} for n in order]
    # the problems students share: root findings by (code, location)
    groups: dict = {}
    for sid, r in ok:
        seen = set()  # (code, location) already counted for this student
        for f in r.roots():
            k = (f.code, f.location)
            g = groups.setdefault(k, {"code": f.code, "location": f.location, "severity": f.severity,
                                      "students": [], "example": _first_line(i18n.translate_finding(f, lang)),
                                      "points": 0.0,
                                      "part": titles.get(f.part or "", f.part or "")})
            if _SEV_RANK.get(f.severity, 3) < _SEV_RANK.get(g["severity"], 3):
                g["severity"] = f.severity
            g["points"] += f.deduction or 0.0
            if k not in seen:
                seen.add(k)
                g["students"].append({"id": sid, "href": _href(sid)})
    common = sorted(groups.values(), key=lambda g: (-len(g["students"]), _SEV_RANK.get(g["severity"], 3),
                                                    g["code"], g["location"]))
    for g in common:
        g["count"] = len(g["students"])
        g["mean_points"] = g["points"] / g["count"] if g["count"] else 0.0
        g["fatal"] = g["code"] in FATAL
    shown = [g for g in common if g["severity"] != "info"][:TOP_FINDINGS]
    notes = [g for g in common if g["severity"] == "info"][:10]
    hidden = max(0, len([g for g in common if g["severity"] != "info"]) - len(shown))
    # failed submissions: the fatal finding says why
    failed = []
    for sid, r in ok:
        if r.status == "graded":
            continue
        roots = r.roots()
        fatal = next((f for f in roots if f.code in FATAL),
                     roots[0] if roots else None)
        err = r.error or {}
        src = err.get("source") if isinstance(err.get("source"), dict) else None
        where = ""
        if src and src.get("file"):
            where = (translations.gettext("%(file)s: cell %(cell)s, line %(line)s")
                     % {"file": src["file"], "cell": src.get("cell"), "line": src.get("cell_line")} if src.get("cell")
                     else f"{src['file']}:{src.get('line')}")
        failed.append({"id": sid, "href": _href(sid), "code": fatal.code if fatal else "failed",
                       "message": _first_line(i18n.translate_finding(fatal, lang) if fatal else (err.get("message") or "")),
                       "where": where})
    for sid, problem in unreadable:
        failed.append({"id": sid, "href": _href(sid), "code": "unreadable", "message": problem or "", "where": ""})
    collect_fail = []
    for row in collect_rows or []:
        st = (row.get("status") or "").strip()
        if st and st not in COLLECT_OK:
            collect_fail.append({"id": row.get("id", ""), "status": st, "repo": row.get("repo", ""),
                                 "message": _first_line(row.get("message", ""), 400)})
    collect_fail.sort(key=lambda r: r["id"])
    names = sorted({r.assignment for _, r in ok if r.assignment})
    title = getattr(assignment, "name", None) or (names[0] if len(names) == 1 else "GoogLeNet")
    versions = sorted({r.grader_version for _, r in ok if r.grader_version})
    stamps = sorted(r.graded_at for _, r in ok if r.graded_at)
    return {
        "lang": lang.replace("_", "-"), "title": title, "stats": stats, "students": students, "parts": parts,
        "hist": histogram(percents), "pchart": part_chart(parts, translations.gettext) if parts else None,
        "common": shown, "common_hidden": hidden, "notes": notes, "failed": failed,
        "collect_fail": collect_fail, "has_collect": collect_rows is not None,
        "versions": versions, "first_graded": stamps[0] if stamps else None,
        "last_graded": stamps[-1] if stamps else None,
    }


def render_index(reports, *, assignment=None, collect_rows=None, lang: str = "en") -> str:
    """The class overview page as a string, in ``lang`` (``en``, ``ko``, or any
    language with a catalog in ``grader/locale``; English otherwise)."""
    code = i18n.normalize_lang(lang)
    translations = i18n.get_translations(code)
    ctx = _context(reports, assignment, collect_rows, code, translations)
    return _environment(translations).get_template("index.html.j2").render(**ctx)
