"""Atomic file writes (a reader, or a batch killed with SIGKILL, never sees half a
file) and file names made safe to show and to use as ids."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]|[\ud800-\udfff]")


def safe_name(name: str) -> str:
    """A file name as text that is valid UTF-8 and holds no control characters:
    bytes that are not UTF-8 (Python's surrogate escapes) and newlines, tabs ...
    become backslash escapes (``b"bad\\xffname"`` -> ``bad\\xffname``), so the
    name can be an id, a folder name, a JSON string and a line of a CSV."""
    if not _UNSAFE_CHARS.search(name):
        return name
    try:
        raw = name.encode("utf-8", "surrogateescape")  # the surrogates are the bytes that were not UTF-8
    except UnicodeEncodeError:  # a surrogate that did not come from a file name
        raw = name.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    return _UNSAFE_CHARS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def is_safe_name(name: str) -> bool:
    return not _UNSAFE_CHARS.search(name)
