"""What the grader did to run the code as students write it, as info findings:
training calls skipped, missing packages stubbed, Keras 2 spellings read as
Keras 3 (see "Running the code students write" in the README)."""

from __future__ import annotations

from .context import Diagnoser
from .messages import M_LEGACY_ARGUMENTS, M_LEGACY_BEHAVIOUR, M_LEGACY_MODULES, M_SKIPPED, M_STUBBED
from .text import where


def training_skipped(d: Diagnoser, notes):
    """One info finding per training call the child skipped, at its line."""
    for note in notes:
        if note.get("kind") == "training_skipped":
            src = note.get("source")
            d.add("training_skipped", "info", "data", M_SKIPPED, {}, None, note.get("call"),
                  source=(src["file"], src["line"]) if src else None, order=1e9)


def deepest(shown):
    """`import a.b` also imports `a`: of the names met at the same place, keep the deepest."""
    return [(m, p) for m, p in shown if not any(o.startswith(m + ".") and q == p for o, q in shown)]


def tolerance_notes(d: Diagnoser, notes):
    """One info finding per missing package, at its first import; one per kind of
    Keras 2 spelling (module paths, arguments, behaviour), at its first use, listing
    each mapping with where it was met."""
    groups: dict = {}
    for note in notes:
        kind = note.get("kind")
        if kind == "import_stubbed":
            key = (kind, note.get("package") or str(note.get("module", "")).split(".")[0])
        elif kind == "legacy_api":
            key = (kind, note.get("what"))
        else:
            continue
        groups.setdefault(key, []).append(note)
    templates = {"module": M_LEGACY_MODULES, "argument": M_LEGACY_ARGUMENTS, "behaviour": M_LEGACY_BEHAVIOUR}
    for key, group in groups.items():
        # in the order of the file, whatever order the code met them in
        group = sorted(group, key=lambda n: (n["source"]["file"], n["source"]["line"]) if n.get("source") else ("", 0))
        srcs = [(n["source"]["file"], n["source"]["line"]) if n.get("source") else None for n in group]
        places = [where(d.source_of(s)) if s else "?" for s in srcs]
        if key[0] == "import_stubbed":
            shown = deepest([(n.get("module", ""), p) for n, p in zip(group, places)])
            detail = ", ".join(f"`{m}` at {p}" for m, p in shown)
            d.add("import_stubbed", "info", "data", M_STUBBED, {"detail": detail}, None, key[1], source=srcs[0], order=1e9)
            continue
        mapped: dict = {}  # (old, new) -> places, in the order met
        for n, p in zip(group, places):
            mapped.setdefault((n.get("old", ""), n.get("new", "")), []).append(p)
        pairs = deepest([(old, ", ".join(dict.fromkeys(ps))) for (old, _), ps in mapped.items()])
        new_of = {old: new for old, new in mapped}
        detail = "; ".join(f"`{old}` → `{new_of[old]}` ({p})" for old, p in pairs)
        d.add("legacy_api", "info", "data", templates.get(key[1], M_LEGACY_BEHAVIOUR), {"detail": detail},
              None, [old for old, _ in pairs], source=srcs[0], order=1e9)
