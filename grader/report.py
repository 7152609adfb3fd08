"""The report: plain data that serialises to JSON and back.

The JSON shape is documented in the README ("Report format"); later versions add
fields, never rename them. Every renderer (terminal, HTML, CI annotations, JUnit,
Gradescope) reads only these dataclasses.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

SCHEMA = "grader.report/1"

#: The closed vocabulary of finding codes.
CODES = (
    "build_error", "timeout", "memory_limit", "no_model", "input_shape",
    "layer_missing", "layer_extra", "layer_type", "kernel_size", "strides",
    "padding", "filters", "units", "activation", "pool_type", "pool_size",
    "norm_type", "dropout_rate", "concat_axis", "branch_missing", "branch_extra",
    "branch_order", "argument_misuse", "argument_unused", "aux_missing",
    "aux_position", "aux_extra", "output_count", "output_shape", "params",
    "training_skipped", "import_stubbed", "legacy_api", "script_error", "ipython_syntax", "return_value", "shortcut_source",
    "activation_order", "too_many_layers", "integrity",
)
SEVERITIES = ("error", "warning", "info")
#: The codes of a submission that could not be graded at all (its model was never built),
#: or whose score is withheld (``integrity``: layers no line of the submission constructs).
FATAL = ("build_error", "timeout", "memory_limit", "no_model", "too_many_layers", "integrity")


@dataclass(frozen=True)
class Source:
    """Where in the student's code: file relative to the submission, 1-based line.

    For notebooks ``cell`` and ``cell_line`` (both 1-based) locate the line in the
    notebook, and ``file`` is the notebook's name.
    """

    file: str
    line: int
    cell: int | None = None
    cell_line: int | None = None
    code: str | None = None  # the text of the line, for reports

    def label(self) -> str:
        if self.cell is not None:
            return f"{self.file}: cell {self.cell}, line {self.cell_line}"
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Finding:
    id: str
    code: str
    severity: str
    location: str
    message: str
    expected: Any = None
    actual: Any = None
    source: Source | None = None
    caused_by: str | None = None
    deduction: float = 0.0
    part: str | None = None
    # The message before formatting (an English msgid of the message catalog)
    # and its arguments, so a renderer can show the message in another language.
    template: str | None = None
    args: dict = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return self.caused_by is None


@dataclass(frozen=True)
class Part:
    """One rubric part and how its points were earned (see grader/score.py)."""

    name: str
    score: float
    max_score: float
    title: str = ""
    unit: str = ""  # what the part counts: layers, blocks, ...
    total: int = 0  # reference elements in the part
    present: int = 0  # ... that the submission has
    correct: int = 0  # ... that it has without a fault of this part
    coverage: float = 1.0  # weighted share of the elements present
    gate: float = 1.0  # for parts on top of the body: the share of the body that is there
    credit: float = 0.0  # max_score * gate * coverage
    deducted: float = 0.0  # what the part's root findings took from the credit
    summary: str = ""  # "2 of 9 blocks present, 2 correct; ..."
    template: str | None = None  # the summary's msgid, and the msgids of its extra clauses
    extra_templates: list = field(default_factory=list)
    args: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)  # locations of the elements that are not there
    wrong: list = field(default_factory=list)  # locations of the elements there with a fault


@dataclass(frozen=True)
class LayerRow:
    location: str
    type: str
    output_shape: list | None
    expected_output_shape: list | None
    params: int | None
    expected_params: int | None
    source: Source | None = None
    config: dict = field(default_factory=dict)
    expected_config: dict = field(default_factory=dict)
    # the student's name for the layer, as written (`conv1/7x7_s2` even where Keras
    # needed a `_` for the `/`); Keras's own name when the student gave none
    name: str | None = None
    # what the diagnosis says of the row: "wrong" (missing, or a finding here), "follows"
    # (its output or parameters differ only because of a finding before it), "ok" (as the
    # reference is, or different only in what the rules accept: biases left out, a pool
    # of the whole map); None in reports written before it was said
    status: str | None = None

    @property
    def mismatch(self) -> bool:
        return (
            self.output_shape != self.expected_output_shape
            or self.params != self.expected_params
        )


@dataclass(frozen=True)
class BranchLayer:
    """One layer of an inception branch, for the block diagrams."""

    location: str  # e.g. inception_3a/3x3 (or inception/3x3 for the probe)
    type: str  # conv | pool
    kernel: list | None
    filters: int | None
    activation: str | None
    pool_type: str | None = None
    argument: str | None = None  # the inception-function argument feeding it (probe)
    ok: bool = True


@dataclass(frozen=True)
class Block:
    """An inception block as the student built it, beside Table 1."""

    location: str  # inception_3a ... inception_5b, or "inception" for the probe
    expected: dict  # {"1x1": 64, "3x3_reduce": 96, ...}
    actual: dict  # same keys; None where missing
    output_shape: list | None
    expected_output_shape: list | None
    params: int | None
    expected_params: int | None
    branches: list[list[BranchLayer]] = field(default_factory=list)
    ok: bool = True


@dataclass(frozen=True)
class ModelOrigin:
    """Which object was graded and how the grader obtained it.

    ``how``: ``object`` (a global with one of the assignment's names), ``builder``
    (the grader called one of the assignment's builders: ``call`` is the call, with
    the arguments it derived; ``wrapped`` when it returned tensors that the grader
    wrapped in a Model), ``global`` (the largest model among the globals) or
    ``constructed`` (the largest model the code built without keeping it)."""

    how: str
    name: str
    call: str | None = None
    source: Source | None = None  # where the model was built, or the builder defined
    wrapped: bool = False


@dataclass(frozen=True)
class ModelSummary:
    total_params: int | None
    reference_total_params: int
    layers: list[LayerRow] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    probe: Block | None = None
    outputs: list | None = None
    origin: ModelOrigin | None = None


@dataclass(frozen=True)
class SubmissionInfo:
    id: str
    path: str
    sha256: str
    kind: str = "py"  # py | ipynb | folder | zip
    entry: str | None = None
    commit: str | None = None
    committed_at: str | None = None
    late: bool | None = None


@dataclass(frozen=True)
class Report:
    submission: SubmissionInfo
    status: str  # graded | failed
    score: float
    max_score: float
    parts: list[Part]
    findings: list[Finding]
    model: ModelSummary
    grader_version: str = ""
    graded_at: str = ""
    assignment: str = ""
    duration_s: float | None = None
    sandboxed: bool | None = None
    error: dict | None = None  # {"type", "message", "source"} when the build failed
    architecture: str = "googlenet"  # the grader/architectures/ package the assignment grades against
    stdout: str = ""
    stderr: str = ""
    schema: str = SCHEMA

    def __repr__(self) -> str:
        # one line: a notebook shows the value grader.check() returns under the HTML report
        roots = self.roots()
        errs = sum(1 for f in roots if f.severity == "error")
        return (f"<Report {self.submission.id!r}: {self.score:g}/{self.max_score:g}, {self.status}, "
                f"{errs} error{'s' if errs != 1 else ''}, {len(roots)} root finding{'s' if len(roots) != 1 else ''} "
                f"of {len(self.findings)}>")

    # -- queries used by every renderer -------------------------------------
    def roots(self) -> list[Finding]:
        return [f for f in self.findings if f.caused_by is None]

    def consequences(self, finding: Finding) -> list[Finding]:
        return [f for f in self.findings if f.caused_by == finding.id]

    def count(self, severity: str, roots_only: bool = True) -> int:
        return sum(
            1 for f in self.findings if f.severity == severity and (f.caused_by is None or not roots_only)
        )

    @property
    def percent(self) -> float:
        return round(100.0 * self.score / self.max_score, 2) if self.max_score else 0.0

    # -- JSON -----------------------------------------------------------------
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        # schema first, as documented
        return {"schema": d.pop("schema"), **d}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict) -> "Report":
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} report: schema={d.get('schema')!r}")
        return _build(cls, d)

    @classmethod
    def from_json(cls, text: str) -> "Report":
        return cls.from_dict(json.loads(text))


def _src(d):
    return None if d is None else Source(**d)


def _build(cls, d: dict):
    """Rebuild the nested dataclasses from plain dicts (unknown keys are ignored
    so that a report written by a newer grader still loads)."""
    names = {f.name for f in dataclasses.fields(cls)}
    d = {k: v for k, v in d.items() if k in names}
    if cls is Report:
        d["submission"] = _build(SubmissionInfo, d["submission"])
        d["parts"] = [_build(Part, p) for p in d.get("parts", [])]
        d["findings"] = [_build(Finding, f) for f in d.get("findings", [])]
        d["model"] = _build(ModelSummary, d["model"])
    elif cls is Finding or cls is LayerRow or cls is ModelOrigin:
        d["source"] = _src(d.get("source"))
    elif cls is ModelSummary:
        d["layers"] = [_build(LayerRow, r) for r in d.get("layers", [])]
        d["blocks"] = [_build(Block, b) for b in d.get("blocks", [])]
        d["probe"] = None if d.get("probe") is None else _build(Block, d["probe"])
        d["origin"] = None if d.get("origin") is None else _build(ModelOrigin, d["origin"])
    elif cls is Block:
        d["branches"] = [[_build(BranchLayer, x) for x in br] for br in d.get("branches", [])]
    return cls(**d)
