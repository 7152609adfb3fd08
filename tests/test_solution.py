"""Grading against an instructor's solution file (issue 24): the solution is
traced in the sandbox like a submission, and its graph is the reference
(locations, blocks, rubric parts). The golden fixtures with `# solution: NAME`
(tests/test_cases.py) grade the students; here, what the interface promises:
the command line, the assignment file, the names read or generated, and the
cross-check with the dedicated GoogLeNet architecture."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader import check
from grader.assignment import AssignmentError
from grader.assignment import load as load_assignment
from grader.solution import conv_runs, is_default_name, snake
from grader.solution_probes import FILTER_MIN, probe_arguments, student_signatures
from test_cases import SOLUTIONS, graded_against
from test_cli import run

CASES = Path(__file__).parent / "data" / "cases"


@pytest.mark.parametrize("name,cls,default", [
    ("conv2d", "Conv2D", True), ("conv2d_7", "Conv2D", True), ("max_pooling2d_3", "MaxPooling2D", True),
    ("re_lu_2", "ReLU", True), ("add_4", "Add", True), ("", "Dense", True),
    ("block3_conv2", "Conv2D", False), ("fc2", "Dense", False), ("predictions", "Dense", False),
    ("flatten", "Flatten", True), ("stem_conv", "Conv2D", False), ("conv1__7x7_s2", "Conv2D", False),
    ("inception_3a__1x1", "Conv2D", False),
])
def test_default_names_are_told_from_the_solutions_own(name, cls, default):
    assert is_default_name(name, cls) is default, (name, snake(cls))


def test_vgg16_locations_parts_and_total_come_from_the_solution():
    A, ref = graded_against("solution:vgg16")
    arch = A.arch
    assert ref.total_params() == 138_357_544
    assert (A.input_shape, A.num_classes, A.aux) == ((224, 224, 3), 1000, "forbidden")
    locs = [arch.location(n) for n in ref.nodes.values()]
    assert locs[:4] == ["data", "block1_conv1", "block1_conv2", "block1_pool"]
    assert {"block3_conv2", "block5_pool", "fc1", "fc2", "predictions"} <= set(locs)
    units, stage = arch.chain_layout(None)
    assert [u for u, _ in units] == ["block1", "block2", "block3", "block4", "block5"]
    assert [len(ids) for _, ids in units] == [2, 2, 3, 3, 3]
    # no stem before block1, no side head: their points go to the parts that have elements
    assert A.parts["stem"] == A.parts["aux"] == 0 and A.max_score == 100
    table = arch.table(A)
    assert any(r["location"] == "block3_conv2" and r["filters"] == "256" for r in table.rows)
    assert table.totals[0].value == 138_357_544


def test_default_names_become_names_of_the_structure():
    A, ref = graded_against("solution:googlenet_lite")
    arch = A.arch
    locs = {arch.location(n) for n in ref.nodes.values()}
    assert {"stem/conv1", "stage1/block1/b1/conv1", "stage2/block1/b2/conv2", "stage1/block2/concat", "pool1",
            "head/gap1", "head/fc1"} <= locs
    assert arch.function_kinds == ("concat_block",)
    assert (A.input_shape, A.num_classes) == ((32, 32, 3), 10)


def test_named_blocks_keep_their_names_and_get_the_rest():
    A, ref = graded_against("solution:resnet_cifar")
    locs = {A.arch.location(n) for n in ref.nodes.values()}
    assert {"stem_conv", "s1b1_conv1", "s1b1_add", "s1b1_out", "s2b1_proj", "avg_pool", "predictions"} <= locs
    assert A.arch.function_kinds == ("identity_block", "projection_block")


def test_conv_runs_are_the_blocks_of_a_chain():
    class N:
        def __init__(self, op):
            self.op = op

    spine = [N(x) for x in ("input", "conv", "act", "conv", "pool", "conv", "norm", "pool", "dense")]
    assert conv_runs(spine) == [[1, 2, 3], [5, 6]]


def test_the_assignment_file_may_say_only_the_solution(tmp_path):
    shutil.copy(SOLUTIONS / "googlenet_lite" / "solution.py", tmp_path / "net.py")
    (tmp_path / "hw.toml").write_text('[assignment]\nsolution = "net.py"\n[parts]\nblocks = 60\nconfig = 40\n')
    A = load_assignment(tmp_path / "hw.toml")
    assert A.solution == str((tmp_path / "net.py").resolve())
    assert A.parts["blocks"] == 60 and A.parts["stem"] == 0 and A.max_score == 100  # [parts] as given
    with pytest.raises(AssignmentError, match="exclude each other"):
        (tmp_path / "both.toml").write_text('[assignment]\nsolution = "net.py"\narchitecture = "resnet50"\n')
        load_assignment(tmp_path / "both.toml")
    with pytest.raises(AssignmentError, match="not found"):
        (tmp_path / "none.toml").write_text('[assignment]\nsolution = "missing.py"\n')
        load_assignment(tmp_path / "none.toml")
    (tmp_path / "broken.py").write_text("import keras\nraise SystemExit('no model here')\n")
    with pytest.raises(AssignmentError, match="builds no model"):
        load_assignment(None, solution=tmp_path / "broken.py")


def test_check_and_batch_with_solution_on_the_command_line(tmp_path):
    solution = SOLUTIONS / "googlenet_lite" / "solution.py"
    out = tmp_path / "one"
    p = run(["check", str(CASES / "fails_glite_filters_block3.py"), "--solution", str(solution), "--out", str(out)])
    assert p.returncode == 1, p.stdout + p.stderr
    report = json.loads((out / "report.json").read_text())
    roots = [(f["code"], f["location"], f["source"]["line"]) for f in report["findings"] if f["caused_by"] is None]
    line = next(i for i, s in enumerate((CASES / "fails_glite_filters_block3.py").read_text().splitlines(), 1)
                if "(96, 48, 112" in s)
    assert roots == [("filters", "stage2/block1/b2/conv2", line)]
    assert "stage2/block1/b2/conv2" in p.stdout and "the solution has 104" in report["findings"][1]["message"] + \
        report["findings"][0]["message"]
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("correct_glite_tuple_helper.py", "fails_glite_missing_pool.py"):
        shutil.copy(CASES / name, subs / name)
    p = run(["batch", str(subs), "--solution", str(solution), "--out", str(tmp_path / "class"), "--jobs", "1"])
    assert p.returncode == 0, p.stdout + p.stderr
    grades = (tmp_path / "class" / "grades.csv").read_text()
    assert "correct_glite_tuple_helper" in grades and "fails_glite_missing_pool" in grades
    scores = {r["submission"]["id"]: r["score"] for r in
              (json.loads((tmp_path / "class" / i / "report.json").read_text())
               for i in ("correct_glite_tuple_helper", "fails_glite_missing_pool"))}
    assert scores["correct_glite_tuple_helper"] == 100 and scores["fails_glite_missing_pool"] < 100


#: GoogLeNet fixtures of several kinds of fault, graded both ways (scripts/crosscheck_solution.py does all)
CROSS = ("correct_functional.py", "fails_stem_filters.py", "fails_kernel_size_5x5.py", "fails_missing_block_4e.py",
         # found by the probe of the student's inception function ([functions] of the solution)
         "fails_hardcoded_filters.py", "fails_concat_axis.py")


@pytest.mark.parametrize("name", CROSS)
def test_googlenet_as_a_solution_finds_the_dedicated_roots(name, use_sandbox):
    if not (CASES / name).exists():
        pytest.skip(f"{name} is not a fixture")
    A, ref = graded_against("default")
    S, sref = graded_against("solution:googlenet")
    a, _ = check.grade(CASES / name, A, ref=ref, use_sandbox=use_sandbox)
    b, _ = check.grade(CASES / name, S, ref=sref, use_sandbox=use_sandbox)
    roots = {(f.code, f.location) for f in a.findings if f.caused_by is None and f.severity == "error"}
    assert roots == {(f.code, f.location) for f in b.findings if f.caused_by is None and f.severity == "error"}
    assert (a.score == a.max_score) == (b.score == b.max_score)


def test_a_recorded_call_becomes_probe_arguments_of_distinct_counts():
    # inception_3a as a solution calls it: six counts, then the block's name
    call = {"args": [{"v": x} for x in (64, 96, 128, 16, 32, 32)] + [{"v": "inception_3a"}],
            "input_shape": [None, 28, 28, 192]}
    args, shape, pattern = probe_arguments(call)
    assert len(args) == 6 and len(set(args)) == 6 and all(a >= FILTER_MIN for a in args)  # the name is left out
    assert shape[:2] == [28, 28] and shape[2] not in args  # the input's count is no argument's
    assert student_signatures(args)[1]["args"] == [args]  # or the six in one tuple
    # a residual block: the stride and the stage stay, the input gets the filters' count (it is added)
    call = {"args": [{"v": 16}, {"v": 1}, {"v": 2}, {"v": 2}], "input_shape": [None, 32, 32, 16]}
    args, shape, _ = probe_arguments(call, adds=True)
    assert args[1:] == [1, 2, 2] and args[0] != 16 and shape[2] == args[0]
    assert probe_arguments(call, adds=True)[2] != probe_arguments({**call, "args": call["args"][:3]}, adds=True)[2]
    # the counts alone, for a student's res_block(x, filters, downsample=False)
    assert student_signatures(args)[-1] == {"name": "filters only", "args": args[:1], "scalars": True}
    # a tensor or an object after the input cannot be passed again
    assert probe_arguments({"args": [None], "input_shape": [None, 8, 8, 4]}) is None


def test_the_solutions_block_function_is_probed_in_the_students_code():
    A = load_assignment(SOLUTIONS / "googlenet_lite" / "assignment.toml")
    (spec,) = A.probe_specs()
    assert spec["kind"] == "concat_block" and spec["names"][:2] == ["inception", "inception_module"]
    expect = A.arch.probe_expectations({"block_kind": "concat_block"})
    assert sorted(expect) == ["b1/conv1", "b2/conv1", "b2/conv2", "b3/conv1", "b3/conv2", "b4/conv1"]
    assert sorted(expect.values()) == sorted(spec["signatures"][0]["args"])  # each role takes one argument
    name = "fails_glite_argument_misuse.py"
    r, _ = check.grade(CASES / name, A)
    (root,) = [f for f in r.findings if f.caused_by is None]
    line = next(i for i, s in enumerate((CASES / name).read_text().splitlines(), 1) if "conv_bn(b3, f3, 5)" in s)
    assert (root.code, root.location, root.expected, root.actual) == ("argument_misuse", "concat_block/b3/conv2", "f5", "f3")
    assert root.source.line == line  # the line of the function that passes the wrong argument


def test_functions_the_solution_cannot_have_probed_are_refused_with_the_reason(tmp_path):
    shutil.copy(SOLUTIONS / "googlenet_lite" / "solution.py", tmp_path / "net.py")
    (tmp_path / "a.toml").write_text('[assignment]\nsolution = "net.py"\n[functions]\ninception_v2 = []\n')
    with pytest.raises(AssignmentError, match="never calls a function named inception_v2"):
        load_assignment(tmp_path / "a.toml")
    # a plain chain's helper builds no block of branches
    (tmp_path / "vgg.py").write_text(
        "import keras\nfrom keras import layers\n\n"
        "def conv_block(x, filters, n):\n"
        "    for _ in range(n):\n"
        "        x = layers.Conv2D(filters, 3, padding='same', activation='relu')(x)\n"
        "    return layers.MaxPooling2D()(x)\n\n"
        "inp = keras.Input((32, 32, 3))\nx = conv_block(inp, 16, 2)\nx = conv_block(x, 32, 2)\n"
        "model = keras.Model(inp, layers.Dense(10)(layers.Flatten()(x)))\n")
    (tmp_path / "b.toml").write_text('[assignment]\nsolution = "vgg.py"\n[functions]\nconv_block = []\n')
    with pytest.raises(AssignmentError, match="builds no block"):
        load_assignment(tmp_path / "b.toml")


DENSE_SOLUTION = '''import keras
from keras import layers


def dense_layer(x, growth):
    y = layers.BatchNormalization()(x)
    y = layers.ReLU()(y)
    y = layers.Conv2D(4 * growth, 1, use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(growth, 3, padding="same", use_bias=False)(y)
    return layers.Concatenate()([x, y])


inp = keras.Input((32, 32, 3))
x = layers.Conv2D(24, 3, padding="same", use_bias=False)(inp)
for _ in range(3):
    x = dense_layer(x, 12)
x = layers.GlobalAveragePooling2D()(layers.ReLU()(layers.BatchNormalization()(x)))
model = keras.Model(inp, layers.Dense(10, activation="softmax")(x))
'''


def test_a_count_the_solution_computes_from_an_argument_is_probed(tmp_path):
    """A dense layer's bottleneck has 4 * growth filters: the probe names the multiple
    (one stage of default-named blocks: the kind is no generated stage name)."""
    (tmp_path / "solution.py").write_text(DENSE_SOLUTION)
    (tmp_path / "a.toml").write_text('[assignment]\nsolution = "solution.py"\n[functions]\ndense_layer = []\n')
    A = load_assignment(tmp_path / "a.toml")
    assert A.arch.function_kinds == ("concat_block",)
    (tmp_path / "student.py").write_text(DENSE_SOLUTION.replace("4 * growth", "2 * growth"))
    r, _ = check.grade(tmp_path / "student.py", A)
    roots = [(f.code, f.location, f.expected, f.actual) for f in r.findings if f.caused_by is None and f.severity == "error"]
    assert roots == [("argument_misuse", "concat_block/b2/conv1", "4 * growth", "2 * growth")], roots
    r, _ = check.grade(tmp_path / "solution.py", A)
    assert r.score == r.max_score and not [f for f in r.findings if f.severity == "error"]
