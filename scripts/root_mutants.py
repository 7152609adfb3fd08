"""Single-fault mutants of the correct ResNet-50 and DenseNet-121 fixtures, and
how many of them the grader reports with more roots than the one fault made
(issue 22: "at most one spurious root in ten").

Each mutant is one textual change to a correct fixture (a stride, a call's
filters, an addition left out, the shortcut taken from the wrong tensor, a
block or layer count, the compression, the growth rate, a transition left
out ...). The mutants of one assignment are graded in one ``grader batch``
(warm workers); a mutant counts as spurious when its roots (findings without
``caused_by``, errors and warnings) are more than one, or do not include the
intended code.

    PYTHONPATH=$PWD python scripts/root_mutants.py [--keep DIR] [-k WORD] [--json OUT]

Run by hand (it grades ~40 networks: a few minutes); never a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "data" / "cases"
REFERENCE = ROOT / "reference"

# (name, fixture (a file, or folder/file for a unit folder's task), assignment, intended root code,
#  [(old, new, count)] replacements: count 1 = the first occurrence only, 0 = all)
R_FN = "correct_resnet50_functional.py"
R_TABLE = "correct_resnet50_stage_table.py"
R_SUB = "correct_resnet50_subclassed_blocks.py"
R_UNIT = "correct_unit_folder/4-resnet50.py"
ID_UNIT = "correct_unit_folder/2-identity_block.py"
D_FN = "correct_densenet121_functional.py"
D_TABLE = "correct_densenet121_stage_table.py"
D_UNIT = "correct_unit_folder/7-densenet121.py"
DB_UNIT = "correct_unit_folder/5-dense_block.py"
TR_UNIT = "correct_unit_folder/6-transition_layer.py"

MUTANTS = [
    # -- ResNet-50, functional with helper functions
    ("r_fn_stride_conv3", R_FN, "resnet50", "strides",
     [("filters=[128, 128, 512], stage=3, block='a', s=2", "filters=[128, 128, 512], stage=3, block='a', s=1", 1)]),
    ("r_fn_stride_conv2", R_FN, "resnet50", "strides",
     [("filters=[64, 64, 256], stage=2, block='a', s=1", "filters=[64, 64, 256], stage=2, block='a', s=2", 1)]),
    ("r_fn_filters_conv5", R_FN, "resnet50", "filters",
     [("[512, 512, 2048]", "[256, 256, 1024]", 0)]),
    ("r_fn_filters_conv4b", R_FN, "resnet50", "filters",
     [("[256, 256, 1024], stage=4, block='c'", "[256, 128, 1024], stage=4, block='c'", 1)]),
    ("r_fn_no_add", R_FN, "resnet50", "layer_missing",
     [("    X = Add()([X, X_shortcut])\n    X = Activation('relu')(X)\n    return X\n\n\ndef convolutional_block",
       "    X = Activation('relu')(X)\n    return X\n\n\ndef convolutional_block", 1)]),
    ("r_fn_shortcut_inside", R_FN, "resnet50", "shortcut_source",
     [("    X = BatchNormalization(axis=3, name=bn_name_base + '2c')(X)\n\n    X = Add()([X, X_shortcut])",
       "    X_shortcut = X\n    X = BatchNormalization(axis=3, name=bn_name_base + '2c')(X)\n\n    X = Add()([X, X_shortcut])", 1)]),
    ("r_fn_conv4_blocks5", R_FN, "resnet50", "layer_missing",
     [("    X = identity_block(X, 3, [256, 256, 1024], stage=4, block='f')\n", "", 1)]),
    ("r_fn_conv3_blocks5", R_FN, "resnet50", "layer_extra",
     [("    X = identity_block(X, 3, [128, 128, 512], stage=3, block='d')\n",
       "    X = identity_block(X, 3, [128, 128, 512], stage=3, block='d')\n"
       "    X = identity_block(X, 3, [128, 128, 512], stage=3, block='e')\n", 1)]),
    ("r_fn_stem_stride1", R_FN, "resnet50", "strides",
     [("X = Conv2D(64, (7, 7), strides=(2, 2), name='conv1'", "X = Conv2D(64, (7, 7), strides=(1, 1), name='conv1'", 1)]),
    # -- ResNet-50, a stage table and one bottleneck function
    ("r_table_stride_conv4", R_TABLE, "resnet50", "strides", [('("conv4", (256, 256, 1024), 6, 2)', '("conv4", (256, 256, 1024), 6, 1)', 1)]),
    ("r_table_filters_conv5", R_TABLE, "resnet50", "filters", [('("conv5", (512, 512, 2048), 3, 2)', '("conv5", (256, 256, 1024), 3, 2)', 1)]),
    ("r_table_blocks_conv4", R_TABLE, "resnet50", "layer_missing", [('("conv4", (256, 256, 1024), 6, 2)', '("conv4", (256, 256, 1024), 5, 2)', 1)]),
    ("r_table_blocks_conv2", R_TABLE, "resnet50", "layer_extra", [('("conv2", (64, 64, 256), 3, 1)', '("conv2", (64, 64, 256), 4, 1)', 1)]),
    ("r_table_no_add", R_TABLE, "resnet50", "layer_missing",
     [("    y = layers.Add()([y, shortcut])\n", "    y = layers.Add()([y, shortcut]) if project else y\n", 1)]),
    ("r_table_shortcut_inside", R_TABLE, "resnet50", "shortcut_source",
     [("    y = conv_bn(y, f3, 1, relu=False)\n", "    y = conv_bn(y, f3, 1, relu=False)\n    if not project:\n        shortcut = y\n", 1)]),
    # -- ResNet-50, the course's unit folder
    ("r_unit_stride_conv3", R_UNIT, "resnet50_course", "strides",
     [("Y = projection_block(Y, [128, 128, 512])", "Y = projection_block(Y, [128, 128, 512], 1)", 1)]),
    ("r_unit_filters_conv5", R_UNIT, "resnet50_course", "filters",
     [("[512, 512, 2048]", "[256, 256, 1024]", 0)]),
    ("r_unit_blocks_conv4", R_UNIT, "resnet50_course", "layer_missing", [("for _ in range(5):", "for _ in range(4):", 1)]),
    ("r_unit_id_no_add", ID_UNIT, "resnet50_course", "layer_missing",
     [("    out = K.layers.Add()([out, A_prev])\n", "", 1)]),
    ("r_unit_id_shortcut_inside", ID_UNIT, "resnet50_course", "shortcut_source",
     [("    out = K.layers.BatchNormalization(axis=3)(out)\n\n    out = K.layers.Add()([out, A_prev])",
       "    last = out\n    out = K.layers.BatchNormalization(axis=3)(out)\n    out = K.layers.Add()([out, last])", 1)]),
    ("r_task_id_no_add", ID_UNIT, "identity_block", "layer_missing",
     [("    out = K.layers.Add()([out, A_prev])\n", "", 1)]),
    ("r_task_id_shortcut_inside", ID_UNIT, "identity_block", "shortcut_source",
     [("    out = K.layers.BatchNormalization(axis=3)(out)\n\n    out = K.layers.Add()([out, A_prev])",
       "    last = out\n    out = K.layers.BatchNormalization(axis=3)(out)\n    out = K.layers.Add()([out, last])", 1)]),
    # -- DenseNet-121, functional with helpers
    ("d_fn_compression", D_FN, "densenet121", "filters", [("COMPRESSION = 0.5", "COMPRESSION = 1.0", 1)]),
    ("d_fn_growth", D_FN, "densenet121", "filters", [("GROWTH_RATE = 32", "GROWTH_RATE = 24", 1)]),
    ("d_fn_blocks_conv4", D_FN, "densenet121", "layer_extra", [("x = dense_block(x, 24)", "x = dense_block(x, 32)", 1)]),
    ("d_fn_blocks_conv3", D_FN, "densenet121", "layer_missing", [("x = dense_block(x, 12)", "x = dense_block(x, 10)", 1)]),
    ("d_fn_no_transition", D_FN, "densenet121", "layer_missing",
     [("    x = dense_block(x, 12)\n    x = transition_block(x, COMPRESSION)\n", "    x = dense_block(x, 12)\n", 1)]),
    ("d_fn_stem_stride1", D_FN, "densenet121", "strides",
     [("x = layers.Conv2D(64, 7, strides=2, padding='same', use_bias=False)(img)",
       "x = layers.Conv2D(64, 7, strides=1, padding='same', use_bias=False)(img)", 1)]),
    ("d_fn_pool1_stride1", D_FN, "densenet121", "strides",
     [("x = layers.MaxPooling2D(3, strides=2, padding='same')(x)", "x = layers.MaxPooling2D(3, strides=1, padding='same')(x)", 1)]),
    # -- DenseNet-121, one config dict
    ("d_table_sizes", D_TABLE, "densenet121", "layer_extra", [('"block_sizes": [6, 12, 24, 16]', '"block_sizes": [6, 12, 32, 32]', 1)]),
    ("d_table_sizes_short", D_TABLE, "densenet121", "layer_missing", [('"block_sizes": [6, 12, 24, 16]', '"block_sizes": [6, 12, 24, 12]', 1)]),
    ("d_table_growth", D_TABLE, "densenet121", "filters", [('"growth_rate": 32,', '"growth_rate": 16,', 1)]),
    ("d_table_compression", D_TABLE, "densenet121", "filters", [('"compression": 0.5,', '"compression": 1.0,', 1)]),
    ("d_table_transition_stride", D_TABLE, "densenet121", "strides",
     [("layers.AveragePooling2D(pool_size=2, strides=2)(x)", "layers.AveragePooling2D(pool_size=2, strides=1)(x)", 1)]),
    # -- DenseNet-121, the course's unit folder
    ("d_unit_sizes", D_UNIT, "densenet121_course", "layer_extra", [("[6, 12, 24, 16]", "[6, 12, 32, 32]", 1)]),
    ("d_unit_sizes_short", D_UNIT, "densenet121_course", "layer_missing", [("[6, 12, 24, 16]", "[6, 12, 24, 8]", 1)]),
    ("d_unit_no_transition", D_UNIT, "densenet121_course", "layer_missing", [("if i < 3:", "if i < 2:", 1)]),
    ("d_unit_tr_compression", TR_UNIT, "densenet121_course", "filters",
     [("nb_filters = int(nb_filters * compression)", "nb_filters = int(nb_filters)", 1)]),
    ("d_task_tr_compression", TR_UNIT, "transition_layer", "filters",
     [("    nb_filters = int(nb_filters * compression)\n", "", 1)]),
    ("d_unit_db_growth", DB_UNIT, "densenet121_course", "argument_misuse",
     [("Y = K.layers.Conv2D(growth_rate, 3,", "Y = K.layers.Conv2D(growth_rate // 2, 3,", 1)]),
    ("d_unit_db_count", DB_UNIT, "densenet121_course", "return_value", [("        nb_filters += growth_rate\n", "", 1)]),
    ("d_task_db_count", DB_UNIT, "dense_block", "return_value", [("        nb_filters += growth_rate\n", "", 1)]),
]


def mutate(text: str, edits) -> str:
    for old, new, count in edits:
        if old not in text:
            raise ValueError(f"not in the fixture: {old!r}")
        text = text.replace(old, new, count or -1)
    return text


def write_mutant(where: Path, name: str, fixture: str, edits) -> Path:
    """The mutant as a file (or as a copy of its unit folder with the one task file changed)."""
    if "/" in fixture:
        folder, task = fixture.split("/", 1)
        dst = where / name
        shutil.copytree(CASES / folder, dst)
        (dst / task).write_text(mutate((dst / task).read_text(encoding="utf-8"), edits), encoding="utf-8")
        return dst
    dst = where / f"{name}.py"
    dst.write_text(mutate((CASES / fixture).read_text(encoding="utf-8"), edits), encoding="utf-8")
    return dst


def roots_of(report: dict) -> list:
    return [(f["code"], f["location"]) for f in report.get("findings", [])
            if f.get("caused_by") is None and f.get("severity") in ("error", "warning")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="write the mutants and reports here (default: a temporary folder)")
    ap.add_argument("-k", help="only the mutants whose name contains this")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--jobs", default="1")
    a = ap.parse_args(argv)
    base = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="root_mutants_"))
    chosen = [m for m in MUTANTS if not a.k or a.k in m[0]]
    by_assignment: dict = {}
    for name, fixture, assignment, code, edits in chosen:
        by_assignment.setdefault(assignment, []).append((name, fixture, code, edits))
    grader = [sys.executable, "-m", "grader.cli"]
    results = []
    for assignment, ms in by_assignment.items():
        subs, out = base / assignment / "subs", base / assignment / "out"
        shutil.rmtree(subs, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        subs.mkdir(parents=True)
        for name, fixture, _code, edits in ms:
            write_mutant(subs, name, fixture, edits)
        subprocess.run(grader + ["batch", str(subs), "--out", str(out), "--assignment",
                                 str(REFERENCE / f"{assignment}.toml"), "--jobs", a.jobs, "--quiet", "--force"],
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
        reports = {}
        for p in out.rglob("report.json"):
            r = json.loads(p.read_text())
            reports[Path(r["submission"]["path"]).stem] = r
        for name, fixture, code, _edits in ms:
            r = reports.get(name)
            roots = roots_of(r) if r else [("not graded", "")]
            ok = len(roots) == 1 and roots[0][0] == code
            results.append({"name": name, "assignment": assignment, "intended": code, "roots": roots, "ok": ok,
                            "score": r.get("score") if r else None})
    bad = [x for x in results if not x["ok"]]
    for x in results:
        mark = "ok  " if x["ok"] else "MORE"
        print(f"{mark} {x['name']:28} {x['assignment']:20} want {x['intended']:16} got "
              + "; ".join(f"{c} {l}" for c, l in x["roots"]))
    print(f"\n{len(bad)} of {len(results)} mutants have roots besides the intended one "
          f"({100.0 * len(bad) / max(1, len(results)):.0f}%)")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
