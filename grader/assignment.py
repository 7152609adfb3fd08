"""The assignment file: what is graded, how it is scored, where the model is found.

`reference/assignment.toml` is the default; an instructor copies and edits it.
Every key is validated, and a bad file gets an error that names the key and the
values it allows.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .arch import ArchitectureError
from .arch import get as get_architecture
from .report import CODES, SEVERITIES

_HERE = Path(__file__).resolve().parent
#: The assignment files: the repository's ``reference/`` folder, which the wheel
#: installs as ``grader/assignments/`` (``[tool.setuptools] package-dir``), so
#: that nothing but ``grader`` lands at the top of site-packages.
REFERENCE_DIR = next((d for d in (_HERE / "assignments", _HERE.parent / "reference")
                      if (d / "assignment.toml").is_file()), _HERE.parent / "reference")
DEFAULT_PATH = REFERENCE_DIR / "assignment.toml"
VARIANT_PATH = REFERENCE_DIR / "assignment_variant.toml"

AUX_MODES = ("required", "optional", "forbidden")
HEADS = ("gap_dense", "dense_on_map")
SIGNATURES = ("six", "tuple", "d2l")


class AssignmentError(ValueError):
    """The assignment file is invalid; the message names the key and what is allowed."""


@dataclass(frozen=True)
class Assignment:
    path: str
    sha256: str
    name: str
    input_shape: tuple[int, int, int]
    num_classes: int
    aux: str
    lrn: bool
    head: str
    accept_dense_on_map: bool
    entry_files: tuple[str, ...]
    objects: tuple[str, ...]
    builders: tuple[str, ...]
    inception_names: tuple[str, ...]
    signatures: tuple[str, ...]
    timeout_s: float
    memory_mb: int
    cpu_s: int
    parts: dict = field(default_factory=dict)  # name -> points
    severity: dict = field(default_factory=dict)  # code -> severity override
    deductions: dict = field(default_factory=dict)  # severity -> points
    code_deductions: dict = field(default_factory=dict)  # code -> points
    substitutions: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)  # part -> element kind -> weight (default 1)
    dependent_parts: tuple = ("aux", "head", "params")  # credited in proportion to the body that is there
    architecture: str = "googlenet"  # the package of grader/architectures/ that knows it

    @property
    def arch(self):
        return get_architecture(self.architecture)
    never_stub: tuple[str, ...] = ()  # modules a missing import of must fail, never get a stand-in
    options: dict = field(default_factory=dict)  # the architecture's own options ([options])
    functions: dict = field(default_factory=dict)  # block kind -> the student's function names ([functions])
    task: dict | None = None  # a block-function task ([task]): kind, names, input_shape, args
    builder_kwargs: dict = field(default_factory=dict)  # [entry] call: what a builder is called with
    part_titles: dict = field(default_factory=dict)  # language -> {part name: title}, [part_titles.LANG]
    solution: str | None = None  # the instructor's solution file graded against ([assignment] solution)

    def titles(self, lang: str | None) -> dict:
        """The assignment's own part titles for ``lang`` (``ko-KR`` finds ``ko``), or {}."""
        if not lang:
            return {}
        code = lang.strip().replace("-", "_")
        return dict(self.part_titles.get(code) or self.part_titles.get(code.split("_")[0]) or {})

    @property
    def max_score(self) -> float:
        return float(sum(self.parts.values()))

    def request(self) -> dict:
        """What the child process needs to know to find the model and the probe."""
        return {
            "input_shape": list(self.input_shape),
            "objects": list(self.objects),
            "builders": list(self.builders),
            "num_classes": self.num_classes,
            "never_stub": list(self.never_stub),
            "probes": self.probe_specs(),
            "builder_kwargs": dict(self.builder_kwargs),
            "task": self.task,
        }

    def probe_specs(self) -> list:
        """The block functions the child calls alone: the architecture's, under the
        names the assignment gives ([inception] for GoogLeNet, [functions] for any)."""
        out = []
        for spec in self.arch.probes:
            names = self.functions.get(spec.kind)
            sigs = list(spec.signatures)
            if spec.kind == "inception" and not self.solution:  # GoogLeNet's [inception] section
                names = names or list(self.inception_names)
                sigs = [x for x in sigs if x["name"] in self.signatures]
            out.append({"kind": spec.kind, "names": list(names or spec.names), "input_shape": list(spec.input_shape),
                        "signatures": sigs})
        return out


def _get(d: dict, section: str, key: str, typ, default, allowed=None):
    sec = d.get(section, {})
    if not isinstance(sec, dict):
        raise AssignmentError(f"[{section}] must be a table")
    if key not in sec:
        return default
    v = sec[key]
    ok = isinstance(v, typ) and not (typ in (int, float, (int, float)) and isinstance(v, bool))
    if not ok:
        tname = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
        raise AssignmentError(f"{section}.{key} must be a {tname}, got {v!r}")
    if allowed is not None and v not in allowed:
        raise AssignmentError(f"{section}.{key} = {v!r} is not allowed; use one of: {', '.join(map(str, allowed))}")
    return v


def _str_list(d, section, key, default, allowed=None):
    v = _get(d, section, key, list, default)
    if not all(isinstance(x, str) and x for x in v):
        raise AssignmentError(f"{section}.{key} must be a list of non-empty strings")
    if allowed is not None:
        bad = [x for x in v if x not in allowed]
        if bad:
            raise AssignmentError(f"{section}.{key} has {bad[0]!r}; allowed values: {', '.join(allowed)}")
    return tuple(v)


KNOWN = {
    "assignment": {"name", "architecture", "input_shape", "num_classes", "aux", "lrn", "head", "accept_dense_on_map",
                   "solution"},
    "entry": {"files", "objects", "builders", "never_stub", "call"},
    "inception": {"names", "signatures"},
    "run": {"timeout_s", "memory_mb", "cpu_s"},
    "parts": None,  # the architecture's parts
    "severity": set(CODES),
    "deductions": set(SEVERITIES) | {"codes"},
    "substitutions": {"batchnorm_for_lrn", "layernorm_for_lrn", "none_for_lrn", "concat_order"},
    "weights": None,
    "credit": {"dependent"},
    "part_titles": None,  # any language code; checked by _part_titles
    "options": None,  # the architecture's options
    "functions": None,  # the architecture's block kinds
    "task": {"kind", "names", "input_shape", "args"},
}


def _weights(d: dict) -> dict:
    out = {}
    for part, table in d.get("weights", {}).items():
        if not isinstance(table, dict):
            raise AssignmentError(f"weights.{part} must be a table of element kind = weight, e.g. {{ conv = 2 }}")
        for kind, v in table.items():
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise AssignmentError(f"weights.{part}.{kind} must be a non-negative number, got {v!r}")
        out[part] = {k: float(v) for k, v in table.items()}
    return out


def _options(d: dict, arch) -> dict:
    """[options]: the architecture's own settings, each of its type or one of its values."""
    out = {}
    for key, v in d.get("options", {}).items():
        want = arch.options[key]
        if isinstance(want, tuple):
            if v not in want:
                raise AssignmentError(f"options.{key} = {v!r} is not allowed; use one of: {', '.join(map(str, want))}")
        elif want is float:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise AssignmentError(f"options.{key} must be a number, got {v!r}")
            v = float(v)
        elif not isinstance(v, want) or (want is int and isinstance(v, bool)):
            raise AssignmentError(f"options.{key} must be a {want.__name__}, got {v!r}")
        out[key] = v
    return out


def _call(d: dict) -> dict:
    """[entry] call = { growth_rate = 32, compression = 0.5 }: keyword arguments for the builder."""
    v = _get(d, "entry", "call", dict, {})
    for k, x in v.items():
        if not (isinstance(x, (int, float, str, bool)) or x is None):
            raise AssignmentError(f"entry.call.{k} must be a number, a string or a boolean, got {x!r}")
    return dict(v)


def _task(d: dict, arch) -> dict | None:
    """[task]: a block function graded alone, called on an example input."""
    t = d.get("task")
    if t is None:
        return None
    kinds = {ps.kind: ps for ps in arch.probes}
    kind = _get(d, "task", "kind", str, None, tuple(kinds))
    if kind is None:
        raise AssignmentError(f"[task] needs kind = one of {', '.join(kinds)}")
    shape = _get(d, "task", "input_shape", list, None)
    if not shape or len(shape) != 3 or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in shape):
        raise AssignmentError("task.input_shape must be three positive integers [height, width, channels]")
    args = _get(d, "task", "args", list, [])
    for a in args:
        if not (isinstance(a, (int, float)) and not isinstance(a, bool) or isinstance(a, list)
                and all(isinstance(x, int) and not isinstance(x, bool) for x in a)):
            raise AssignmentError(f"task.args must be numbers or lists of integers, got {a!r}")
    names = _str_list(d, "task", "names", list(d.get("functions", {}).get(kind) or kinds[kind].names))
    return {"kind": kind, "names": list(names), "input_shape": list(shape), "args": list(args)}


def _part_titles(d: dict, PARTS) -> dict:
    """``[part_titles.ko]`` tables: the rubric parts' titles in a language, e.g.
    ``stem = "스템"``.  Parts left out keep the catalog's translation (or English)."""
    import re

    out = {}
    for lang, table in d.get("part_titles", {}).items():
        if not re.fullmatch(r"[A-Za-z]{2,8}(?:_[A-Za-z0-9]{1,8})*", lang) or not isinstance(table, dict):
            raise AssignmentError(f"[part_titles.{lang}] must be a table named by a language code such as ko or pt_BR, "
                                  "of part = \"title\"")
        for part, title in table.items():
            if part not in PARTS:
                raise AssignmentError(f"part_titles.{lang}.{part}: unknown part; parts are: {', '.join(PARTS)}")
            if not isinstance(title, str) or not title.strip():
                raise AssignmentError(f"part_titles.{lang}.{part} must be a non-empty string")
        out[lang] = {k: v.strip() for k, v in table.items()}
    return out


def _read(p: Path) -> tuple[bytes, dict]:
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise AssignmentError(f"assignment file not found: {p}") from None
    except OSError as e:
        raise AssignmentError(f"cannot read assignment file {p}: {e.strerror}") from None
    try:
        return raw, tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise AssignmentError(f"{p} is not valid TOML: {e}") from None


def load_tasks(paths) -> list[tuple[str, "Assignment"]]:
    """(task name, assignment) of every task the files name: an assignment file
    is one task (named after the file), a unit file (``[unit] tasks = [...]``,
    paths relative to it) the tasks it lists, in order."""
    out: list = []
    for path in paths:
        p = Path(path)
        _, d = _read(p)
        if "unit" in d:
            unit = d["unit"]
            extra = set(d) - {"unit"}
            if extra or not isinstance(unit, dict) or set(unit) - {"name", "tasks"}:
                raise AssignmentError(f"{p.name}: a unit file has only [unit] with name and tasks = [assignment files]")
            tasks = unit.get("tasks")
            if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) and t for t in tasks):
                raise AssignmentError(f"{p.name}: unit.tasks must be a non-empty list of assignment files")
            out += load_tasks([p.parent / t for t in tasks])
        else:
            out.append((p.stem, load(p)))
    names = [n for n, _ in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise AssignmentError(f"two tasks are named {dup!r} (after their files); give each task a file of its own name")
    return out


def load(path: str | Path | None = None, solution: str | Path | None = None) -> Assignment:
    """Load and validate an assignment file (the default one when ``path`` is None).
    ``solution`` (or ``[assignment] solution``, relative to the file): grade against
    the network that solution file builds (see grader/solution.py); with no file
    given then, the assignment is the solution's alone."""
    if path is None and solution is not None:
        p, raw, d = Path(solution), b"", {}
    else:
        p = Path(path) if path is not None else DEFAULT_PATH
        raw, d = _read(p)
    if "unit" in d:
        raise AssignmentError(f"{p.name} is a unit file (it lists the tasks {', '.join(map(str, d['unit'].get('tasks') or []))}): "
                              "grade a class against it with `grader batch DIR --assignment "
                              f"{p.name}`, or pass one of its tasks' files")
    named = _get(d, "assignment", "solution", str, None)
    if solution is None and named:
        solution = p.parent / named
    if solution is not None:
        if "architecture" in d.get("assignment", {}):
            raise AssignmentError("assignment.architecture and a solution file exclude each other: "
                                  "the solution's network is the architecture")
        from .solution import SolutionArchitecture

        from .arch import register

        arch_name, arch = "solution", SolutionArchitecture(entry=_read(DEFAULT_PATH)[1].get("entry", {}))
        register(arch_name, arch)  # unbound: the parts and defaults, until bind() traces the solution
    else:
        arch_name = _get(d, "assignment", "architecture", str, "googlenet")
        try:
            arch = get_architecture(arch_name)
        except ArchitectureError as e:
            raise AssignmentError(f"assignment.architecture: {e}") from None
    part_names = [ps.name for ps in arch.parts]
    for section, value in d.items():
        if section not in KNOWN:
            raise AssignmentError(f"unknown section [{section}] in {p.name}; known sections: {', '.join(KNOWN)}")
        if not isinstance(value, dict):
            raise AssignmentError(f"[{section}] must be a table")
        for key in value:
            # a solution's [functions] name its own functions: checked when it is traced
            allowed_keys = {"options": list(arch.options),
                            "functions": None if solution is not None else [ps.kind for ps in arch.probes],
                            "part_titles": None}.get(section, part_names)
            if allowed_keys is not None and key not in (KNOWN[section] if KNOWN[section] is not None else allowed_keys):
                raise AssignmentError(
                    f"unknown key {section}.{key} in {p.name}; allowed keys: "
                    f"{', '.join(sorted(KNOWN[section] if KNOWN[section] is not None else allowed_keys)) or '(none)'}"
                )
    shape = _get(d, "assignment", "input_shape", list, [224, 224, 3])
    if len(shape) != 3 or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in shape):
        raise AssignmentError("assignment.input_shape must be three positive integers [height, width, channels]")
    num_classes = _get(d, "assignment", "num_classes", int, 1000)
    if num_classes < 1:
        raise AssignmentError("assignment.num_classes must be at least 1")
    parts = {}
    for ps in arch.parts:
        name = ps.name
        pts = _get(d, "parts", name, (int, float), 0 if d.get("parts") else ps.points)
        if pts < 0:
            raise AssignmentError(f"parts.{name} must not be negative")
        parts[name] = float(pts)
    if sum(parts.values()) <= 0:
        raise AssignmentError("[parts] must give at least one part some points")
    severity = {}
    for code in d.get("severity", {}):
        severity[code] = _get(d, "severity", code, str, None, SEVERITIES)
    deductions = {s: float(_get(d, "deductions", s, (int, float), {"error": 5, "warning": 0, "info": 0}[s])) for s in SEVERITIES}
    code_deductions = {}
    codes = d.get("deductions", {}).get("codes", {})
    if not isinstance(codes, dict):
        raise AssignmentError("deductions.codes must be a table of code = points")
    for code, pts in codes.items():
        if code not in CODES:
            raise AssignmentError(f"deductions.codes.{code}: unknown code; allowed: {', '.join(CODES)}")
        if not isinstance(pts, (int, float)) or isinstance(pts, bool) or pts < 0:
            raise AssignmentError(f"deductions.codes.{code} must be a non-negative number")
        code_deductions[code] = float(pts)
    subs = {
        k: _get(d, "substitutions", k, str, dflt, SEVERITIES)
        for k, dflt in (("batchnorm_for_lrn", "warning"), ("layernorm_for_lrn", "warning"), ("none_for_lrn", "warning"), ("concat_order", "info"))
    }
    timeout = _get(d, "run", "timeout_s", (int, float), 60)
    if timeout <= 0:
        raise AssignmentError("run.timeout_s must be positive")
    A = Assignment(
        path=str(p),
        sha256=hashlib.sha256(raw).hexdigest(),
        name=_get(d, "assignment", "name", str, arch.defaults.name),
        input_shape=tuple(shape),
        num_classes=num_classes,
        aux=_get(d, "assignment", "aux", str, "required", AUX_MODES),
        lrn=_get(d, "assignment", "lrn", bool, True),
        head=_get(d, "assignment", "head", str, "gap_dense", HEADS),
        accept_dense_on_map=_get(d, "assignment", "accept_dense_on_map", bool, True),
        entry_files=_str_list(d, "entry", "files", list(arch.defaults.entry_files)),
        objects=_str_list(d, "entry", "objects", list(arch.defaults.objects)),
        builders=_str_list(d, "entry", "builders", list(arch.defaults.builders)),
        inception_names=_str_list(d, "inception", "names", ["inception", "inception_module", "inception_block"]),
        signatures=_str_list(d, "inception", "signatures", list(SIGNATURES), SIGNATURES),
        timeout_s=float(timeout),
        memory_mb=int(_get(d, "run", "memory_mb", int, 4096)),
        cpu_s=int(_get(d, "run", "cpu_s", int, 120)),
        parts=parts,
        severity=severity,
        deductions=deductions,
        code_deductions=code_deductions,
        substitutions=subs,
        weights=_weights(d),
        dependent_parts=_str_list(d, "credit", "dependent",
                                  [ps.name for ps in arch.parts if ps.role in ("aux", "head", "params")], tuple(part_names)),
        architecture=arch_name,
        never_stub=_module_names(d),
        part_titles=_part_titles(d, part_names),
        options=_options(d, arch),
        functions={k: _str_list(d, "functions", k, []) for k in d.get("functions", {})},
        task=_task(d, arch),
        builder_kwargs=_call(d),
    )
    if solution is None:
        return A
    from .solution import SolutionError, bind

    given = d.get("assignment", {})
    try:
        return bind(A, solution, input_shape_given="input_shape" in given, classes_given="num_classes" in given,
                    parts_given=bool(d.get("parts")))
    except SolutionError as e:
        raise AssignmentError(str(e)) from None


def _module_names(d: dict) -> tuple[str, ...]:
    names = _str_list(d, "entry", "never_stub", [])
    bad = [n for n in names if not all(part.isidentifier() for part in n.split("."))]
    if bad:
        raise AssignmentError(f"entry.never_stub has {bad[0]!r}, which is not a module name (like 'sklearn' or 'd2l.tensorflow')")
    return names
