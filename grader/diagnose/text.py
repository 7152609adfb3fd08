"""How values read in a finding: dimensions as ``3x3``, shapes without the
batch axis, places in the student's file, exception messages cut to the line
that matters, lists of locations in short; and values made JSON-friendly or
hashable for grouping."""

from __future__ import annotations

import re


def fmt(template: str, **args) -> str:
    return template.format(**args)


def jsonable(v):
    """JSON-friendly: tuples to lists."""
    if isinstance(v, tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    return v


def dims(v):
    return "x".join(str(x) for x in v) if isinstance(v, (list, tuple)) else str(v)


def shape_text(s):
    if not s:
        return "?"
    return "x".join(str(d) for d in s[1:]) if len(s) > 1 else str(s)


def where(src) -> str:
    """A report.Source as a student reads it in a sentence: "line 31", "cell 3, line 2"."""
    if src is None:
        return "?"
    if src.cell is not None:
        return f"cell {src.cell}, line {src.cell_line}"
    return f"line {src.line}"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def first_line(s: str) -> str:
    """The line of an exception message that says what went wrong (Keras wraps
    the real message in 'Exception encountered when calling ...')."""
    s = _ANSI.sub("", s or "").strip()
    for line in s.splitlines():
        line = line.strip()
        if line and not line.startswith("Exception encountered when calling"):
            return line[:300]
    return s[:300]


def first_few(items: list, n: int) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def summarise(locs: list) -> str:
    """Consecutive blocks of a stage in short: inception_4a, ..., inception_4e ->
    inception_4a-e; conv4_block1, ..., conv4_block6 -> conv4_block1-6."""
    def split(loc):
        m = re.match(r"^(.*?)(\d+|[a-z])$", loc)
        return (m.group(1), m.group(2)) if m else (loc, None)

    def follows(a, b):
        if a.isdigit() and b.isdigit():
            return int(b) == int(a) + 1
        return len(a) == len(b) == 1 and ord(b) == ord(a) + 1

    out, i = [], 0
    while i < len(locs):
        prefix, n = split(locs[i])
        j = i
        while n is not None and j + 1 < len(locs):
            p2, n2 = split(locs[j + 1])
            if p2 != prefix or n2 is None or not follows(split(locs[j])[1], n2):
                break
            j += 1
        if j == i:
            out.append(locs[i])
        elif j == i + 1:
            out += [locs[i], locs[j]]
        else:
            out.append(f"{locs[i]}-{split(locs[j])[1]}")
        i = j + 1
    return ", ".join(out)


def hashable(v):
    if isinstance(v, list):
        return tuple(hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, hashable(x)) for k, x in v.items()))
    return v
