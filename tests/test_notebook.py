"""grader.check() inside a real Jupyter kernel (nbclient + ipykernel): notebooks
written here, executed cell by cell as a student runs them, asserting on the
HTML shown in the output cell, on the returned Report, and on the kernel's own
state after the check (its variables, model and weights untouched)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import html5lib
import nbformat
import pytest
from nbclient import NotebookClient

CASES = Path(__file__).resolve().parent / "data" / "cases"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ON_CI = os.environ.get("CI") == "true"

# A notebook page around the output: its own styles, and elements of every kind
# the report styles; the script records their computed style in the DOM.
HOST = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>notebook</title>
<style>body { font-family: serif; color: rgb(20, 30, 40); background: rgb(250, 250, 245); margin: 8px; }
h2 { font-size: 21px; } td { text-align: right; padding: 3px; } a { color: rgb(0, 0, 200); }</style></head>
<body><h1 id="n-h1">Notebook</h1><h2 id="n-h2">Section</h2><p id="n-p">text <a id="n-a" href="#x">link</a>
<code id="n-code">x = 1</code></p><table id="n-table"><tr><th id="n-th">k</th><td id="n-td">1</td></tr></table>
<pre id="n-pre">out</pre><details id="n-details"><summary id="n-summary">more</summary>x</details>
<ul id="n-ul"><li id="n-li">item</li></ul><mark id="n-mark">m</mark><svg id="n-svg" width="10" height="10"></svg>
<div class="output_area">OUTPUT</div>
<script>
var out = {};
document.querySelectorAll("[id^=n-]").forEach(function (el) {
  var cs = getComputedStyle(el), keep = {};
  ["font-family", "font-size", "color", "background-color", "margin-top", "margin-left", "padding-top",
   "text-align", "border-bottom-width", "box-sizing", "line-height", "display", "max-width"].forEach(function (k) {
    keep[k] = cs.getPropertyValue(k); });
  out[el.id] = keep;
});
var b = getComputedStyle(document.body);
out.body = {"font-family": b.fontFamily, "color": b.color, "background-color": b.backgroundColor,
            "margin-top": b.marginTop, "max-width": b.maxWidth, "padding-top": b.paddingTop};
var r = document.querySelector(".grader-report");
if (r) { var h = r.querySelector("h2:not(.vh)"); out.report = {"h2-border": getComputedStyle(h).borderBottomWidth,
          "box-sizing": getComputedStyle(r.querySelector("div")).boxSizing}; }
document.body.setAttribute("data-styles", JSON.stringify(out));
</script></body></html>"""

IMPORTS = """\
import json
import numpy as np
import tensorflow as tf
import keras
from keras import layers as L
"""

INCEPTION = """\
def inception_module(x, n1, n3r, n3, n5r, n5, npool, tag):
    conv = lambda f, k, name: L.Conv2D(f, k, padding="same", activation="relu", name=f"{tag}_{name}")
    p1 = conv(n1, 1, "1x1")(x)
    p2 = conv(n3, 3, "3x3")(conv(n3r, 1, "3x3_reduce")(x))
    p3 = conv(n5, 5, "5x5")(conv(n5r, 1, "5x5_reduce")(x))
    p4 = L.MaxPool2D(3, strides=1, padding="same", name=f"{tag}_pool")(x)
    p4 = conv(npool, 1, "pool_proj")(p4)
    return L.concatenate([p1, p2, p3, p4], axis=3, name=f"{tag}_output")
"""

# the stem; STRIDE_LINE is the line (in this cell) of conv2's 3x3 convolution
STEM = """\
def lrn(t, name):
    return L.Lambda(lambda z: tf.nn.local_response_normalization(
        z, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75), name=name)(t)

inp = keras.Input((224, 224, 3), name="data")
h = L.Conv2D(64, 7, strides=2, padding="same", activation="relu", name="conv1")(inp)
h = L.MaxPool2D(3, strides=2, padding="same")(h)
h = lrn(h, "norm1")
h = L.Conv2D(64, 1, activation="relu", name="conv2_reduce")(h)
h = L.Conv2D(192, 3, strides={stride}, padding="same", activation="relu", name="conv2")(h)
h = lrn(h, "norm2")
h = L.MaxPool2D(3, strides=2, padding="same")(h)
"""
STRIDE_LINE = 10

BODY = """\
SPEC = {"3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
        "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
        "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
        "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
        "5b": (384, 192, 384, 48, 128, 128)}

def aux_head(t, tag):
    t = L.AveragePooling2D(5, strides=3, name=f"{tag}_pool")(t)
    t = L.Conv2D(128, 1, activation="relu", name=f"{tag}_conv")(t)
    t = L.Flatten()(t)
    t = L.Dense(1024, activation="relu", name=f"{tag}_fc")(t)
    t = L.Dropout(0.7)(t)
    return L.Dense(1000, activation="softmax", name=f"{tag}_out")(t)

aux = []
for blk, filters in SPEC.items():
    h = inception_module(h, *filters, tag=f"inc{blk}")
    if blk in ("3b", "4e"):
        h = L.MaxPool2D(3, strides=2, padding="same")(h)
    if blk in ("4a", "4d"):
        aux.append(aux_head(h, f"aux{len(aux) + 1}"))
h = L.GlobalAveragePooling2D()(h)
h = L.Dropout(0.4)(h)
out = L.Dense(1000, activation="softmax", name="prob")(h)
model = keras.Model(inp, [out, *aux], name="my_googlenet")
"""

# the student's state before the check: a counter of this cell's runs, the model's
# identity and first weights, a line appended to a file in the notebook's folder
STATE = """\
runs = globals().get("runs", 0) + 1
model_id = id(model)
w_before = model.get_weights()[0].copy()
with open("cells_ran.log", "a") as fh:
    fh.write("state cell\\n")
"""

CHECK = "import grader\nreport = grader.check({args})"

SUMMARY = """\
def summary(r):
    return {"score": r.score, "max": r.max_score, "status": r.status, "type": type(r).__module__ + "." + type(r).__name__,
            "roots": [[f.code, f.location, f.severity, f.source.file if f.source else None,
                       f.source.cell if f.source else None, f.source.cell_line if f.source else None]
                      for f in r.roots()],
            "json_score": json.loads(r.to_json())["score"], "n_findings": len(r.findings)}

print("SUMMARY " + json.dumps({
    "report": summary(report),
    "runs": runs, "same_model": id(model) == model_id,
    "same_weights": bool(np.array_equal(model.get_weights()[0], w_before)),
    "log_lines": open("cells_ran.log").read().count("\\n"),
}))
"""

AGAIN = """\
import time
t = time.monotonic()
report2 = grader.check(display=False{args})
print("AGAIN " + json.dumps({"report": summary(report2), "seconds": time.monotonic() - t,
                             "session": grader.notebook.session_info()}))
"""

BY_MODEL = """\
report3 = grader.check(model, display=False)
report4 = grader.check("stride_fault.py", display=False)
print("TARGETS " + json.dumps({"model": summary(report3), "file": summary(report4)}))
"""


def _notebook(stride: int, *, extra_cells=(), failing_cell=False, sandbox=None):
    nb = nbformat.v4.new_notebook()
    cells = [IMPORTS, INCEPTION, STEM.format(stride=stride)]
    if failing_cell:
        # run once with a typo, then (as a student does) fixed and run again
        cells.append("total = sum(SPEC_TYPO.values())")
    arg = "" if sandbox is None else f"sandbox={sandbox}"
    cells += [BODY, STATE, CHECK.replace("{args}", arg), SUMMARY, AGAIN.replace("{args}", ", " + arg if arg else ""),
              *extra_cells]
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    if failing_cell:
        nb.cells[3].metadata["tags"] = ["raises-exception"]
    return nb


def _execute(nb, folder: Path):
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute()
    return nb


def _stream(cell, prefix: str) -> dict:
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
    line = next(l for l in text.splitlines() if l.startswith(prefix + " "))
    return json.loads(line[len(prefix) + 1:])


def _html_output(cell) -> str:
    htmls = [o["data"]["text/html"] for o in cell.outputs
             if o.output_type in ("display_data", "execute_result") and "text/html" in o.get("data", {})]
    assert len(htmls) == 1, [o.output_type for o in cell.outputs]
    return htmls[0]


def _text(el) -> str:
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip()


def _check_scoped(html: str) -> None:
    """Every style rule of the fragment applies inside the report's root only."""
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    selectors = []
    for prelude in re.findall(r"([^{}]+)\{", style):
        prelude = prelude.strip()
        if prelude.startswith("@"):
            assert prelude.startswith(("@media", "@supports")), prelude
            continue
        selectors += [s.strip() for s in prelude.split(",")]
    assert len(selectors) > 100
    bad = [s for s in selectors if not s.startswith(".grader-report")]
    assert not bad, bad[:10]


def _sandbox_available() -> bool:
    from grader import sandbox

    st = sandbox.sandbox_status()
    if not st.available and ON_CI:
        pytest.fail(f"CI must run the sandbox: {st.reason}")
    return st.available


USE_SANDBOX = _sandbox_available()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("nb")
    shutil.copy(CASES / "fails_stride_conv2.py", d / "stride_fault.py")
    return d


def test_correct_notebook_in_a_real_kernel(folder, tmp_path):
    work = tmp_path / "correct"
    work.mkdir()
    shutil.copy(folder / "stride_fault.py", work / "stride_fault.py")
    nb = _execute(_notebook(1, failing_cell=True, extra_cells=[BY_MODEL]), work)
    check_cell, summary_cell, again_cell, targets_cell = nb.cells[6], nb.cells[7], nb.cells[8], nb.cells[9]
    html = _html_output(check_cell)
    _check_scoped(html)
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    root = doc.find(".//div[@class='grader-report']")
    assert root is not None and root.get("id", "").startswith("grader-")
    assert "100 / 100" in _text(root)
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert all(i.startswith(root.get("id")) for i in ids)
    s = _stream(summary_cell, "SUMMARY")
    rep = s["report"]
    assert rep["type"] == "grader.report.Report"
    assert rep["score"] == rep["max"] == 100 and rep["status"] == "graded" and rep["json_score"] == 100
    assert not [r for r in rep["roots"] if r[2] == "error"], rep["roots"]
    # the kernel's state: the check ran the cells elsewhere
    assert s["runs"] == 1 and s["same_model"] and s["same_weights"]
    assert s["log_lines"] == 1
    again = _stream(again_cell, "AGAIN")
    assert again["report"] == rep
    assert again["session"]["warm_worker"] is True and again["session"]["checks"] == 2
    assert again["session"]["sandboxed"] is USE_SANDBOX  # where bubblewrap works: in the sandbox
    t = _stream(targets_cell, "TARGETS")
    assert t["model"]["score"] == 100
    file_roots = t["file"]["roots"]
    assert [r[:2] for r in file_roots if r[2] == "error"] == [["strides", "conv2/3x3"]]
    assert file_roots[0][3] == "stride_fault.py" and file_roots[0][4] is None


def test_stride_fault_in_a_cell(folder, tmp_path):
    """Unsandboxed, as in Colab (no bubblewrap there): the worker is a plain process."""
    work = tmp_path / "fault"
    work.mkdir()
    nb = _execute(_notebook(2, sandbox=False), work)
    check_cell, summary_cell, again_cell = nb.cells[5], nb.cells[6], nb.cells[7]
    s = _stream(summary_cell, "SUMMARY")
    rep = s["report"]
    errors = [r for r in rep["roots"] if r[2] == "error"]
    assert [r[:2] for r in errors] == [["strides", "conv2/3x3"]], rep["roots"]
    # located as cell and line: the stem ran as the third cell (execution count 3)
    assert errors[0][4:] == [3, STRIDE_LINE], errors
    assert rep["score"] < rep["max"] and rep["status"] == "graded"
    assert rep["n_findings"] > len(rep["roots"])  # the consequences are folded under the root
    assert s["runs"] == 1 and s["same_model"] and s["same_weights"] and s["log_lines"] == 1
    html = _html_output(check_cell)
    _check_scoped(html)
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    root = doc.find(".//div[@class='grader-report']")
    body = _text(root)
    assert "conv2/3x3" in body and "stride" in body
    assert f"cell 3, line {STRIDE_LINE}" in body
    code = " ".join(_text(m) for m in root.iter("mark"))
    assert "strides=2" in code  # the student's own line, highlighted
    again = _stream(again_cell, "AGAIN")
    assert again["report"] == rep and again["session"]["checks"] == 2
    assert again["session"]["warm_worker"] is True and again["session"]["sandboxed"] is False
    if CHROMIUM or ON_CI:
        _host_page_unchanged(html, tmp_path)


def _computed(page: Path) -> dict:
    assert CHROMIUM, "chromium is not installed (apt-get install chromium)"
    with tempfile.TemporaryDirectory(prefix="grader-chromium-") as profile:
        proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                              capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    body = html5lib.parse(proc.stdout, namespaceHTMLElements=False).find(".//body")
    return json.loads(body.get("data-styles"))


def _host_page_unchanged(fragment: str, tmp_path: Path) -> None:
    """In real Chromium: the notebook around the report looks the same with the
    report's output in it as without (no global CSS), and the report is styled."""
    bare, with_report = tmp_path / "host.html", tmp_path / "host_report.html"
    bare.write_text(HOST, encoding="utf-8")
    with_report.write_text(HOST.replace("OUTPUT", fragment), encoding="utf-8")
    before, after = _computed(bare), _computed(with_report)
    report = after.pop("report")
    assert "report" not in before and before == after, {k: (before[k], after[k]) for k in before if before[k] != after.get(k)}
    assert report == {"h2-border": "2px", "box-sizing": "border-box"}  # the report's own rules apply inside it
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTIFACTS / "notebook_fragment.png"
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-chromium-") as profile:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1000,1600",
                        with_report.as_uri()], capture_output=True, timeout=90, check=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
