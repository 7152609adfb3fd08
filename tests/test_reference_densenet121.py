"""The DenseNet-121 reference (Huang et al., Table 1) against keras.applications,
its course variant, its block builders and its Table 1 rows."""

from __future__ import annotations

import os
import re
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

from grader.architectures.densenet121 import (  # noqa: E402
    BLOCKS,
    PRINTED_ROWS,
    TOTAL_PARAMS,
    TOTAL_PARAMS_COURSE,
    TOTAL_PARAMS_COURSE_DEFAULTS,
    dense_block,
    densenet121,
    densenet121_course,
    table,
    table_rows,
    transition_layer,
)
from grader.architectures.paper_table import layer_mult_adds  # noqa: E402

CASES = Path(__file__).parent / "data" / "cases"
COURSE = dict(kernel_initializer="he_normal", use_bias=True)


@pytest.fixture(scope="module")
def paper():
    return densenet121()


@pytest.fixture(scope="module")
def course():
    return densenet121_course(32, 0.5)


@pytest.fixture(scope="module")
def keras_app():
    return keras.applications.DenseNet121(weights=None)


def weighted(model):
    return [(l.name, tuple(l.kernel.shape), getattr(l, "strides", None), tuple(l.output.shape))
            for l in model.layers if getattr(l, "kernel", None) is not None]


# --------------------------------------------------------------------------
# The paper's network against keras.applications.DenseNet121
# --------------------------------------------------------------------------
def test_total_is_keras_applications(paper, keras_app):
    assert paper.count_params() == keras_app.count_params() == TOTAL_PARAMS == 8_062_504
    assert tuple(paper.output.shape) == (None, 1000)


def test_same_convolutions_in_the_same_order(paper, keras_app):
    ours = weighted(paper)
    assert len(ours) == 1 + 2 * (6 + 12 + 24 + 16) + 3 + 1  # 121 layers with weights
    assert ours == weighted(keras_app)


def test_same_names_and_layer_types(paper, keras_app):
    ours = {l.name: type(l).__name__ for l in paper.layers}
    theirs = {l.name: type(l).__name__ for l in keras_app.layers
              if not isinstance(l, (keras.layers.InputLayer, keras.layers.ZeroPadding2D))}
    assert ours.pop("data") == "InputLayer"
    assert ours == theirs


def test_dense_connectivity(paper):
    for block in BLOCKS:
        for i in range(1, block.layers + 1):
            concat = paper.get_layer(f"{block.name}_block{i}_concat")
            parents = [t._keras_history[0].name for t in concat.input]
            before = f"{block.name}_block{i - 1}_concat" if i > 1 else None
            assert parents[1] == f"{block.name}_block{i}_2_conv"
            if before:
                assert parents[0] == before
        assert paper.get_layer(f"{block.name}_block1_1_conv").filters == 4 * 32
        assert paper.get_layer(f"{block.name}_block1_2_conv").filters == 32
    # theta = 0.5: each transition halves the channels; the transition pools are 2x2/2 averages
    for name, cin in (("pool2", 256), ("pool3", 512), ("pool4", 1024)):
        assert paper.get_layer(f"{name}_conv").filters == cin // 2
        pool = paper.get_layer(f"{name}_pool")
        assert isinstance(pool, keras.layers.AveragePooling2D) and pool.pool_size == (2, 2) and pool.strides == (2, 2)


# --------------------------------------------------------------------------
# The course variant
# --------------------------------------------------------------------------
def test_course_variant_totals(course):
    assert course.count_params() == TOTAL_PARAMS_COURSE == 8_068_404
    assert densenet121_course().count_params() == TOTAL_PARAMS_COURSE_DEFAULTS == 14_048_948


def test_course_variant_structure(course, paper):
    order = [l.name for l in course.layers]
    assert order[:5] == ["data", "conv1_bn", "conv1_relu", "conv1_conv", "pool1"]  # BN + ReLU on the input
    assert "bn" not in order and "relu" not in order  # no final BN(-ReLU)
    assert order[-3:] == ["conv5_block16_concat", "avg_pool", "predictions"]
    assert tuple(course.output.shape) == (None, 1, 1, 1000)
    for l in course.layers:
        if getattr(l, "kernel", None) is not None:
            assert l.get_config()["kernel_initializer"]["class_name"] == "HeNormal", l.name
            assert l.use_bias, l.name
    assert [w[:3] for w in weighted(course)] == [w[:3] for w in weighted(paper)]


# --------------------------------------------------------------------------
# Block builders and the block-function tasks' figures
# --------------------------------------------------------------------------
def test_dense_block_task():
    x = keras.Input((56, 56, 64))
    y, nb_filters = dense_block(x, 64, 32, 6, **COURSE)
    assert nb_filters == 256 and y.shape[-1] == 256
    m = keras.Model(x, y)
    assert m.count_params() == 339_264
    assert m.layers[-1].name == "dense_block_block6_concat"
    assert {l.name for l in m.layers} >= {"dense_block_block1_0_bn", "dense_block_block1_1_conv",
                                          "dense_block_block1_2_conv", "dense_block_block1_concat"}


def test_dense_block_paper_figure():
    """The paper's convolutions have no biases: 6 x (128 + 32) fewer."""
    x = keras.Input((56, 56, 64))
    y, _ = dense_block(x, 64, 32, 6)
    assert keras.Model(x, y).count_params() == 339_264 - 6 * (128 + 32)


def test_transition_layer_task():
    x = keras.Input((56, 56, 256))
    y, nb_filters = transition_layer(x, 256, 0.5, **COURSE)
    assert nb_filters == 128 and tuple(y.shape) == (None, 28, 28, 128)
    m = keras.Model(x, y)
    assert m.count_params() == 33_920
    assert [l.name for l in m.layers][1:] == ["transition_layer_bn", "transition_layer_relu",
                                               "transition_layer_conv", "transition_layer_pool"]


def test_block_builders_check_nb_filters():
    with pytest.raises(ValueError, match="nb_filters=32 but the input has 64"):
        dense_block(keras.Input((56, 56, 64)), 32, 32, 6)
    with pytest.raises(ValueError, match="nb_filters"):
        transition_layer(keras.Input((56, 56, 256)), 512, 0.5)


def test_options_are_checked():
    with pytest.raises(ValueError, match="stem"):
        densenet121(stem="bn_conv")
    with pytest.raises(ValueError, match="head"):
        densenet121(head="flatten")


# --------------------------------------------------------------------------
# Table 1
# --------------------------------------------------------------------------
def test_every_row_recomputes(paper):
    rows = table_rows(paper)
    assert [r.name for r in rows] == [p[0] for p in PRINTED_ROWS]
    for r in rows:
        assert r.output_size_consistent, (r.name, r.output_size, r.computed_output_size)
        assert r.content_consistent, (r.name, r.content, r.computed_content)
    assert sum(r.params for r in rows) == paper.count_params()
    assert sum(r.mult_adds for r in rows) == sum(layer_mult_adds(l) for l in paper.layers)


def test_rows_from_keras_applications_agree(paper, keras_app):
    for ours, theirs in zip(table_rows(paper), table_rows(keras_app), strict=True):
        assert (ours.computed_output_size, ours.computed_content, ours.params, ours.mult_adds) == (
            theirs.computed_output_size, theirs.computed_content, theirs.params, theirs.mult_adds), ours.name


def test_row_figures_by_hand(paper):
    rows = {r.name: r for r in table_rows(paper)}
    assert rows["conv1"].params == 7 * 7 * 3 * 64 + 4 * 64  # no conv bias, BN's four vectors
    assert rows["conv1"].mult_adds == 7 * 7 * 3 * 64 * 112 * 112
    # dense block (1): layer j reads 64 + 32 j channels
    assert rows["conv2"].params == sum(4 * c + c * 128 + 4 * 128 + 9 * 128 * 32 for c in range(64, 256, 32))
    assert rows["conv2"].mult_adds == sum(c * 128 + 9 * 128 * 32 for c in range(64, 256, 32)) * 56 * 56
    assert rows["pool2_conv"].params == 4 * 256 + 256 * 128
    assert rows["pool2_conv"].layers == ("pool2_bn", "pool2_relu", "pool2_conv")
    assert rows["pool3_pool"].params == 0 and rows["pool3_pool"].computed_output_size == "14x14x256"
    assert rows["avg_pool"].layers == ("bn", "relu", "avg_pool") and rows["avg_pool"].params == 4 * 1024
    assert rows["predictions"].params == 1024 * 1000 + 1000


def test_course_rows_hold_the_block_task_figures(course):
    t = table(course)
    assert all(r.consistent for r in t.rows)
    assert t.row("conv2").params == 339_264  # = the dense block task on 56x56x64
    assert t.row("pool2_conv").params == 33_920  # = the transition task on 56x56x256
    assert t.totals.params == TOTAL_PARAMS_COURSE
    assert t.totals.printed_mult_adds == "" and t.totals.mult_adds_consistent is None


def test_generic_shape(paper):
    t = table(paper)
    assert t.title == "DenseNet-121"
    for c in t.columns:
        assert c.key in t.rows[0].to_dict()
    assert t.totals.params == TOTAL_PARAMS
    assert t.totals.mult_adds == sum(r.mult_adds for r in t.rows)


# --------------------------------------------------------------------------
# The locations the fixtures' headers rely on
# --------------------------------------------------------------------------
ASSIGNMENT = re.compile(r"#\s*assignment:\s*([\w.-]+)")
# one header line (a notebook's is inside a JSON string: stop at its quote or "\n")
EXPECT = re.compile(r"#[ \t]*expect(?:-warning|-info)?:[ \t]*(\w+)[ \t]+([^\s\"\\]+)")
DENSENET_TASKS = {"densenet121", "densenet121_course", "dense_block", "transition_layer"}


def fixture_locations(tasks):
    found = []
    for path in sorted(CASES.rglob("*")):
        if path.suffix not in (".py", ".ipynb"):
            continue
        text = path.read_text(encoding="utf-8")
        if set(ASSIGNMENT.findall(text)) & tasks:
            found += [(path.name, code, loc) for code, loc in EXPECT.findall(text)]
    return found


KINDS = {"dense_block": r"conv[2-5]_block\d+_", "transition_layer": r"pool[2-4]_"}


def resolves(code: str, location: str, names: set[str]) -> bool:
    """A reference location; for `layer_extra`, a whole layer the reference lacks:
    the one after a block's last (`conv4_block25`)."""
    if location in names or location == "data":
        return True
    if "/" in location:
        kind, role = location.split("/", 1)
        if role == "return":  # what a block function returns (its new filter count)
            return kind in KINDS
        if kind == "transition_layer":  # named as the dense layer's roles: /0_bn, /0_relu, /1_conv, /pool
            role = {"0_bn": "bn", "0_relu": "relu", "1_conv": "conv", "pool": "pool"}.get(role, "")
            if not role:
                return False
        return any(re.fullmatch(KINDS[kind] + re.escape(role), n) for n in names)
    if re.fullmatch(r"pool[2-4]", location):
        return any(n.startswith(location + "_") for n in names)
    block = re.fullmatch(r"(conv[2-5])_block(\d+)", location)
    if not block:
        return False
    stage, b = block.group(1), int(block.group(2))
    if any(n.startswith(f"{stage}_block{b}_") for n in names):
        return True
    return code == "layer_extra" and any(n.startswith(f"{stage}_block{b - 1}_") for n in names)


def test_fixture_locations_are_reference_names(paper):
    names = {l.name for l in paper.layers}
    locations = fixture_locations(DENSENET_TASKS)
    assert len(locations) >= 10
    for name, code, loc in locations:
        assert resolves(code, loc, names), f"{name}: {loc} is not a DenseNet-121 reference location"
    for loc in ("conv1_conv", "pool1", "conv4_block2_concat", "pool3_pool", "avg_pool", "predictions"):
        assert loc in names


def test_location_rules_reject_what_the_reference_lacks(paper):
    names = {l.name for l in paper.layers}
    assert resolves("layer_missing", "pool3", names) and resolves("layer_missing", "conv5_block13", names)
    assert resolves("layer_extra", "conv4_block25", names)
    for code, loc in (("layer_missing", "pool5"), ("layer_missing", "conv4_block25"), ("layer_extra", "conv4_block26"),
                      ("filters", "transition_layer/2_conv"), ("pool_type", "dense_block/pool"), ("filters", "pool1_pool")):
        assert not resolves(code, loc, names), (code, loc)
