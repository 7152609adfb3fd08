"""The HTML report as a fragment for a notebook's output cell (``grader.check()``).

The same templates as ``report.html``, wrapped in one ``<div class="grader-report">``:
the page's style sheet is rewritten so that every rule applies inside that
element only (``body``, ``html`` and ``:root`` rules apply to the element itself;
``@page`` rules are left out), and every id and every reference to one
(``href="#x"``, ``for``, ``aria-labelledby``, ``#x`` in a selector) gets the
element's own id as prefix, so a notebook can show several reports.
"""

from __future__ import annotations

import re
import uuid

from markupsafe import Markup

from . import html as _html

__all__ = ["ROOT_CLASS", "render_fragment", "scope_css"]

ROOT_CLASS = "grader-report"

#: Before the report's own rules (which win over these at equal specificity): what a
#: notebook's style sheet commonly sets on rendered output (JupyterLab right-aligns
#: table cells, stripes rows, colours headings for its theme) does not reach the report.
BASE_CSS = """
.grader-report { display: block; text-align: left; }
.grader-report h1, .grader-report h2, .grader-report h3, .grader-report p, .grader-report li,
.grader-report th, .grader-report td, .grader-report dt, .grader-report dd { color: var(--fg); }
.grader-report th, .grader-report td { text-align: left; }
.grader-report tr, .grader-report tr:hover { background: transparent; }
.grader-report table { margin: 0; }
"""

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_ID_SELECTOR = re.compile(r"#([A-Za-z][\w-]*)")


def _blocks(css: str):
    """Top-level items of a style sheet: (prelude, body) for ``prelude { body }``."""
    i, n = 0, len(css)
    while i < n:
        j = css.find("{", i)
        if j < 0:
            return
        depth, k = 1, j + 1
        while k < n and depth:
            if css[k] == "{":
                depth += 1
            elif css[k] == "}":
                depth -= 1
            k += 1
        yield css[i:j].strip(), css[j + 1:k - 1]
        i = k


def _scope_selector(sel: str, root: str, id_prefix: str) -> str:
    sel = sel.strip()
    if id_prefix:
        sel = _ID_SELECTOR.sub(lambda m: f"#{id_prefix}-{m.group(1)}", sel)
    head = re.match(r"(:root|html|body)\b", sel)
    if head:
        rest = sel[head.end():].strip()
        return root if not rest else f"{root} {rest}"
    if sel == "*":
        return f"{root}, {root} *"
    return f"{root} {sel}"


def scope_css(css: str, root: str = "." + ROOT_CLASS, id_prefix: str = "") -> str:
    """``css`` with every rule applying inside ``root`` only (nested ``@media`` and
    ``@supports`` blocks too; ``@page`` and other global at-rules dropped), and ids
    in selectors prefixed with ``id_prefix`` + ``-``."""
    out = []
    for prelude, body in _blocks(_COMMENT.sub("", css)):
        if prelude.startswith("@media") or prelude.startswith("@supports"):
            inner = scope_css(body, root, id_prefix)
            if inner.strip():
                out.append(f"{prelude} {{\n{inner}\n}}")
        elif prelude.startswith("@"):
            continue  # @page, @font-face, @import...: not for a part of someone else's page
        else:
            sels = [s for s in prelude.split(",") if s.strip()]
            out.append(", ".join(_scope_selector(s, root, id_prefix) for s in sels) + " {" + body + "}")
    return "\n".join(out)


_ID_ATTR = re.compile(r'\b(id|for)="([^"#]+)"')
_HREF = re.compile(r'\bhref="#([^"]+)"')
_REFS = re.compile(r'\b(aria-labelledby|aria-describedby|aria-controls)="([^"]+)"')


def _prefix_ids(markup: str, prefix: str) -> str:
    markup = _ID_ATTR.sub(lambda m: f'{m.group(1)}="{prefix}-{m.group(2)}"', markup)
    markup = _HREF.sub(lambda m: f'href="#{prefix}-{m.group(1)}"', markup)
    return _REFS.sub(lambda m: f'{m.group(1)}="' + " ".join(f"{prefix}-{t}" for t in m.group(2).split()) + '"',
                     markup)


def render_fragment(report, *, lang: str = "en", source_files=None, table1=None, part_titles=None,
                    root_id: str | None = None) -> str:
    """The report as one element (a ``<div class="grader-report">`` with its own
    scoped ``<style>``), ready for ``IPython.display.HTML``."""
    from .. import i18n

    root_id = root_id or f"grader-{uuid.uuid4().hex[:10]}"
    env = _html._environment(i18n.get_translations(i18n.normalize_lang(lang)))
    css = env.get_template("_styles.j2").render() + "\n" + _html.pygments_css()
    scoped = BASE_CSS.strip() + "\n" + scope_css(css, "." + ROOT_CLASS, root_id)
    text = _html._render("report_fragment.html.j2", report, lang=lang, source_files=source_files, table1=table1,
                         locale_dir=None, part_titles=part_titles, scoped_css=Markup(scoped),
                         root_id=Markup(root_id), root_class=ROOT_CLASS)
    # the root's own id is not prefixed again (the style sheet names ids by then)
    body = _prefix_ids(text, root_id).replace(f'id="{root_id}-{root_id}"', f'id="{root_id}"')
    return body
