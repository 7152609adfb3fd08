"""The grader's own distribution: its name, the requirement that installs exactly
this grader, and a wheel of the running installation.

The import package and the command are ``grader``, but the distribution is
``keras-arch-grader``: ``grader`` on PyPI is an unrelated project, so a
generated workflow or autograder that said ``pip install grader`` would install
a stranger's code.  Everything the grader generates installs the grader that
generated it: ``init-ci`` pins the running version, the Gradescope autograder
carries the running installation as a wheel.

TensorFlow is not a dependency (the grader uses the one already installed); the
``[cpu]`` extra brings one for a bare machine.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from ._version import __version__

__all__ = [
    "CPU_EXTRA",
    "DISTRIBUTION",
    "DistError",
    "Wheel",
    "build_wheel",
    "install_spec",
    "normalize",
    "requirement",
    "source_tree",
    "with_cpu_extra",
]

DISTRIBUTION = "keras-arch-grader"
CPU_EXTRA = "cpu"
#: The top-level packages of the distribution: only ``grader`` (setup.py).
PACKAGES = ("grader",)
#: The folders of the source tree a wheel is built from: the package, and the
#: assignment files it installs as ``grader/assignments/``.
SOURCE_FOLDERS = ("grader", "reference")
#: The unrelated project that owns this name on PyPI.
FOREIGN_NAMES = ("grader",)

# PEP 508, as much as a one-word pip argument needs: NAME [EXTRAS] [VERSION SPEC | @ URL]
_REQ = re.compile(r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
                  r"(?:\[(?P<extras>[^\]]*)\])?\s*(?P<rest>.*?)\s*$")
_URL = re.compile(r"^(?:git\+|hg\+|svn\+|bzr\+)?[A-Za-z][A-Za-z0-9+.-]*://")
_ARCHIVE = re.compile(r"\.(?:whl|tar\.gz|tgz|zip|tar\.bz2)$", re.I)


class DistError(RuntimeError):
    """The grader's own wheel could not be made; the message says why and what to do."""


def normalize(name: str) -> str:
    """A distribution name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(version: str | None = None, *, cpu: bool = True) -> str:
    """The requirement of this very grader: ``keras-arch-grader[cpu]==0.1.0``."""
    extra = f"[{CPU_EXTRA}]" if cpu else ""
    return f"{DISTRIBUTION}{extra}=={version or __version__}"


def with_cpu_extra(spec: str) -> str:
    """``spec`` (a pip argument: requirement, URL or path of the grader) with the
    ``[cpu]`` extra, for a machine that has no TensorFlow (a CI runner, the
    Gradescope image).  Raises ValueError for the unrelated ``grader`` project."""
    s = spec.strip()
    if not s:
        raise ValueError("the install spec must not be empty")
    if _URL.match(s):
        return f"{DISTRIBUTION}[{CPU_EXTRA}] @ {s}"
    m = _REQ.match(s)
    rest = m.group("rest") if m else ""
    if m and (not rest or rest.startswith("@") or rest[0] in "<>=!~;"):  # NAME[extras] [spec | @ URL]
        if normalize(m.group("name")) in FOREIGN_NAMES:
            raise ValueError(f"{m.group('name')!r} on PyPI is an unrelated project, not this grader: "
                             f"install {DISTRIBUTION} (e.g. {requirement()!r}), a git+URL or a path")
        sep = " " if rest.startswith("@") else ""
        return f"{m.group('name')}[{_merge_extras(m.group('extras') or '')}]{sep}{rest}"
    if s.startswith((".", "/", "~")) or _ARCHIVE.search(s) or "/" in s or os.sep in s:
        if s.endswith("]") and "[" in s:  # a path with extras already: ./grader[test]
            head, extras = s[:-1].rsplit("[", 1)
            return f"{head}[{_merge_extras(extras)}]"
        return f"{s}[{CPU_EXTRA}]"
    raise ValueError(f"cannot read the install spec {spec!r}: give a requirement such as "
                     f"{requirement()!r}, a URL (git+https://...) or a path")


def _merge_extras(extras: str) -> str:
    names = [e.strip() for e in extras.split(",") if e.strip()]
    if CPU_EXTRA not in names:
        names.append(CPU_EXTRA)
    return ",".join(sorted(names))


def install_spec(install: str | None) -> str:
    """What a generated CI job installs: this grader pinned to the running version
    with the ``[cpu]`` extra, or ``install`` with that extra added."""
    return requirement() if install is None else with_cpu_extra(install)


# --------------------------------------------------------------------------- the wheel


@dataclass(frozen=True)
class Wheel:
    filename: str  # keras_arch_grader-0.1.0-py3-none-any.whl
    data: bytes
    origin: str  # "source tree /path" | "installed files /path"


def wheel_filename(version: str | None = None) -> str:
    return f"{DISTRIBUTION.replace('-', '_')}-{version or __version__}-py3-none-any.whl"


def source_tree() -> Path | None:
    """The project folder when the running grader is imported from one (an
    editable install or a checkout), else None (an installed wheel)."""
    root = Path(__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(r'^\s*name\s*=\s*"([^"]+)"', text, re.M)
    return root if m and normalize(m.group(1)) == DISTRIBUTION else None


def build_wheel() -> Wheel:
    """A wheel of the running grader: built from its source tree for an editable
    install or a checkout (the files as they are now), otherwise packed from the
    installed files listed in the distribution's RECORD."""
    src = source_tree()
    if src is not None:
        return _from_source(src)
    return _from_installed()


def _from_source(src: Path) -> Wheel:
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as tmp:
        # a clean copy of what the wheel is made of: setuptools builds in the tree it
        # is given, and a build/ folder left there would carry files deleted since
        tree = Path(tmp) / "src"
        tree.mkdir()
        junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
        for name in ("pyproject.toml", "README.md", "setup.cfg", "setup.py", "LICENSE", "LICENSE.txt"):
            if (src / name).is_file():
                shutil.copy2(src / name, tree / name)
        for folder in SOURCE_FOLDERS:
            shutil.copytree(src / folder, tree / folder, ignore=junk)
        out = Path(tmp) / "wheel"
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(tree)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise DistError(f"could not build the grader's wheel from {src}: {e}") from None
        wheels = sorted(out.glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-12:]
            raise DistError(f"could not build the grader's wheel from {src} (pip wheel exited {proc.returncode}): "
                            + " | ".join(tail) + "; check that pip can reach setuptools (pip wheel needs it)")
        return Wheel(wheels[0].name, wheels[0].read_bytes(), f"source tree {src}")


def _our_distribution() -> metadata.Distribution:
    here = Path(__file__).resolve().parent / "__init__.py"
    for dist in metadata.distributions(name=DISTRIBUTION):
        try:
            if Path(dist.locate_file("grader/__init__.py")).resolve() == here:
                return dist
        except (OSError, TypeError):
            continue
    raise DistError(f"the running grader ({here.parent}) belongs to no installed {DISTRIBUTION} distribution; "
                    f"install it with pip (pip install {DISTRIBUTION}) or run it from its source tree")


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _from_installed() -> Wheel:
    dist = _our_distribution()
    version = dist.version
    info = f"{DISTRIBUTION.replace('-', '_')}-{version}.dist-info"
    entries: dict[str, bytes] = {}
    for f in dist.files or ():
        rel = PurePosixPath(str(f).replace(os.sep, "/"))
        if ".." in rel.parts or "__pycache__" in rel.parts or rel.suffix == ".pyc":
            continue
        top = rel.parts[0]
        if top in PACKAGES:
            pass
        elif top.endswith(".dist-info"):
            # what pip wrote at install time is not part of the wheel
            if rel.name in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "WHEEL"):
                continue
            rel = PurePosixPath(info, *rel.parts[1:])
        else:
            continue
        try:
            entries[str(rel)] = Path(dist.locate_file(f)).read_bytes()
        except OSError as e:
            raise DistError(f"cannot read the installed file {f}: {e}; reinstall {DISTRIBUTION}") from None
    if not any(n.startswith("grader/") for n in entries) or f"{info}/METADATA" not in entries:
        raise DistError(f"the installed {DISTRIBUTION} lists no package files in its RECORD; reinstall it")
    entries[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: grader (from the installed files)\n"
                                b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    buf = io.BytesIO()
    rows = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            data = entries[name]
            zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            zi.external_attr = 0o100644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
            rows.append((name, _record_hash(data), str(len(data))))
        rows.append((f"{info}/RECORD", "", ""))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        zi = zipfile.ZipInfo(f"{info}/RECORD", date_time=(2020, 1, 1, 0, 0, 0))
        zi.external_attr = 0o100644 << 16
        zi.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(zi, out.getvalue())
    return Wheel(wheel_filename(version), buf.getvalue(), f"installed files {Path(dist.locate_file('')).resolve()}")
