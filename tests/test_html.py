"""The HTML report: structure, safety, languages, and a look in real headless Chromium."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import html5lib
import jinja2.ext
import pytest
from babel.messages import pofile
from babel.messages.extract import extract_python

from grader import i18n
from grader.render import render_html, write_html
from grader.render.html import load_table1
from grader.report import (
    Block, BranchLayer, Finding, LayerRow, ModelSummary, Part, Report, Source, SubmissionInfo,
)

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TEMPLATES = ROOT / "grader" / "templates"
KO_PO = ROOT / "grader" / "locale" / "ko" / "LC_MESSAGES" / "grader.po"

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = '"><img src=x onerror=alert(2)>'

# ---------------------------------------------------------------------------
# GoogLeNet as Table 1 has it, and a report builder
# ---------------------------------------------------------------------------
#: name, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj, input hw
INCEPTION = [
    ("inception_3a", 64, 96, 128, 16, 32, 32, 28),
    ("inception_3b", 128, 128, 192, 32, 96, 64, 28),
    ("inception_4a", 192, 96, 208, 16, 48, 64, 14),
    ("inception_4b", 160, 112, 224, 24, 64, 64, 14),
    ("inception_4c", 128, 128, 256, 24, 64, 64, 14),
    ("inception_4d", 112, 144, 288, 32, 64, 64, 14),
    ("inception_4e", 256, 160, 320, 32, 128, 128, 14),
    ("inception_5a", 256, 160, 320, 32, 128, 128, 7),
    ("inception_5b", 384, 192, 384, 48, 128, 128, 7),
]
KEYS = ("1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj")

# Used when reference/table1.csv (written by another part of the project) is absent.
INLINE_TABLE1 = """name,type,patch_size_stride,output_size,depth,n1x1,n3x3_reduce,n3x3,n5x5_reduce,n5x5,pool_proj,params,ops,note
conv1/7x7_s2,convolution,7×7/2,112×112×64,1,,,,,,,2.7K,34M,
pool1/3x3_s2,max pool,3×3/2,56×56×64,0,,,,,,,,,
conv2/3x3,convolution,3×3/1,56×56×192,2,,64,192,,,,112K,360M,
pool2/3x3_s2,max pool,3×3/2,28×28×192,0,,,,,,,,,
inception_3a,inception,,28×28×256,2,64,96,128,16,32,32,159K,128M,
inception_3b,inception,,28×28×480,2,128,128,192,32,96,64,380K,304M,
pool3/3x3_s2,max pool,3×3/2,14×14×480,0,,,,,,,,,
inception_4a,inception,,14×14×512,2,192,96,208,16,48,64,364K,73M,
inception_4b,inception,,14×14×512,2,160,112,224,24,64,64,437K,88M,
inception_4c,inception,,14×14×512,2,128,128,256,24,64,64,463K,100M,
inception_4d,inception,,14×14×528,2,112,144,288,32,64,64,580K,119M,
inception_4e,inception,,14×14×832,2,256,160,320,32,128,128,840K,170M,
pool4/3x3_s2,max pool,3×3/2,7×7×832,0,,,,,,,,,
inception_5a,inception,,7×7×832,2,256,160,320,32,128,128,1072K,54M,
inception_5b,inception,,7×7×1024,2,384,192,384,48,128,128,1388K,71M,
pool5/7x7_s1,avg pool,7×7/1,1×1×1024,0,,,,,,,,,
pool5/drop_7x7_s1,dropout (40%),,1×1×1024,0,,,,,,,,,
loss3/classifier,linear,,1×1×1000,1,,,,,,,1000K,1M,
prob,softmax,,1×1×1000,0,,,,,,,,,
"""


def table1() -> list[dict]:
    rows = load_table1(ROOT / "grader" / "architectures" / "googlenet" / "table1.csv") if (ROOT / "grader" / "architectures" / "googlenet" / "table1.csv").is_file() else None
    return rows or [dict(r) for r in csv.DictReader(io.StringIO(INLINE_TABLE1))]


def conv_params(cin, k, n):
    return k * k * cin * n + n


def network(*, stride1=2, reduce_from=None, nb_src=True, upto=None):
    """Rows for every layer and the nine blocks. ``stride1`` is conv1's stride (1 doubles
    every later feature map); ``reduce_from`` feeds each block's 3x3 reduce with another
    column (an argument mix-up); ``upto`` stops after that many layers (failed build)."""
    rows: list[LayerRow] = []
    blocks: list[Block] = []
    scale = 2 // stride1

    def src(line, cell=4):
        if nb_src:
            return Source("GoogLeNet.ipynb", 100 + line, cell=cell, cell_line=line, code=None)
        return Source("googlenet.py", line)

    def add(loc, typ, hw, c, params, *, ehw=None, ec=None, eparams=None, line=None, config=None,
            cell=4):
        ehw = hw if ehw is None else ehw
        ec = c if ec is None else ec
        shape = [None, hw * scale, hw * scale, c] if hw else [None, c]
        eshape = [None, ehw, ehw, ec] if ehw else [None, ec]
        rows.append(LayerRow(loc, typ, shape, eshape, params, params if eparams is None else eparams,
                             src(line, cell) if line else None, config or {}, {}))

    add("data", "InputLayer", 224, 3, 0, line=1)
    rows[-1] = dataclasses.replace(rows[-1], output_shape=[None, 224, 224, 3])
    add("conv1/7x7_s2", "Conv2D", 112, 64, conv_params(3, 7, 64), line=2,
        config={"filters": 64, "kernel_size": [7, 7], "strides": [stride1, stride1]})
    add("pool1/3x3_s2", "MaxPooling2D", 56, 64, 0, line=3,
        config={"pool_size": [3, 3], "strides": [2, 2]})
    add("pool1/norm1", "BatchNormalization", 56, 64, 256, eparams=0, line=4)
    add("conv2/3x3_reduce", "Conv2D", 56, 64, conv_params(64, 1, 64), line=5,
        config={"filters": 64, "kernel_size": [1, 1], "strides": [1, 1]})
    add("conv2/3x3", "Conv2D", 56, 192, conv_params(64, 3, 192), line=6,
        config={"filters": 192, "kernel_size": [3, 3], "strides": [1, 1]})
    add("pool2/3x3_s2", "MaxPooling2D", 28, 192, 0, line=7,
        config={"pool_size": [3, 3], "strides": [2, 2]})
    cin = 192
    for i, (name, n1, r3, n3, r5, n5, pp, hw) in enumerate(INCEPTION):
        exp = dict(zip(KEYS, (n1, r3, n3, r5, n5, pp)))
        act = dict(exp)
        if reduce_from:
            act["3x3_reduce"] = exp[reduce_from]
        ep = (conv_params(cin, 1, n1) + conv_params(cin, 1, r3) + conv_params(r3, 3, n3)
              + conv_params(cin, 1, r5) + conv_params(r5, 5, n5) + conv_params(cin, 1, pp))
        ap = ep - conv_params(cin, 1, r3) - conv_params(r3, 3, n3) + conv_params(
            cin, 1, act["3x3_reduce"]) + conv_params(act["3x3_reduce"], 3, n3)
        cout = n1 + n3 + n5 + pp
        line = 10 + i
        for key in KEYS:
            k = 3 if key == "3x3" else 5 if key == "5x5" else 1
            cin_k = {"3x3": act["3x3_reduce"], "5x5": r5}.get(key, cin)
            ecin_k = {"3x3": r3, "5x5": r5}.get(key, cin)
            add(f"{name}/{key}", "Conv2D", hw, act[key], conv_params(cin_k, k, act[key]),
                ec=exp[key], eparams=conv_params(ecin_k, k, exp[key]), line=line,
                config={"filters": act[key], "kernel_size": [k, k], "strides": [1, 1]})
        add(f"{name}/pool", "MaxPooling2D", hw, cin, 0, line=line)
        add(f"{name}/output", "Concatenate", hw, cout, 0, line=line)

        def bl(key, kernel, filters, ok=True, argument=None):
            return BranchLayer(f"{name}/{key}", "conv", kernel, filters, "relu", argument=argument, ok=ok)

        bad = reduce_from is not None
        branches = [
            [bl("1x1", [1, 1], act["1x1"])],
            [bl("3x3_reduce", [1, 1], act["3x3_reduce"], ok=not bad), bl("3x3", [3, 3], act["3x3"])],
            [bl("5x5_reduce", [1, 1], act["5x5_reduce"]), bl("5x5", [5, 5], act["5x5"])],
            [BranchLayer(f"{name}/pool", "pool", [3, 3], None, None, pool_type="max"),
             bl("pool_proj", [1, 1], act["pool_proj"])],
        ]
        blocks.append(Block(name, exp, act, [None, hw * scale, hw * scale, cout], [None, hw, hw, cout],
                            ap, ep, branches, ok=not bad))
        cin = cout
        if name == "inception_3b":
            add("pool3/3x3_s2", "MaxPooling2D", 14, 480, 0, line=20,
                config={"pool_size": [3, 3], "strides": [2, 2]})
        if name == "inception_4e":
            add("pool4/3x3_s2", "MaxPooling2D", 7, 832, 0, line=21,
                config={"pool_size": [3, 3], "strides": [2, 2]})
    add("pool5/7x7_s1", "AveragePooling2D", 1, 1024, 0, line=22,
        config={"pool_size": [7, 7], "strides": [1, 1]})
    add("pool5/drop_7x7_s1", "Dropout", 1, 1024, 0, line=23)
    rows.append(LayerRow("loss3/classifier", "Dense", [None, 1000], [None, 1000], 1025000, 1025000,
                         src(24), {"units": 1000}, {}))
    rows.append(LayerRow("prob", "Softmax", [None, 1000], [None, 1000], 0, 0, src(25), {}, {}))
    if upto is not None:
        rows = rows[:upto]
        built = {r.location for r in rows}
        blocks = [b for b in blocks if f"{b.location}/output" in built]
    return rows, blocks


def probe(reduce_from=None):
    args = {"1x1": "f1x1", "3x3_reduce": "f3x3_reduce", "3x3": "f3x3", "5x5_reduce": "f5x5_reduce",
            "5x5": "f5x5", "pool_proj": "pool_proj"}
    vals = dict(zip(KEYS, (11, 12, 13, 14, 15, 16)))
    act = dict(vals)
    used = dict(args)
    if reduce_from:
        act["3x3_reduce"] = vals[reduce_from]
        used["3x3_reduce"] = args[reduce_from]

    def bl(key, kernel):
        return BranchLayer(f"inception/{key}", "conv", kernel, act[key], "relu",
                           argument=used[key], ok=used[key] == args[key])

    branches = [[bl("1x1", [1, 1])], [bl("3x3_reduce", [1, 1]), bl("3x3", [3, 3])],
                [bl("5x5_reduce", [1, 1]), bl("5x5", [5, 5])],
                [BranchLayer("inception/pool", "pool", [3, 3], None, None, pool_type="max"),
                 bl("pool_proj", [1, 1])]]
    return Block("inception", vals, act, [None, 28, 28, 55], [None, 28, 28, 55], None, None,
                 branches, ok=reduce_from is None)


def submission(id_="alice", kind="py", **kw):
    return SubmissionInfo(id=id_, path=f"submissions/{id_}", sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                          kind=kind, **kw)


PARTS = [Part("architecture", 50, 50, "Architecture"), Part("inception", 30, 30, "Inception function"),
         Part("auxiliary", 20, 20, "Auxiliary classifiers")]
TOTAL = 6_998_552


def report(**kw) -> Report:
    layers, blocks = kw.pop("net", network(nb_src=False))
    model = ModelSummary(total_params=kw.pop("total_params", TOTAL), reference_total_params=TOTAL,
                         layers=layers, blocks=blocks, probe=kw.pop("probe", probe()),
                         outputs=[[None, 1000]])
    base = dict(submission=submission(), status="graded", score=100.0, max_score=100.0, parts=PARTS,
                findings=[], model=model, grader_version="0.1.0", graded_at="2025-03-14T09:26:53+00:00",
                assignment="googlenet-hw3", duration_s=12.4, sandboxed=True)
    base.update(kw)
    return Report(**base)


def correct_report() -> Report:
    f = Finding("i1", "training_skipped", "info", "total",
                "total: training call skipped while grading: model.fit(x_train, y_train, epochs=10).",
                actual="model.fit(x_train, y_train, epochs=10)", source=Source("googlenet.py", 40),
                template="{location}: training call skipped while grading: {actual}.",
                args={"location": "total", "actual": "model.fit(x_train, y_train, epochs=10)"})
    return report(findings=[f], stdout="Model: \"googlenet\"\nTotal params: 6,998,552\n")


# -- the multi-fault notebook -----------------------------------------------------
NB = "GoogLeNet.ipynb"
CELL3 = '''def inception(x, f1x1, f3x3_reduce, f3x3, f5x5_reduce, f5x5, pool_proj, name=None):
    """One inception module (Szegedy et al. 2014, Figure 2b)."""
    b1 = Conv2D(f1x1, 1, padding="same", activation="relu")(x)
    b2 = Conv2D(pool_proj, 1, padding="same", activation="relu")(x)
    b2 = Conv2D(f3x3, 3, padding="same", activation="relu")(b2)
    b3 = Conv2D(f5x5_reduce, 1, padding="same", activation="relu")(x)
    b3 = Conv2D(f5x5, 5, padding="same", activation="relu")(b3)
    b4 = MaxPooling2D(3, strides=1, padding="same")(x)
    b4 = Conv2D(pool_proj, 1, padding="same", activation="relu")(b4)
    return Concatenate(axis=-1, name=name)([b1, b2, b3, b4])
'''
CELL4 = '''inp = Input((224, 224, 3), name="data")
x = Conv2D(64, 7, strides=1, padding="same", activation="relu", name="conv1/7x7_s2")(inp)
x = MaxPooling2D(3, strides=2, padding="same", name="pool1/3x3_s2")(x)
x = BatchNormalization(name="pool1/norm1")(x)  # LRN is gone from Keras 3
x = Conv2D(64, 1, padding="same", activation="relu", name="conv2/3x3_reduce")(x)
x = Conv2D(192, 3, padding="same", name="conv2/3x3")(x)
x = MaxPooling2D(3, strides=2, padding="same", name="pool2/3x3_s2")(x)
''' + "".join(f'x = inception(x, {n1}, {r3}, {n3}, {r5}, {n5}, {pp}, name="{name}")\n'
              for name, n1, r3, n3, r5, n5, pp, _ in INCEPTION[:2]) + "\n" * 20 + \
    'aux1 = Dropout(0.5, name="loss1/drop_fc")(aux1)\n'
CELL6 = "model.fit(x_train, y_train, epochs=10)\n"
NB_FILES = {f"{NB}#cell3": CELL3, f"{NB}#cell4": CELL4, f"{NB}#cell6": CELL6}

STRIDE_MSG = ("conv1/7x7_s2: stride 1 where the paper has 2; every later feature map is halved "
              "(224×224 instead of 112×112 after conv1).")
RELU_MSG = ("conv2/3x3: no ReLU after this convolution; add activation='relu' (or a ReLU layer) after it.")
ARG_MSG = ("inception/3x3_reduce: the 3x3_reduce convolution takes its filters from `pool_proj` "
           "instead of `f3x3_reduce`.")
DROP_MSG = "loss1/drop_fc: dropout rate 0.5 where the paper has 0.7."


def multi_fault_report() -> Report:
    net = network(stride1=1, reduce_from="pool_proj", nb_src=True)
    layers, blocks = net
    layers = [dataclasses.replace(r, source=Source(NB, 200, cell=3, cell_line=4))
              if r.location.endswith("/3x3_reduce") and r.location.startswith("inception") else r
              for r in layers]
    fs = [
        Finding("f-stride", "strides", "error", "conv1/7x7_s2", STRIDE_MSG, expected=2, actual=1,
                source=Source(NB, 102, cell=4, cell_line=2), deduction=8, part="architecture",
                template="{location}: stride {actual} where the paper has {expected}; every later feature map is halved ({detail}).",
                args={"location": "conv1/7x7_s2", "actual": 1, "expected": 2,
                      "detail": "224×224 instead of 112×112 after conv1"}),
        Finding("f-relu", "activation", "error", "conv2/3x3", RELU_MSG, expected="relu", actual=None,
                source=Source(NB, 106, cell=4, cell_line=6), deduction=2, part="architecture",
                template="{location}: no ReLU after this convolution; add activation='relu' (or a ReLU layer) after it.",
                args={"location": "conv2/3x3"}),
        Finding("f-arg", "argument_misuse", "error", "inception/3x3_reduce", ARG_MSG,
                expected="f3x3_reduce", actual="pool_proj", source=Source(NB, 204, cell=3, cell_line=4),
                deduction=10, part="inception",
                template="{location}: the {layer} convolution takes its filters from `{actual}` instead of `{expected}`.",
                args={"location": "inception/3x3_reduce", "layer": "3x3_reduce", "actual": "pool_proj",
                      "expected": "f3x3_reduce"}),
        Finding("w-drop", "dropout_rate", "warning", "loss1/drop_fc", DROP_MSG, expected=0.7, actual=0.5,
                source=Source(NB, 130, cell=4, cell_line=30), deduction=0.5, part="auxiliary",
                template="{location}: dropout rate {actual} where the paper has {expected}.",
                args={"location": "loss1/drop_fc", "actual": 0.5, "expected": 0.7}),
        Finding("w-norm", "norm_type", "warning", "pool1/norm1",
                "pool1/norm1: BatchNormalization instead of local response normalization (allowed, but not the paper's).",
                expected="LRN", actual="BatchNormalization", source=Source(NB, 104, cell=4, cell_line=4),
                template="{location}: {actual} instead of local response normalization (allowed, but not the paper's).",
                args={"location": "pool1/norm1", "actual": "BatchNormalization"}),
        Finding("i-fit", "training_skipped", "info", "total",
                "total: training call skipped while grading: model.fit(x_train, y_train, epochs=10).",
                actual="model.fit(x_train, y_train, epochs=10)", source=Source(NB, 300, cell=6, cell_line=1),
                template="{location}: training call skipped while grading: {actual}.",
                args={"location": "total", "actual": "model.fit(x_train, y_train, epochs=10)"}),
    ]
    for loc, hw in (("pool1/3x3_s2", 56), ("conv2/3x3", 56), ("inception_3a/output", 28), ("pool5/7x7_s1", 1)):
        fs.append(Finding(f"c-{loc}", "output_shape", "error", loc,
                          f"{loc}: output {2 * hw}×{2 * hw} where the paper has {hw}×{hw}.",
                          expected=[None, hw, hw], actual=[None, 2 * hw, 2 * hw], caused_by="f-stride",
                          deduction=0.5, part="architecture"))
    for name, n1, r3, n3, r5, n5, pp, _ in INCEPTION:
        if r3 != pp:
            fs.append(Finding(f"c-{name}", "filters", "error", f"{name}/3x3_reduce",
                              f"{name}/3x3_reduce: {pp} filters where Table 1 has {r3}.",
                              expected=r3, actual=pp, caused_by="f-arg",
                              source=Source(NB, 204, cell=3, cell_line=4), part="inception",
                              template="{location}: {actual} filters where Table 1 has {expected}.",
                              args={"location": f"{name}/3x3_reduce", "actual": pp, "expected": r3}))
    parts = [Part("architecture", 50 - 8 - 2 - 2, 50, "Architecture"),
             Part("inception", 20, 30, "Inception function"), Part("auxiliary", 19.5, 20, "Auxiliary classifiers")]
    return report(
        submission=submission("bob", kind="ipynb", entry=NB, commit="3f2a9c1e", committed_at="2025-03-13T23:58:02+09:00",
                              late=False),
        score=sum(p.score for p in parts), parts=parts, findings=fs, net=(layers, blocks),
        probe=probe("pool_proj"), total_params=TOTAL - 61_000,
        stdout="Model: \"googlenet\"\n" + "".join(f"layer {i}\n" for i in range(30)),
        stderr="WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    )


FAILED_SRC = '''import keras
from keras.layers import Conv2D, Concatenate, Input, MaxPooling2D


def build():
    inp = Input((224, 224, 3))
    x = Conv2D(64, 7, strides=2, padding="same", activation="relu", name="conv1/7x7_s2")(inp)
    x = MaxPooling2D(3, strides=2, padding="same", name="pool1/3x3_s2")(x)
    x = Concatenate(axis=1)([x, inp])
    return keras.Model(inp, x)
'''
BUILD_ERR = ("A `Concatenate` layer requires inputs with matching shapes except for the concatenation "
             "axis. Received: input_shape=[(None, 56, 56, 64), (None, 224, 224, 3)]")


def failed_report() -> Report:
    layers, blocks = network(nb_src=False, upto=3)
    f = Finding("e-build", "build_error", "error", "total",
                f"total: the model could not be built: ValueError: {BUILD_ERR}.",
                actual=f"ValueError: {BUILD_ERR}", source=Source("googlenet.py", 9), deduction=100,
                part="architecture", template="{location}: the model could not be built: {actual}.",
                args={"location": "total", "actual": f"ValueError: {BUILD_ERR}"})
    return report(status="failed", score=0.0, parts=[Part(p.name, 0, p.max_score, p.title) for p in PARTS],
                  findings=[f], net=(layers, blocks), probe=None, total_params=None,
                  error={"type": "ValueError", "message": BUILD_ERR,
                         "source": {"file": "googlenet.py", "line": 9, "cell": None, "cell_line": None,
                                    "code": '    x = Concatenate(axis=1)([x, inp])'}},
                  stderr="Traceback (most recent call last):\n  ...\nValueError: " + BUILD_ERR + "\n")


def hostile_report() -> Report:
    layers, blocks = network(nb_src=False)
    layers = [dataclasses.replace(layers[1], location=HOSTILE_IMG, type=HOSTILE_SCRIPT)] + layers[2:]
    blocks = [dataclasses.replace(blocks[0], location=HOSTILE_IMG + HOSTILE_SCRIPT)] + blocks[1:]
    f = Finding("x1", "layer_extra", "error", HOSTILE_IMG,
                f"{HOSTILE_IMG}: an extra {HOSTILE_SCRIPT} that the paper does not have.",
                expected=HOSTILE_SCRIPT, actual=HOSTILE_IMG, source=Source(f"{HOSTILE_IMG}.py", 2),
                deduction=1, part="architecture",
                template="{location}: an extra {layer} that the paper does not have.",
                args={"location": HOSTILE_IMG, "layer": HOSTILE_SCRIPT})
    return report(submission=submission(HOSTILE_SCRIPT + HOSTILE_IMG, commit=HOSTILE_IMG),
                  findings=[f], net=(layers, blocks), assignment=HOSTILE_SCRIPT,
                  stdout=f"{HOSTILE_SCRIPT}\n</pre></details>{HOSTILE_IMG}\n", stderr=HOSTILE_IMG,
                  error=None)


HOSTILE_FILES = {f"{HOSTILE_IMG}.py": f"x = 1\ny = '{HOSTILE_SCRIPT}'  # {HOSTILE_IMG}\nz = 3\n"}
FAILED_FILES = {"googlenet.py": FAILED_SRC}


def cases():
    return {
        "correct": (correct_report(), {}),
        "multi_fault": (multi_fault_report(), NB_FILES),
        "failed": (failed_report(), FAILED_FILES),
        "hostile": (hostile_report(), HOSTILE_FILES),
    }


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def parse(text: str):
    """Strict HTML5 parse: raises on any parse error."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


def texts(doc) -> str:
    return "".join(doc.itertext())


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


URL_ATTRS = {"src", "href", "srcset", "action", "formaction", "poster", "data", "background",
             "xlink:href", "manifest", "ping", "cite", "longdesc", "codebase", "archive", "lowsrc"}


def assert_self_contained(text: str, doc) -> None:
    for el in doc.iter():
        tag = local(el.tag)
        assert tag not in {"link", "iframe", "object", "embed", "img", "image", "use", "base",
                           "frame", "audio", "video", "source", "track", "form", "portal"}, tag
        for name, value in el.attrib.items():
            bare = local(name).lower()
            assert not bare.startswith("on"), (tag, name)
            if bare in URL_ATTRS or name.lower() in URL_ATTRS:
                assert value.startswith("#"), (tag, name, value)
            if bare == "style":
                assert "url(" not in value.replace(" ", "").lower() or "url(data:" in value.lower()
        if tag == "script":
            raise AssertionError("the report needs no script")
        if tag == "meta" and el.get("http-equiv", "").lower() == "refresh":
            raise AssertionError("meta refresh")
    for style in re.findall(r"<style[^>]*>(.*?)</style>", text, flags=re.S | re.I):
        assert "@import" not in style
        for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", style):
            assert url.startswith("data:"), url


def render(name, **kw):
    rep, files = cases()[name]
    return rep, render_html(rep, source_files=files, table1=table1(), **kw)


# ---------------------------------------------------------------------------
# structure and content
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["correct", "multi_fault", "failed", "hostile"])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_valid_self_contained(name, lang):
    rep, text = render(name, lang=lang)
    doc = parse(text)
    assert_self_contained(text, doc)
    html = doc if local(doc.tag) == "html" else doc.find(".//html")
    assert html.get("lang") == lang
    # one h1, and no heading level skipped
    levels = [int(local(el.tag)[1]) for el in doc.iter() if re.fullmatch(r"h[1-6]", local(el.tag))]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels
    # every table header cell has a scope
    for th in doc.iter("th"):
        assert th.get("scope") in {"col", "row", "rowgroup", "colgroup"}, th.attrib


@pytest.mark.parametrize("name", ["correct", "multi_fault", "failed", "hostile"])
def test_root_findings_with_message_and_place(name):
    rep, text = render(name)
    body = texts(parse(text))
    for f in rep.roots():
        assert f.message in body
        if f.source is not None:
            assert f.source.label().split(": ", 1)[-1] in body
            if f.source.cell is None:
                assert f"{f.source.file}:{f.source.line}" in body


def test_header_and_score():
    rep, text = render("multi_fault")
    body = texts(parse(text))
    for s in (rep.submission.id, rep.submission.sha256, rep.submission.commit, "0.1.0",
              "Architecture", "Inception function", "Auxiliary classifiers", "77.5", "/ 100"):
        assert s in body, s
    assert text.count('<div class="bar') == 1 + len(rep.parts)


def test_order_consequences_and_sections():
    rep, text = render("multi_fault")
    doc = parse(text)
    first = doc.find(".//section[@id='fix-first']")
    cards = [a for a in first.iter("article")]
    msgs = [texts(c) for c in cards]
    # errors first, the costliest first; a warning that costs points comes after the errors
    order = [ARG_MSG, STRIDE_MSG, RELU_MSG, DROP_MSG]
    assert [next(i for i, m in enumerate(msgs) if o in m) for o in order] == [0, 1, 2, 3]
    stride = next(c for c in cards if STRIDE_MSG in texts(c))
    det = stride.find(".//details")
    assert "4 consequences" in texts(det.find("summary"))
    assert det.get("open") is None  # folded
    arg = next(c for c in cards if ARG_MSG in texts(c))
    assert len(arg.find(".//details").findall(".//li")) == 9
    # consequences are not listed as roots; warnings and notes have their own sections
    assert all("output 112×112" not in texts(c.find("p")) for c in cards)
    assert "BatchNormalization instead of local" in texts(doc.find(".//section[@id='warnings']"))
    assert "training call skipped" in texts(doc.find(".//section[@id='notes']"))


def test_source_snippet_highlighted_with_context():
    rep, text = render("multi_fault")
    doc = parse(text)
    card = next(a for a in doc.iter("article") if ARG_MSG in texts(a))
    pre = card.find(".//pre")
    assert "src" in pre.get("class")
    lines = texts(pre).split("\n")
    assert len(lines) == 7  # line 4 of cell 3, three either side
    mark = pre.find(".//mark")
    assert "Conv2D(pool_proj, 1" in texts(mark) and texts(mark).lstrip().startswith("4")
    assert pre.find(".//span[@class='k']") is not None or pre.find(".//span[@class='nf']") is not None
    assert "GoogLeNet.ipynb: cell 3, line 4" in texts(card)
    # a source without the file's text shows the captured line
    rep2, text2 = render("failed")
    assert "Concatenate(axis=1)" in texts(parse(text2).find(".//section[@id='failure']"))


def test_table1_marks_mismatches_with_symbol_and_expected():
    rep, text = render("multi_fault")
    doc = parse(text)
    table = doc.find(".//section[@id='table1']//table")
    bodies = {texts(tb.find(".//th")).strip().split()[0]: tb for tb in table.findall("tbody")}
    assert "inception_3a" in bodies and "conv1/7x7_s2" in bodies
    yours = bodies["inception_3a"].findall("tr")[1]
    bad = [td for td in yours.findall("td") if "bad" in (td.get("class") or "")]
    # 3x3 reduce (32 for 96), the output size (56×56 for 28×28) and the params differ
    assert len(bad) == 3
    reduce = next(td for td in bad if texts(td).strip().startswith("✗32"))
    assert "expected 96" in reduce.get("title") and "expected 96" in texts(reduce)
    conv1 = bodies["conv1/7x7_s2"].findall("tr")[1]
    assert any("7×7/1" in texts(td) and "bad" in td.get("class", "") for td in conv1.findall("td"))
    ok = bodies["inception_3a"].findall("tr")[0]
    assert "paper" in texts(ok)
    # a correct network has no mismatching cell at all
    rep, text = render("correct")
    assert 'class="bad' not in text.split('id="table1"')[1].split("</section>")[0]


def test_blocks_and_probe_diagrams():
    rep, text = render("multi_fault")
    doc = parse(text)
    sec = doc.find(".//section[@id='blocks']")
    svgs = [el for el in sec.iter() if local(el.tag) == "svg"]
    assert len(svgs) == 10  # the probe and nine blocks
    probe_svg = svgs[0]
    words = " ".join(t for t in probe_svg.itertext())
    assert "← pool_proj" in words and "← f3x3" in words and "✗" in words
    bad = [g for g in probe_svg.iter() if local(g.tag) == "g" and "bad" in g.get("class", "")]
    assert len(bad) == 1
    assert all(el.get("role") == "img" for el in svgs)
    rep, text = render("correct")
    sec = parse(text).find(".//section[@id='blocks']")
    assert not [g for g in sec.iter() if local(g.tag) == "g" and "bad" in g.get("class", "")]


def test_layer_table_and_filter():
    rep, text = render("multi_fault")
    doc = parse(text)
    sec = doc.find(".//section[@id='layers']")
    rows = sec.findall(".//tbody/tr")
    assert len(rows) == len(rep.model.layers)
    assert sum("row-bad" in r.get("class") for r in rows) == sum(r.mismatch for r in rep.model.layers)
    inp = sec.find(".//input")
    assert inp.get("type") == "checkbox" and sec.find(".//label").get("for") == inp.get("id")
    assert "#only-bad:checked ~ .table-wrap tr.row-ok" in text
    assert "GoogLeNet.ipynb: cell 4, line 2" in texts(sec)


def test_failed_report_shows_error_and_partial_network():
    rep, text = render("failed")
    doc = parse(text)
    sec = doc.find(".//section[@id='failure']")
    assert "ValueError" in texts(sec) and "matching shapes" in texts(sec)
    assert "googlenet.py:9" in texts(sec)
    assert "Concatenate(axis=1)" in texts(sec.find(".//mark"))
    layers = doc.find(".//section[@id='layers']")
    assert "as far as it got" in texts(layers.find("h2"))
    assert len(layers.findall(".//tbody/tr")) == 3
    t1 = texts(doc.find(".//section[@id='table1']"))
    assert "not built" in t1


def test_hostile_strings_are_escaped():
    rep, text = render("hostile")
    assert HOSTILE_SCRIPT not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    doc = parse(text)
    assert not [el for el in doc.iter() if local(el.tag) in ("script", "img")]
    body = texts(doc)
    assert HOSTILE_SCRIPT in body and HOSTILE_IMG in body  # shown as text
    out = doc.find(".//section[@id='output']")
    assert HOSTILE_SCRIPT in texts(out) and "</pre></details>" in texts(out)
    for lang in ("ko",):
        text = render_html(rep, lang=lang, source_files=HOSTILE_FILES, table1=table1())
        assert HOSTILE_SCRIPT not in text and "<img" not in text


def test_captured_output_is_collapsed():
    rep, text = render("multi_fault")
    out = parse(text).find(".//section[@id='output']")
    dets = out.findall(".//details")
    assert len(dets) == 2 and all(d.get("open") is None for d in dets)
    assert "layer 29" in texts(dets[0])


# ---------------------------------------------------------------------------
# languages
# ---------------------------------------------------------------------------
def test_korean():
    rep, text = render("multi_fault", lang="ko")
    doc = parse(text)
    body = texts(doc)
    for ui in ("무엇부터 고칠까요", "여러분의 신경망과 GoogLeNet", "인셉션 블록", "모든 층", "채점 보고서"):
        assert ui in body, ui
    assert ("conv1/7x7_s2: 논문은 스트라이드 2인데 1입니다. 이후의 모든 특징 맵 크기가 두 배 차이 "
            "납니다(224×224 instead of 112×112 after conv1).") in body
    assert "inception_3a/3x3_reduce: Table 1은 96개인데 필터가 32개입니다." in body
    assert STRIDE_MSG not in body  # translated, not English
    assert "GoogLeNet.ipynb: 셀 3, 4번째 줄" in body


def test_translate_finding_falls_back_to_english():
    rep = multi_fault_report()
    f = next(f for f in rep.findings if f.id == "f-stride")
    assert i18n.translate_finding(f, "en") == STRIDE_MSG
    assert i18n.translate_finding(f, "ko") != STRIDE_MSG
    unknown = dataclasses.replace(f, template="{location}: something new in {actual}.")
    assert i18n.translate_finding(unknown, "ko") == STRIDE_MSG
    broken = dataclasses.replace(f, args={})  # the catalog entry needs {detail}
    assert i18n.translate_finding(broken, "ko") == STRIDE_MSG
    assert i18n.translate_finding(dataclasses.replace(f, template=None), "ko") == STRIDE_MSG
    assert i18n.translate_finding(f, "zz") == STRIDE_MSG
    assert i18n.translate_finding(f, "ko-KR") == i18n.translate_finding(f, "ko")
    assert {"en", "ko"} <= set(i18n.available_languages())


FINDING_MSGIDS = [
    "{location}: stride {actual} where the paper has {expected}; every later feature map is halved ({detail}).",
    "{location}: no ReLU after this convolution; add activation='relu' (or a ReLU layer) after it.",
    "{location}: {actual} filters where Table 1 has {expected}.",
    "{location}: {actual} is this block's {column}: the {layer} convolution is fed the wrong argument.",
    "{location}: the {layer} convolution takes its filters from `{actual}` instead of `{expected}`.",
    "{location}: parameter `{argument}` of your inception function is never used.",
    "{location}: kernel {actual} where the paper has {expected}.",
    "{location}: padding '{actual}' gives {detail}; use padding='same'.",
    "{location}: {actual} pooling where the paper has {expected} pooling.",
    "{location}: pool window {actual} where the paper has {expected}.",
    "{location}: {actual} instead of local response normalization (allowed, but not the paper's).",
    "{location}: dropout rate {actual} where the paper has {expected}.",
    "{location}: {actual} units where the paper has {expected}.",
    "{location}: {layer} is missing.",
    "{location}: an extra {layer} that the paper does not have.",
    "{location}: the auxiliary classifier hangs from {actual} instead of {expected}.",
    "{location}: the auxiliary classifier is missing.",
    "{location}: the branches are concatenated as {actual}; the paper's order is {expected}.",
    "{location}: concatenation on axis {actual}; the channel axis is {expected}.",
    "{location}: input shape {actual} where the assignment asks for {expected}.",
    "{location}: the model could not be built: {actual}.",
    "{location}: the grader gave up after {actual} seconds.",
    "{location}: no model was found; {detail}.",
    "{location}: {actual} parameters where the reference has {expected}.",
    "{location}: training call skipped while grading: {actual}.",
]


def _ko_catalog():
    with KO_PO.open("rb") as fh:
        return pofile.read_po(fh)


def _diagnosis_templates() -> list:
    from grader import diagnose
    from grader.arch import get

    out = [v for k, v in vars(diagnose).items() if k.startswith("M_") and isinstance(v, str)]
    for folder in sorted((ROOT / "grader" / "architectures").iterdir()):
        if (folder / "arch.py").is_file():
            out += get(folder.name).templates()  # each architecture's own messages
    from grader.solution import SolutionArchitecture

    # a report graded against a solution file says "the solution" where the paper's says "the paper":
    # each of those reworded templates is a msgid of its own
    return out + SolutionArchitecture().templates()


def test_korean_catalog_has_every_finding_template():
    cat = _ko_catalog()
    for msgid in sorted(set(FINDING_MSGIDS) | set(_diagnosis_templates())):
        m = cat.get(msgid)
        assert m is not None and m.string and not m.fuzzy, msgid
        fields = lambda s: sorted(set(re.findall(r"\{(\w+)\}", s)))  # noqa: E731
        assert fields(m.string) == fields(msgid), msgid


def _ui_msgids() -> set:
    ids = set()
    for path in [TEMPLATES / "report.html.j2", TEMPLATES / "report_fragment.html.j2", TEMPLATES / "index.html.j2",
                 *sorted(TEMPLATES.glob("_*.j2"))]:
        with path.open("rb") as fh:
            for _, _, msg, _ in jinja2.ext.babel_extract(
                    fh, ("_", "gettext", "ngettext"), [], {"extensions": "jinja2.ext.i18n",
                                                            "trimmed": "false"}):
                ids.add(msg if isinstance(msg, str) else tuple(m for m in msg if m))
    for module in ("html.py", "blocks.py"):
        with (ROOT / "grader" / "render" / module).open("rb") as fh:
            for _, _, msg, _ in extract_python(fh, {"_": None}, [], {}):
                if msg is not None:  # self._(spec.title): the architectures' words, added below
                    ids.add(msg)
    with (ROOT / "grader" / "render" / "index.py").open("rb") as fh:
        for _, _, msg, _ in extract_python(fh, {"gettext": None}, [], {}):
            if msg is not None:  # gettext(a_variable): the part titles, added below
                ids.add(msg)
    # the rubric's part titles and the units their summaries count, of every architecture
    from grader.arch import get
    from grader.solution import SolutionArchitecture

    archs = [get(folder.name) for folder in sorted((ROOT / "grader" / "architectures").iterdir())
             if (folder / "arch.py").is_file()]
    for a in archs + [SolutionArchitecture()]:  # the papers' and a solution file's
        for p in a.parts:
            ids |= {p.title} | ({p.unit} if p.unit else set()) | ({p.group_unit} if p.group_unit else set())
        # and the words of its block drawings
        ids |= {a.blocks_title, a.blocks_legend} | {d.title for d in a.drawings} | {
            p.label for d in a.drawings for p in d.paths if p.label}
    return ids


def test_korean_catalog_covers_every_ui_string():
    cat = _ko_catalog()
    ids = _ui_msgids()
    assert len(ids) > 60
    missing = []
    for msg in ids:
        key = msg[0] if isinstance(msg, tuple) else msg
        m = cat.get(key)
        if m is None or not m.string or m.fuzzy or (isinstance(m.string, tuple) and not all(m.string)):
            missing.append(key)
    assert not missing, missing


def test_new_language_by_dropping_a_po(tmp_path):
    d = tmp_path / "xx" / "LC_MESSAGES"
    d.mkdir(parents=True)
    (d / "grader.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        'msgid "What to fix first"\nmsgstr "Xx fixy firsty"\n\n'
        'msgid "{location}: stride {actual} where the paper has {expected}; every later feature map is halved ({detail})."\n'
        'msgstr "{location}: xx-stride {actual}/{expected} ({detail})"\n',
        encoding="utf-8")
    assert "xx" in i18n.available_languages(tmp_path)
    assert i18n.get_translations("xx", tmp_path).gettext("What to fix first") == "Xx fixy firsty"
    rep = multi_fault_report()
    text = render_html(rep, lang="xx", locale_dir=tmp_path, source_files=NB_FILES, table1=table1())
    body = texts(parse(text))
    assert "Xx fixy firsty" in body
    assert "conv1/7x7_s2: xx-stride 1/2 (224×224 instead of 112×112 after conv1)" in body
    assert RELU_MSG in body  # not in this catalog: English
    assert 'lang="xx"' in text


def test_write_html_is_atomic(tmp_path):
    rep, _ = cases()["correct"]
    target = tmp_path / "out" / "report.html"
    write_html(rep, target, table1=table1())
    write_html(rep, target, table1=table1(), lang="ko")
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]
    assert "채점 보고서" in target.read_text(encoding="utf-8")


def test_report_json_roundtrip_renders_the_same():
    rep = multi_fault_report()
    again = Report.from_json(rep.to_json())
    assert render_html(again, source_files=NB_FILES, table1=table1()) == render_html(
        rep, source_files=NB_FILES, table1=table1())


def test_without_table1_uses_blocks():
    rep = multi_fault_report()
    text = render_html(rep, table1=[], source_files=NB_FILES)
    sec = parse(text).find(".//section[@id='table1']")
    assert "inception_5b" in texts(sec) and "not available" in texts(sec)


# ---------------------------------------------------------------------------
# real headless Chromium
# ---------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ON_CI = os.environ.get("CI") == "true"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not ON_CI,
    reason="headless Chromium is not installed (Debian package: chromium)")

CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--hide-scrollbars", "--mute-audio",
                "--enable-logging=stderr", "--v=0"]
# Chromium logs every console message as ``INFO:CONSOLE:<line>] "..."`` (older builds:
# ``CONSOLE(<line>)``); the report has no script, so any console message is a fault.
CONSOLE_ERRORS = re.compile(r"Uncaught|CONSOLE[:(]\d+|Failed to load resource|net::ERR_|"
                            r"Refused to|Content Security Policy|Not allowed to load", re.I)


def chromium(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    assert CHROMIUM, "chromium is not installed (apt-get install chromium)"
    with tempfile.TemporaryDirectory(prefix="grader-chromium-") as profile:
        proc = subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    d = tmp_path_factory.mktemp("pages")
    out = {}
    for name, (rep, files) in cases().items():
        out[name] = write_html(rep, d / f"{name}.html", source_files=files, table1=table1())
    rep, files = cases()["multi_fault"]
    out["multi_fault_ko"] = write_html(rep, d / "multi_fault_ko.html", lang="ko", source_files=files,
                                       table1=table1())
    return out


@needs_chromium
def test_chromium_renders_without_console_errors(pages, tmp_path):
    # a canary: the same check must catch a page that does log errors
    canary = tmp_path / "canary.html"
    canary.write_text("<!DOCTYPE html><title>c</title><p>c</p><script>undefined_fn()</script>")
    jobs = {name: ("--dump-dom", path.as_uri()) for name, path in pages.items()}
    jobs["canary"] = ("--dump-dom", canary.as_uri())
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(jobs, pool.map(lambda a: chromium(*a), jobs.values())))
    canary = results.pop("canary")
    assert any(CONSOLE_ERRORS.search(line) for line in canary.stderr.splitlines()), canary.stderr[-2000:]
    for name, proc in results.items():
        bad = [line for line in proc.stderr.splitlines() if CONSOLE_ERRORS.search(line)]
        assert not bad, (name, bad)
        dom = proc.stdout
        assert "</html>" in dom and ("What to fix first" in dom or "무엇부터" in dom), name
    body = texts(html5lib.parse(results["multi_fault"].stdout, namespaceHTMLElements=False))
    for msg in (STRIDE_MSG, RELU_MSG, ARG_MSG, DROP_MSG):
        assert msg in body, msg
    assert "inception_3a/3x3_reduce: 32 filters where Table 1 has 96." in body
    hostile = html5lib.parse(results["hostile"].stdout, namespaceHTMLElements=False)
    assert not [el for el in hostile.iter() if local(el.tag) in ("script", "img")]


@needs_chromium
def test_chromium_screenshots(pages):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = [
        (pages["multi_fault"], ARTIFACTS / "report_multi_fault.png", "1280,4000"),
        (pages["multi_fault"], ARTIFACTS / "report_multi_fault_phone.png", "390,2000"),
        (pages["multi_fault_ko"], ARTIFACTS / "report_multi_fault_ko.png", "1280,2400"),
        (pages["failed"], ARTIFACTS / "report_failed.png", "1280,2400"),
    ]
    for _, png, _ in shots:
        png.unlink(missing_ok=True)

    def shoot(job):
        page, png, size = job
        return chromium(f"--screenshot={png}", f"--window-size={size}", page.as_uri())

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(shoot, shots))
    for _, png, size in shots:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, png
        w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (w, h) == tuple(int(x) for x in size.split(",")), (png, w, h)


@needs_chromium
def test_chromium_print_expands_details(pages):
    pdf = ARTIFACTS / "report_multi_fault.pdf"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf.unlink(missing_ok=True)
    chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", pages["multi_fault"].as_uri())
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext"):  # poppler-utils: check the folded consequences are printed
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "inception_5b/3x3_reduce: 128 filters where Table 1 has 192." in re.sub(r"\s+", " ", text)
        assert "layer 29" in text  # the captured output, folded on screen


def test_default_table1_and_odd_languages():
    rep = correct_report()
    text = render_html(rep)  # Table 1 from the reference package when it is there
    sec = texts(parse(text).find(".//section[@id='table1']"))
    if (ROOT / "grader" / "architectures" / "googlenet" / "table1.csv").is_file():
        assert "inception (3a)" in sec and "not available" not in sec
    else:
        assert "not available" in sec
    for lang in ('"><script>x</script>', "../../etc", "ko_KR", "KO", "", "zz"):
        out = render_html(rep, lang=lang, table1=table1())
        assert "<script>" not in out
        assert parse(out).get("lang") in ("en", "ko")


def _contrast(a: str, b: str) -> float:
    def lum(h):
        h = h.lstrip("#")
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        def ch(c):
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b_ = (ch(int(h[i:i + 2], 16) / 255) for i in (0, 2, 4))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_
    la, lb = lum(a), lum(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def test_colours_meet_wcag_aa():
    css = (TEMPLATES / "_styles.j2").read_text(encoding="utf-8")
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", css))
    pairs = [("fg", "bg"), ("muted", "bg"), ("muted", "panel"), ("fg", "hl"), ("err", "bg"),
             ("err-fg", "err-bg"), ("warn", "bg"), ("warn", "warn-bg"), ("info", "bg"), ("info", "info-bg"),
             ("ok", "bg"), ("ok", "ok-bg"), ("muted", "err-bg")]
    for fg, bg in pairs:
        assert _contrast(var[fg], var[bg]) >= 4.5, (fg, bg)
    # the syntax highlighting, on white and on the highlighted line
    from grader.render.html import pygments_css
    for colour in re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})", pygments_css()):
        assert _contrast(colour, "#ffffff") >= 4.5 and _contrast(colour, var["hl"]) >= 4.5, colour


def test_odd_finding_links_lose_nothing():
    base = multi_fault_report()
    a = dataclasses.replace(base.findings[1], id="a", caused_by="b", message="cycle member A")
    b = dataclasses.replace(base.findings[1], id="b", caused_by="a", message="cycle member B")
    orphan = dataclasses.replace(base.findings[1], id="o", caused_by="nowhere", message="orphan O")
    rep = dataclasses.replace(base, findings=[a, b, orphan])
    body = texts(parse(render_html(rep, table1=table1())))
    for m in ("cycle member A", "cycle member B", "orphan O"):
        assert m in body


# -- block drawings of the other architectures --------------------------------------
def _resnet_block(loc, *, shortcut=(), last_relu=False, bad_last=False):
    def conv(role, k, n, act="relu", ok=True):
        return BranchLayer(f"{loc}_{role}", "conv", [k, k], n, act, ok=ok)

    main = [conv("1_conv", 1, 64), conv("2_conv", 3, 64),
            conv("3_conv", 1, 256, "relu" if last_relu else None, ok=not bad_last)]
    expected = {"1_conv": 64, "2_conv": 64, "3_conv": 256, **({"0_conv": 256} if shortcut else {})}
    return Block(loc, expected, dict(expected), [None, 56, 56, 256], [None, 56, 56, 256], 70_000, 70_000,
                 [list(shortcut), main], ok=False)  # the report's ok counts the identity as a missing branch


def test_residual_blocks_drawn_with_shortcut_addition_and_relu():
    proj = _resnet_block("conv2_block1", shortcut=[BranchLayer("conv2_block1_0_conv", "conv", [1, 1], 256, None)])
    ident = _resnet_block("conv2_block2")
    rep = report(net=([], [proj, ident]), probe=None, architecture="resnet50")
    doc = parse(render_html(rep, table1=table1()))
    kicker = "".join(doc.find(".//p[@class='kicker']").itertext())
    assert kicker.startswith("ResNet-50 assignment"), kicker
    sec = doc.find(".//section[@id='blocks']")
    assert "The residual blocks" in texts(sec.find("h2"))
    arts = list(sec.iter("article"))
    assert len(arts) == 2 and not [a for a in arts if "bad" in a.get("class")]
    words = [" ".join(texts(a).split()) for a in arts]
    assert "projection block" in words[0] and "identity block" in words[1] and "identity shortcut" in words[1]
    for w in words:
        assert "as in the paper" in w and "differs" not in w and "branch missing" not in w
        assert " add " in w and "ReLU → 56×56×256" in w and "concatenate" not in w and "BN · ReLU" in w
    assert not [g for g in sec.iter() if "bad" in (g.get("class") or "").split()]
    # the ReLU moved before the addition: the last 1x1 and the ReLU after the addition are marked, nothing else
    moved = _resnet_block("conv2_block2", last_relu=True, bad_last=True)
    f = Finding("f1", "activation", "error", "identity_block/add", "identity_block/add: the ReLU comes before the addition",
                expected="ReLU after the addition", actual="ReLU before the addition")
    doc = parse(render_html(report(net=([], [moved]), probe=None, architecture="resnet50", findings=[f]), table1=table1()))
    sec = doc.find(".//section[@id='blocks']")
    bad = [" ".join(texts(g).split()) for g in sec.iter() if local(g.tag) == "g" and "bad" in g.get("class", "").split()]
    assert len(bad) == 2 and "✗ conv 1×1" in bad[0] and "paper: ReLU after the addition" in bad[1], bad
    assert "differs" in texts(sec)


def test_dense_layers_and_transitions_drawn():
    def dense(loc, *, bottleneck=True):
        new = [BranchLayer(f"{loc}_0_bn", "norm", None, None, None), BranchLayer(f"{loc}_0_relu", "act", None, None, None),
               *([BranchLayer(f"{loc}_1_conv", "conv", [1, 1], 128, "relu")] if bottleneck else []),
               BranchLayer(f"{loc}_2_conv", "conv", [3, 3], 32, None)]
        cols = {"1_conv": 128, "2_conv": 32}
        return Block(loc, cols, cols if bottleneck else {"2_conv": 32}, [None, 56, 56, 96], [None, 56, 56, 96],
                     1, 1, [[], new], ok=False)

    def row(loc, typ, config, shape=(None, 28, 28, 128)):
        return LayerRow(loc, typ, list(shape), list(shape), 0, 0, config=config, expected_config=config)

    transition = [row("pool2_bn", "BatchNormalization", {"norm": "batchnorm"}), row("pool2_relu", "Activation", {}),
                  row("pool2_conv", "Conv2D", {"kernel": [1, 1], "filters": 128}),
                  row("pool2_pool", "AveragePooling2D", {"pool_type": "avg", "pool_size": [2, 2], "strides": [2, 2]})]
    layers = [LayerRow("conv2_block1_0_bn", "BatchNormalization", None, None, 0, 0), *transition,
              LayerRow("conv3_block1_0_bn", "BatchNormalization", None, None, 0, 0)]
    rep = report(net=(layers, [dense("conv2_block1"), dense("conv3_block1")]), probe=None, architecture="densenet121")
    doc = parse(render_html(rep, table1=table1()))
    assert "".join(doc.find(".//p[@class='kicker']").itertext()).startswith("DenseNet-121 assignment")
    sec = doc.find(".//section[@id='blocks']")
    arts = list(sec.iter("article"))
    # in network order: the transition between the two dense layers
    assert [a.get("id") for a in arts] == ["block-0", "segment-0", "block-1"]
    words = [" ".join(texts(a).split()) for a in arts]
    assert all("as in the paper" in w for w in words)
    for w in (words[0], words[2]):
        assert "concatenate onto the input" in w and "BatchNorm" in w and "the input" in w and "conv 3×3" in w
    assert "transition layer" in words[1] and "avg pool 2×2/2" in words[1] and "conv 1×1" in words[1]
    assert not [g for g in sec.iter() if "bad" in (g.get("class") or "").split()]
    # no bottleneck: the missing 1x1 is a box of its own, marked; in Korean too
    rep = report(net=(layers, [dense("conv2_block1", bottleneck=False)]), probe=None, architecture="densenet121")
    for lang, missing, concat in (("en", "✗ missing", "concatenate onto the input"), ("ko", "✗ 없음", "입력에 이어 붙이기")):
        sec = parse(render_html(rep, table1=table1(), lang=lang)).find(".//section[@id='blocks']")
        bad = [" ".join(texts(g).split()) for g in sec.iter() if local(g.tag) == "g" and "bad" in g.get("class", "").split()]
        assert len(bad) == 1 and missing in bad[0], bad
        assert concat in texts(sec)
