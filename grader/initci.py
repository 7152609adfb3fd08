"""CI workflow files that run the grader: GitHub Actions and GitLab CI.

The templates live in ``grader/templates/ci/``.  They are YAML, so they are
rendered without HTML autoescaping.  The shell commands are built here with
:mod:`shlex` quoting around every value that comes from the user, and the
templates put each through the ``yaml`` filter, which emits a YAML scalar that
loads back as exactly that string (a ``sh`` filter is there for templates that
need shell quoting of their own).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import jinja2

__all__ = [
    "CODEQUALITY_FILE",
    "JUNIT_FILE",
    "KINDS",
    "OUT_DIR",
    "render_workflow",
    "workflow_path",
    "write_workflow",
    "yaml_scalar",
]

KINDS = ("github", "gitlab")
JUNIT_FILE = "grader-junit.xml"
OUT_DIR = "grader-report"
CODEQUALITY_FILE = "gl-code-quality-report.json"

_TEMPLATES = {"github": "ci/github.yml.j2", "gitlab": "ci/gitlab-ci.yml.j2"}
_PATHS = {"github": Path(".github/workflows/grader.yml"), "gitlab": Path(".gitlab-ci.yml")}

# A plain YAML scalar needs no quotes only when it is this boring.
_PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./+=@' -]*")
# ...and is not something YAML 1.1 or 1.2 would read as another type.
_SPECIAL = re.compile(
    r"=|(?i:y|n|yes|no|on|off|true|false|null|~|\.nan|[-+]?\.inf)"
    r"|[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?"
    r"|[-+]?0[xob][0-9a-fA-F_]+|\d+(:[0-5]?\d)+(\.\d*)?"
)
_PYTHON = re.compile(r"[0-9][0-9A-Za-z.+-]*")


def yaml_scalar(value: object) -> str:
    """``value`` as a YAML scalar that loads back as the same string.

    Plain when that is unambiguous, otherwise a double-quoted scalar (JSON
    string syntax, which YAML's double-quoted style accepts).
    """
    s = str(value)
    if _PLAIN.fullmatch(s) and not _SPECIAL.fullmatch(s) and not s.endswith(" ") and "  " not in s:
        return s
    return json.dumps(s, ensure_ascii=False)


def _check(name: str, value: str) -> str:
    if not value or not value.strip():
        raise ValueError(f"{name} must not be empty")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(f"{name} must be one line without control characters: {value!r}")
    if "${{" in value:
        raise ValueError(f"{name} must not contain '${{{{' (a GitHub Actions expression): {value!r}")
    return value


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader", "templates"),
        autoescape=False,  # YAML, not HTML: quoting is done by the filters below
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yaml"] = yaml_scalar
    env.filters["sh"] = lambda v: shlex.quote(str(v))
    return env


def render_workflow(
    kind: str,
    *,
    install: str,
    python: str = "3.11",
    submission: str | None = None,
) -> str:
    """The text of the CI workflow of ``kind`` (``"github"`` or ``"gitlab"``).

    ``install`` is what ``pip install`` gets, verbatim (a requirement such as
    ``keras-arch-grader[cpu]==0.1.0``: see :func:`grader.dist.install_spec`,
    which the CLI uses); ``submission`` the folder or
    file to grade, relative to the repository root (default: the root).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown CI kind {kind!r}: expected one of {', '.join(KINDS)}")
    _check("install", install)
    python = _check("python", str(python)).strip()
    if not _PYTHON.fullmatch(python):
        raise ValueError(f"python must be a version such as 3.11, not {python!r}")
    check = ["grader", "check", "--ci", "--junit", JUNIT_FILE, "--out", OUT_DIR]
    if submission is not None:
        check.append(_check("submission", submission))
    context = {
        "python": python,
        "install_cmd": f"pip install {shlex.quote(install.strip())}",
        "check_cmd": shlex.join(check),
        "junit": JUNIT_FILE,
        "out_dir": OUT_DIR,
        "codequality": CODEQUALITY_FILE,
    }
    return _env().get_template(_TEMPLATES[kind]).render(**context)


def workflow_path(kind: str, repo: Path) -> Path:
    """Where the workflow of ``kind`` goes in ``repo``."""
    if kind not in KINDS:
        raise ValueError(f"unknown CI kind {kind!r}: expected one of {', '.join(KINDS)}")
    return Path(repo) / _PATHS[kind]


def write_workflow(kind: str, repo: Path, *, force: bool = False, **kw) -> Path:
    """Render the workflow and write it into ``repo``; returns its path.

    An existing file with the same text is left alone; one with different text
    is kept, raising :class:`FileExistsError`, unless ``force`` is true.
    """
    text = render_workflow(kind, **kw)
    path = workflow_path(kind, repo)
    if path.exists() and not force:
        try:
            same = path.read_text(encoding="utf-8") == text
        except (OSError, UnicodeDecodeError):
            same = False
        if same:
            return path
        raise FileExistsError(
            f"{path} already exists and differs from the generated workflow; "
            f"use --force to overwrite it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return path
