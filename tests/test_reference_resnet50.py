"""The ResNet-50 reference (He et al., Table 1) against keras.applications,
its course variant, its block builders and its Table 1 rows."""

from __future__ import annotations

import os
import re
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

from grader.architectures.paper_table import layer_mult_adds, matches_scientific, parse_scientific  # noqa: E402
from grader.architectures.resnet50 import (  # noqa: E402
    PRINTED_ROWS,
    STAGES,
    TOTAL_PARAMS,
    TOTAL_PARAMS_NO_BIAS,
    identity_block,
    projection_block,
    resnet50,
    resnet50_course,
    table,
    table_rows,
)

CASES = Path(__file__).parent / "data" / "cases"
# Keras' layers that only pad (the reference pads with 'same') and its input's name.
KERAS_ONLY = {"conv1_pad", "pool1_pad", "input_layer"}


@pytest.fixture(scope="module")
def paper():
    return resnet50()


@pytest.fixture(scope="module")
def course():
    return resnet50_course()


@pytest.fixture(scope="module")
def v15():
    return resnet50(stride_on="3x3")


@pytest.fixture(scope="module")
def keras_app():
    return keras.applications.ResNet50(weights=None)


def weighted(model):
    """(name, kernel shape, strides, output shape) of every conv and dense layer, in model order."""
    return [(l.name, tuple(l.kernel.shape), getattr(l, "strides", None), tuple(l.output.shape))
            for l in model.layers if getattr(l, "kernel", None) is not None]


# --------------------------------------------------------------------------
# The paper's network against keras.applications.ResNet50
# --------------------------------------------------------------------------
def test_total_is_keras_applications(paper, keras_app):
    assert paper.count_params() == keras_app.count_params() == TOTAL_PARAMS == 25_636_712
    assert tuple(paper.output.shape) == tuple(keras_app.output.shape) == (None, 1000)


def test_same_convolutions_in_the_same_order(paper, keras_app):
    ours, theirs = weighted(paper), weighted(keras_app)
    assert len(ours) == 54  # 1 + 16 blocks x 3 + 4 shortcuts + fc
    assert ours == theirs


def test_same_names_and_layer_types(paper, keras_app):
    ours = {l.name: type(l).__name__ for l in paper.layers}
    # Keras numbers its input's name per session (input_layer_6 after other models): skip by type
    theirs = {l.name: type(l).__name__ for l in keras_app.layers
              if l.name not in KERAS_ONLY and not isinstance(l, keras.layers.InputLayer)}
    assert ours.pop("data") == "InputLayer"
    assert ours == theirs


def test_stage_layout_from_the_table(paper):
    names = {l.name for l in paper.layers}
    for stage in STAGES:
        blocks = {int(m.group(1)) for n in names if (m := re.match(rf"{stage.name}_block(\d+)_add$", n))}
        assert blocks == set(range(1, stage.blocks + 1))
        # the projection shortcut in the first block only
        assert {n for n in names if n.startswith(stage.name) and "_0_conv" in n} == {f"{stage.name}_block1_0_conv"}
        f1, f2, f3 = stage.filters
        assert [paper.get_layer(f"{stage.name}_block2_{i}_conv").filters for i in (1, 2, 3)] == [f1, f2, f3]
    assert [s.blocks for s in STAGES] == [3, 4, 6, 3]


def test_paper_stride_on_first_1x1(paper, v15):
    for stage in ("conv3", "conv4", "conv5"):
        assert paper.get_layer(f"{stage}_block1_1_conv").strides == (2, 2)
        assert paper.get_layer(f"{stage}_block1_2_conv").strides == (1, 1)
        assert v15.get_layer(f"{stage}_block1_1_conv").strides == (1, 1)
        assert v15.get_layer(f"{stage}_block1_2_conv").strides == (2, 2)
        for m in (paper, v15):
            assert m.get_layer(f"{stage}_block1_0_conv").strides == (2, 2)
    for m in (paper, v15):
        assert all(l.strides == (1, 1) for l in m.layers if l.name.startswith("conv2_") and hasattr(l, "strides"))
    assert v15.count_params() == TOTAL_PARAMS


def test_relu_after_the_addition(paper):
    add = paper.get_layer("conv3_block2_add")
    parents = {t._keras_history[0].name for t in add.input}
    assert parents == {"conv3_block1_out", "conv3_block2_3_bn"}  # identity shortcut, main path ends with BN
    out = paper.get_layer("conv3_block2_out")
    assert out.input._keras_history[0].name == "conv3_block2_add"
    proj = paper.get_layer("conv3_block1_add")
    assert {t._keras_history[0].name for t in proj.input} == {"conv3_block1_0_bn", "conv3_block1_3_bn"}


def test_without_biases():
    m = resnet50(use_bias=False)
    assert m.count_params() == TOTAL_PARAMS_NO_BIAS
    assert all(not l.use_bias for l in m.layers if isinstance(l, keras.layers.Conv2D))


# --------------------------------------------------------------------------
# The course variant
# --------------------------------------------------------------------------
def test_course_variant(course, paper):
    assert course.count_params() == TOTAL_PARAMS
    assert tuple(course.output.shape) == (None, 1, 1, 1000)
    pool = course.get_layer("avg_pool")
    assert isinstance(pool, keras.layers.AveragePooling2D) and pool.pool_size == (7, 7)
    for l in course.layers:
        if getattr(l, "kernel", None) is not None:
            assert l.get_config()["kernel_initializer"]["class_name"] == "HeNormal", l.name
    # the same convolutions as the paper's network, the head aside
    assert [w[:3] for w in weighted(course)] == [w[:3] for w in weighted(paper)]


# --------------------------------------------------------------------------
# Block builders and the block-function tasks' figures
# --------------------------------------------------------------------------
def block_model(shape, build):
    x = keras.Input(shape)
    return keras.Model(x, build(x))


def test_identity_block_task():
    m = block_model((224, 224, 256), lambda x: identity_block(x, (64, 64, 256), kernel_initializer="he_normal"))
    assert m.count_params() == 71_552
    assert tuple(m.output.shape) == (None, 224, 224, 256)
    assert [l.name for l in m.layers][1:] == [
        "identity_block_1_conv", "identity_block_1_bn", "identity_block_1_relu",
        "identity_block_2_conv", "identity_block_2_bn", "identity_block_2_relu",
        "identity_block_3_conv", "identity_block_3_bn", "identity_block_add", "identity_block_out"]


def test_projection_block_task():
    m = block_model((224, 224, 3), lambda x: projection_block(x, (64, 64, 256), 2, kernel_initializer="he_normal"))
    assert m.count_params() == 57_408
    assert tuple(m.output.shape) == (None, 112, 112, 256)
    names = {l.name for l in m.layers}
    assert {"projection_block_0_conv", "projection_block_0_bn", "projection_block_add"} <= names
    assert m.get_layer("projection_block_1_conv").strides == (2, 2)


def test_block_builders_refuse_what_cannot_be_built():
    x = keras.Input((56, 56, 64))
    with pytest.raises(ValueError, match="256 input channels"):
        identity_block(x, (64, 64, 256))
    with pytest.raises(ValueError, match="stride_on"):
        projection_block(x, (64, 64, 256), 1, stride_on="7x7")
    with pytest.raises(ValueError, match="3 filter counts"):
        projection_block(x, (64, 256), 1)


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
    # multiply-adds summed independently, over every layer with a kernel
    assert sum(r.mult_adds for r in rows) == sum(layer_mult_adds(l) for l in paper.layers)


def test_rows_from_keras_applications_agree(paper, keras_app):
    """The same rows computed from Keras' own ResNet50: an independent model with the same names."""
    for ours, theirs in zip(table_rows(paper), table_rows(keras_app), strict=True):
        assert (ours.computed_output_size, ours.computed_content, ours.params, ours.mult_adds) == (
            theirs.computed_output_size, theirs.computed_content, theirs.params, theirs.mult_adds), ours.name


def test_row_figures_by_hand(paper):
    rows = {r.name: r for r in table_rows(paper)}
    conv1 = 7 * 7 * 3 * 64
    assert rows["conv1"].params == conv1 + 64 + 4 * 64  # kernel, bias, BN's four vectors
    assert rows["conv1"].mult_adds == conv1 * 112 * 112
    assert rows["fc"].params == 2048 * 1000 + 1000
    assert rows["fc"].mult_adds == 2048 * 1000
    assert rows["conv2_x"].layers[0] == "pool1_pool"  # the max pool is printed in conv2_x's cell
    # conv5_x: one projection block and two identity blocks on 7x7 maps
    def block(cin, f1, f2, f3):
        return cin * f1 + f1 + 4 * f1 + 9 * f1 * f2 + f2 + 4 * f2 + f2 * f3 + f3 + 4 * f3
    assert rows["conv5_x"].params == block(1024, 512, 512, 2048) + (1024 * 2048 + 2048 + 4 * 2048) \
        + 2 * block(2048, 512, 512, 2048)


def test_totals_and_printed_flops(paper, v15, course):
    t = table(paper)
    assert t.totals.params == TOTAL_PARAMS
    assert t.totals.printed_mult_adds == "3.8x10^9"
    assert 3.85e9 < t.totals.mult_adds < 3.86e9
    assert t.totals.mult_adds_consistent is True
    assert table(v15).totals.mult_adds_consistent is False  # 4.09x10^9: the paper's figure is v1's
    assert table(course).totals.mult_adds == t.totals.mult_adds
    assert all(r.consistent for r in table(course).rows)
    assert [c.key for c in t.columns][:4] == ["layer_name", "output_size", "computed_output_size", "content"]
    for c in t.columns:
        assert hasattr(t.rows[0], c.key)
    assert t.row("conv4_x").content == "[1x1, 256; 3x3, 256; 1x1, 1024] x6"
    with pytest.raises(KeyError):
        t.row("conv6_x")


def test_scientific_figures():
    assert parse_scientific("3.8x10^9") == (3.8e9, 1e8)
    assert matches_scientific(3.89e9, "3.8x10^9") and not matches_scientific(3.91e9, "3.8x10^9")
    with pytest.raises(ValueError):
        parse_scientific("3.8 GFLOPs")


# --------------------------------------------------------------------------
# The locations the fixtures' headers rely on
# --------------------------------------------------------------------------
ASSIGNMENT = re.compile(r"#\s*assignment:\s*([\w.-]+)")
# one header line (a notebook's is inside a JSON string: stop at its quote or "\n")
EXPECT = re.compile(r"#[ \t]*expect(?:-warning|-info)?:[ \t]*(\w+)[ \t]+([^\s\"\\]+)")
RESNET_TASKS = {"resnet50", "resnet50_course", "identity_block", "projection_block"}


def fixture_locations(tasks):
    found = []
    for path in sorted(CASES.rglob("*")):
        if path.suffix not in (".py", ".ipynb"):
            continue
        text = path.read_text(encoding="utf-8")
        if set(ASSIGNMENT.findall(text)) & tasks:
            found += [(path.name, code, loc) for code, loc in EXPECT.findall(text)]
    return found


KINDS = {"identity_block": r"conv[2-5]_block([2-9])_", "projection_block": r"conv[2-5]_block1_"}


def roles(names: set[str]) -> set[str]:
    return {m.group(1) for n in names if (m := re.fullmatch(r"conv[2-5]_block\d+_(\w+)", n))}


def resolves(code: str, location: str, names: set[str]) -> bool:
    """A reference location; for `layer_extra`, one the reference lacks but the scheme
    names: a known role in a block or block function, or the block after a stage's last."""
    if location in names or location == "data":
        return True
    if "/" in location:
        kind, role = location.split("/", 1)
        if code == "layer_extra" and kind in KINDS:
            return role in roles(names)
        return any(re.fullmatch(KINDS[kind] + re.escape(role), n) for n in names)
    block = re.fullmatch(r"(conv[2-5])_block(\d+)(?:_(\w+))?", location)
    if not block:
        return False
    stage, b, role = block.group(1), int(block.group(2)), block.group(3)
    present = any(n.startswith(f"{stage}_block{b}_") for n in names)
    if role is None:
        return present or (code == "layer_extra" and any(n.startswith(f"{stage}_block{b - 1}_") for n in names))
    return code == "layer_extra" and present and role in roles(names)


def test_fixture_locations_are_reference_names(paper):
    names = {l.name for l in paper.layers}
    locations = fixture_locations(RESNET_TASKS)
    assert len(locations) >= 10
    for name, code, loc in locations:
        assert resolves(code, loc, names), f"{name}: {loc} is not a ResNet-50 reference location"
    for loc in ("conv1_conv", "pool1_pool", "conv3_block1_2_conv", "conv3_block1_0_bn", "conv3_block1_add",
                "avg_pool", "predictions"):
        assert loc in names


def test_location_rules_reject_what_the_reference_lacks(paper):
    names = {l.name for l in paper.layers}
    assert resolves("layer_extra", "conv3_block2_0_conv", names)  # a shortcut conv where none belongs
    assert resolves("layer_missing", "conv4_block6", names)
    assert resolves("layer_extra", "conv4_block7", names)
    for code, loc in (("layer_missing", "identity_block/0_conv"), ("filters", "conv3_block2_0_conv"),
                      ("layer_extra", "conv4_block9"), ("strides", "conv6_block1_1_conv"),
                      ("layer_extra", "identity_block/9_conv"), ("filters", "pool1")):
        assert not resolves(code, loc, names), (code, loc)
