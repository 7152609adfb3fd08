"""Loading and tracing: each style of submission gives a faithful graph with the
student's source lines, in a separate (sandboxed) process."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import pytest

from grader import graph, trace
from grader.submission import LoadError, load, notebook_to_script

CASES = Path(__file__).parent / "data" / "cases"


def traced(path, assignment, use_sandbox, **kw):
    sub = load(path, assignment.entry_files)
    res = trace.run_trace(sub, assignment, use_sandbox=use_sandbox, **kw)
    return sub, res


def canonical(res):
    g = res.trace["graph"]
    return graph.build(g, partial=bool(g.get("partial")))


def ops(g, op):
    return [n for n in g.nodes.values() if n.op == op]


def test_functional_graph_has_every_layer_with_lines(assignment, use_sandbox):
    sub, res = traced(CASES / "correct_functional.py", assignment, use_sandbox)
    assert res.status == "ok" and res.sandboxed == use_sandbox
    g = canonical(res)
    assert g.total_params() == 13_378_280
    assert len(ops(g, "conv")) == 57 + 2  # 57 in the body, one 1x1 conv per aux head
    assert len(ops(g, "concat")) == 9
    assert len(g.outputs) == 3
    text = (CASES / "correct_functional.py").read_text().splitlines()
    for n in ops(g, "conv"):
        assert n.source and n.source[0] == "correct_functional.py"
        assert "Conv2D" in text[n.source[1] - 1] or "conv" in text[n.source[1] - 1].lower()


def test_subclassed_model_with_nested_layers_is_called_and_traced(assignment, use_sandbox):
    sub, res = traced(CASES / "correct_subclassed.py", assignment, use_sandbox)
    assert res.status == "ok"
    nodes = res.trace["graph"]["nodes"]
    parents = {n["id"]: n for n in nodes}
    inner = [n for n in nodes if n["class"] == "Conv2D" and n["parent"] and parents[n["parent"]]["class"] == "Inception"]
    assert len(inner) >= 6 * 9  # the convs of nine Inception layers, nested under them
    g = canonical(res)
    assert g.total_params() == 13_378_280
    # the LRN written with tf.nn inside a custom layer is recognised with its parameters
    lrn = [n for n in ops(g, "norm") if n.a("norm") == "lrn"]
    assert len(lrn) == 2 and lrn[0].a("depth_radius") == 2 and lrn[0].a("beta") == pytest.approx(0.75)


def test_sequential_stem_and_keras_ops(assignment, use_sandbox):
    for name in ("correct_sequential_stem.py", "correct_keras_ops_layer.py"):
        sub, res = traced(CASES / name, assignment, use_sandbox)
        g = canonical(res)
        assert g.total_params() == 13_378_280, name
        # ReLU applied with keras.ops is folded into its convolution
        assert all(n.a("activation") == "relu" for n in ops(g, "conv")), name


def test_a_layer_keras_calls_for_a_sequential_keeps_the_line_that_built_it(assignment, use_sandbox):
    sub, res = traced(CASES / "correct_sequential_stem.py", assignment, use_sandbox)
    g = canonical(res)
    text = sub.files[sub.entry].decode().splitlines()
    stem = [n for n in g.nodes.values() if n.name in ("conv1", "pool1", "conv2_1x1", "conv2_3x3", "pool2")]
    assert len(stem) == 5
    for n in stem:
        # called by the Sequential (its keras.Input builds it at once) at the line that opens the list;
        # built at its own line in the list
        assert n.via_keras, n.name
        assert "keras.Sequential([" in text[n.source[1] - 1], n.name
        assert f'name="{n.name}"' in text[n.ctor[1] - 1], n.name
    # a layer the student's own line calls is called there
    direct = [n for n in ops(g, "pool") if n.source and "layers.MaxPool2D(3, strides=2" in text[n.source[1] - 1]
              and n.source[1] > 57]
    assert direct and not any(n.via_keras for n in direct)


def test_notebook_magics_neutralized_training_stubbed_and_cells_mapped(assignment, use_sandbox):
    sub, res = traced(CASES / "correct_notebook.ipynb", assignment, use_sandbox)
    assert res.status == "ok"
    script = sub.files[sub.entry].decode()
    assert "!pip" not in script and "%matplotlib" not in script
    notes = res.trace["notes"]
    calls = {n["call"] for n in notes}
    assert "keras.datasets.cifar10.load_data" in calls and "Model.fit" in calls
    fit = next(n for n in notes if n["call"] == "Model.fit")
    src = sub.source(fit["source"]["file"], fit["source"]["line"])
    assert src.file == "correct_notebook.ipynb" and src.cell is not None
    assert "fit" in sub.cells[src.cell - 1].splitlines()[src.cell_line - 1]
    assert res.wall_seconds < 30  # 30 epochs of CIFAR-10 were never run


def test_notebook_loader_keeps_cell_lines():
    nb = {"cells": [
        {"cell_type": "markdown", "source": "# hi"},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "x = 1\n"]},
        {"cell_type": "code", "source": "%%time\ny = 2\nif y:\n    !ls\nfiles = !ls"},
        {"cell_type": "code", "source": "%%bash\nrm -rf /"},
    ], "nbformat": 4}
    script, line_map, cells, _ = notebook_to_script(json.dumps(nb).encode(), "nb.ipynb")
    lines = script.splitlines()
    assert lines[line_map.index([1, 2])] == "x = 1"
    assert "rm -rf" not in script and "%%time" not in script
    compile(script, "nb.py", "exec")


def test_folder_with_dunder_import_modules(variant, use_sandbox):
    sub, res = traced(CASES / "correct_variant_folder", variant, use_sandbox)
    assert sub.entry == "1-inception_network.py" and "0-inception_block.py" in sub.files
    assert res.status == "ok"
    g = canonical(res)
    assert g.total_params() == 6_998_552
    files = {n.source[0] for n in ops(g, "conv") if n.source}
    assert "0-inception_block.py" in files  # lines inside the imported module are traced too
    assert res.trace["probe"]["signature"] == "tuple"


def test_zip_is_extracted_safely(tmp_path, assignment, use_sandbox):
    z = tmp_path / "student.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(CASES / "fails_stride_conv2.py", "student/model.py")
    sub, res = traced(z, assignment, use_sandbox)
    assert sub.id == "student" and sub.entry == "model.py" and res.status == "ok"
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../../etc/passwd", "x")
    with pytest.raises(LoadError, match="unsafe path"):
        load(bad)


def test_syntax_error_is_located(assignment, use_sandbox):
    sub, res = traced(CASES / "fails_syntax_error.py", assignment, use_sandbox)
    err = res.trace["error"]
    assert res.status == "failed"
    assert err["type"] == "SyntaxError" and err["source"] == {"file": "fails_syntax_error.py", "line": 27}


MISSING = """\
import numpy
import totally_missing_pkg_xyz as tm
from totally_missing_pkg_xyz.sub import helper
import matplotlib.pyplot as plt
with tm.session() as s:
    a, b = tm.load(3)
for x in tm.items():
    raise SystemExit("iterating a stand-in must give nothing")
print("values", int(a), len(list(b)), bool(helper), type(tm.CONST + 1).__name__)
import pandas as pd
try:
    pd.DataFrame({"a": [1.0, 2.0]}).plot()
    print("pandas got the stand-in")
except ImportError:
    print("pandas saw that matplotlib is missing")
try:
    import numpy.not_a_module_xyz
except ImportError as e:
    print("real", type(e).__name__)
"""


def test_missing_packages_get_stand_ins_in_student_code_only(tmp_path, assignment, use_sandbox):
    p = tmp_path / "needs_pkg.py"
    p.write_text(MISSING)
    sub, res = traced(p, assignment, use_sandbox)
    assert res.status == "no_model" and res.trace["error"] is None, res.stderr[-2000:]
    stubbed = {(n["module"], n["source"]["line"]) for n in res.trace["notes"] if n["kind"] == "import_stubbed"}
    assert stubbed == {("totally_missing_pkg_xyz", 2), ("totally_missing_pkg_xyz.sub", 3),
                       ("matplotlib", 4), ("matplotlib.pyplot", 4)}
    assert res.trace["statement_errors"] == []
    assert "values 0 0 False StandIn" in res.stdout
    # pandas' own `import matplotlib` is not answered with the student's stand-in,
    # and a module missing from an installed package (numpy) is a real error
    assert "pandas saw that matplotlib is missing" in res.stdout
    assert "real ModuleNotFoundError" in res.stdout


def test_never_stub_makes_a_missing_import_fail_at_its_line(tmp_path, assignment, use_sandbox):
    p = tmp_path / "needs_pkg.py"
    p.write_text("import numpy\nimport totally_missing_pkg_xyz\nmodel = None\n")
    A = dataclasses.replace(assignment, never_stub=("totally_missing_pkg_xyz",))
    sub, res = traced(p, A, use_sandbox)
    assert res.status == "no_model"
    (err,) = res.trace["statement_errors"]
    assert err["type"] == "ModuleNotFoundError" and err["source"] == {"file": "needs_pkg.py", "line": 2}
    assert not [n for n in res.trace["notes"] if n["kind"] == "import_stubbed"]


def test_concatenate_failure_keeps_partial_graph(assignment, use_sandbox):
    sub, res = traced(CASES / "fails_valid_padding_3x3_branch.py", assignment, use_sandbox)
    t = res.trace
    assert t["status"] == "failed" and "oncatenate" in t["error"]["message"]
    g = canonical(res)
    assert g.partial and len(ops(g, "conv")) >= 4  # the stem and the first block's branches
    assert any(n.a("padding") == "valid" and n.a("kernel") == (3, 3) for n in ops(g, "conv"))


def test_no_model_lists_what_was_found(assignment, use_sandbox):
    sub, res = traced(CASES / "fails_no_model.py", assignment, use_sandbox)
    assert res.status == "no_model"
    assert res.trace["candidates"]  # the functions and classes it saw instead


def test_infinite_loop_times_out(assignment, use_sandbox):
    sub, res = traced(CASES / "fails_timeout.py", assignment, use_sandbox, timeout_s=8)
    assert res.status == "timeout" and res.wall_seconds < 20


def test_forged_trace_is_rejected():
    bad = {"schema": "grader.trace/1", "status": "ok", "graph": {"nodes": [{"id": "n0", "class": "Conv2D", "inputs": "x"}]}}
    with pytest.raises(trace.TraceInvalid):
        trace.validate(bad)
    # whether Keras called a layer is a bool, nothing else
    node = {"id": "n0", "kind": "layer", "class": "Conv2D", "name": "c", "config": {}, "inputs": [], "outputs": [],
            "in_shapes": [], "out_shapes": [], "params": 0, "source": None, "ctor": None, "stack": []}
    for via, ok in ((True, True), (False, True), ("yes", False), (1, False)):
        doc = {"schema": "grader.trace/1", "status": "ok",
               "graph": {"nodes": [dict(node, via_keras=via)], "aliases": [], "inputs": [], "outputs": []}}
        if ok:
            trace.validate(doc)
        else:
            with pytest.raises(trace.TraceInvalid):
                trace.validate(doc)
    # a conv claiming a shape its config cannot produce
    g = {"nodes": [{"id": "n0", "kind": "layer", "class": "Conv2D", "name": "c",
                    "config": {"filters": 64, "kernel_size": [7, 7], "strides": [2, 2], "padding": "same"},
                    "inputs": ["t0"], "outputs": ["t1"], "in_shapes": [[None, 224, 224, 3]],
                    "out_shapes": [[None, 224, 224, 64]], "params": 1}],
         "aliases": [], "inputs": ["t0"], "outputs": ["t1"]}
    with pytest.raises(graph.TraceError):
        graph.build(g)


def test_a_probes_call_arguments_are_numbers_tuples_flags_or_short_names():
    """What a probe was called with comes back in the trace: a solution's probe passes a
    stride, a flag or a name as the solution does; nothing else is believed."""
    base = {"schema": "grader.trace/1", "status": "ok", "graph": None}
    for args, ok in (([11, 13, [17, 19]], True), ([11, 2, True, None], True), ([11, "block_a"], True),
                     ([{"x": 1}], False), (["x" * 500], False), ([[True]], False), (list(range(17)), False)):
        doc = dict(base, probes=[{"arguments": {}, "returned": [], "call_args": args}])
        if ok:
            trace.validate(doc)
        else:
            with pytest.raises(trace.TraceInvalid, match="call_args"):
                trace.validate(doc)


# -- only the tracer's trace counts (issue 13) ------------------------------------------------


def _sealed(body: bytes, key: bytes) -> bytes:
    import hmac

    return trace.SEAL_PREFIX + hmac.new(key, body, "sha256").hexdigest().encode() + b"\n" + body


def test_only_this_runs_seal_is_believed():
    key, other = bytes(range(32)), bytes(range(1, 33))
    body = json.dumps({"schema": "grader.trace/1", "status": "ok", "graph": None}).encode()
    assert trace.unseal(_sealed(body, key), key) == body
    forged = [
        body,  # no seal at all
        _sealed(body, other),  # sealed in another run
        _sealed(body, key).replace(b'"ok"', b'"no"'),  # changed after sealing
        b"junk" + _sealed(body, key),  # something written before the tracer's own
        _sealed(body, key) + b" ",  # ... or after it
    ]
    for data in forged:
        with pytest.raises(trace.TraceInvalid):
            trace.unseal(data, key)


def _node(i, src=None, ctor=None, stack=None, **kw):
    n = {"id": f"n{i}", "kind": "layer", "class": "Conv2D", "name": f"c{i}", "config": {}, "inputs": [], "outputs": [],
         "in_shapes": [], "out_shapes": [], "params": 0, "source": src, "ctor": ctor, "stack": stack or []}
    n.update(kw)
    return n


def test_every_traced_place_is_a_line_of_the_submission_that_can_make_the_layer():
    files = {"m.py": b"import keras\n# a comment\n\nx = keras.layers.Conv2D(8, 3)(inp)\n"
                     b"def f(a):\n    return a\ny = (a +\n     b)\n", "notes.txt": b"x = f(1)\n"}
    at = lambda line, file="m.py": {"file": file, "line": line}  # noqa: E731
    honest = {"graph": {"nodes": [_node(0, at(4), at(4), [at(4), at(6)]), _node(1, at(8), None, [at(7)])],
                        "input_sources": [at(4)]}}
    trace.check_places(honest, files)  # a call, an operator over two lines, an outer frame in a function
    for bad in ([_node(0, at(2))],  # a comment
                [_node(0, at(3))],  # a blank line
                [_node(0, at(6))],  # code, but nothing on it calls or builds a layer
                [_node(0, at(4), at(5))],  # a def line as the construction line
                [_node(0, at(4), None, [at(4), at(3)])],  # an outer frame on a blank line
                [_node(0, at(99))],  # past the end
                [_node(0, at(4, "other.py"))],  # a file the submission does not have
                [_node(0, at(1, "notes.txt"))]):  # not Python
        with pytest.raises(trace.TraceInvalid):
            trace.check_places({"graph": {"nodes": bad}}, files)
    with pytest.raises(trace.TraceInvalid):
        trace.check_places({"graph": {"nodes": [], "input_sources": [at(2)]}}, files)
    with pytest.raises(trace.TraceInvalid):  # the probe is checked as the model is
        trace.check_places({"graph": {"nodes": []}, "probe": {"nodes": [_node(0, at(2))]}}, files)


def _conv(i, cin, filters, t_in, t_out):
    return _node(i, kind="layer", config={"filters": filters, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same"},
                 inputs=[t_in], outputs=[t_out], in_shapes=[[None, 8, 8, cin]], out_shapes=[[None, 8, 8, filters]])


def test_a_model_that_does_not_hang_together_is_refused():
    ok = {"nodes": [_conv(0, 3, 8, "t0", "t1"), _conv(1, 8, 16, "t1", "t2")], "aliases": [],
          "inputs": ["t0"], "outputs": ["t2"]}
    trace.check_wiring({"graph": ok})
    # the second conv claims a wider input than the first gives (more parameters)
    wide = json.loads(json.dumps(ok))
    wide["nodes"][1]["in_shapes"] = [[None, 8, 8, 512]]
    # an output computed from nothing the model's input reaches
    loose = json.loads(json.dumps(ok))
    loose["nodes"][1]["inputs"] = ["t9"]
    for g in (wide, loose):
        with pytest.raises(trace.TraceInvalid):
            trace.check_wiring({"graph": g})


# -- bounded cost (issue 21, part 5): the structure is checked in linear time before any graph work ------


def _chain(n: int, **kw) -> dict:
    """A trace of ``n`` identity layers one after another (what Activation('linear') in a loop records)."""
    nodes = [_node(i, kind="layer", **{"class": "Activation"}, config={"activation": "linear"}, inputs=[f"t{i}"],
                   outputs=[f"t{i + 1}"], in_shapes=[[None, 8, 8, 3]], out_shapes=[[None, 8, 8, 3]]) for i in range(n)]
    g = {"nodes": nodes, "aliases": [], "inputs": ["t0"], "outputs": [f"t{n}"], **kw}
    return {"schema": trace.TRACE_SCHEMA, "status": "ok", "graph": g}


def test_parents_that_loop_or_dangle_are_refused_before_any_graph_work():
    ring = _chain(10_000)
    for i, n in enumerate(ring["graph"]["nodes"]):  # what grew the grader to 3 GB: a ring of containers
        n["parent"] = f"n{(i + 1) % 10}" if i < 10 else "n0"
        n["container"] = i < 10
    with pytest.raises(trace.TraceInvalid, match="form a loop"):
        trace.validate(ring)
    loop = _chain(10_000)
    for i, n in enumerate(loop["graph"]["nodes"]):
        n["parent"] = f"n{(i + 1) % 10_000}"  # every node inside the next one, the last inside the first
    with pytest.raises(trace.TraceInvalid, match="nested more than|loop"):
        trace.validate(loop)
    short = _chain(3)
    short["graph"]["nodes"][0]["parent"] = "n1"
    short["graph"]["nodes"][1]["parent"] = "n0"
    with pytest.raises(trace.TraceInvalid, match="form a loop"):
        trace.validate(short)
    selfish = _chain(2)
    selfish["graph"]["nodes"][1]["parent"] = "n1"
    with pytest.raises(trace.TraceInvalid, match="form a loop"):
        trace.validate(selfish)
    dangling = _chain(3)
    dangling["graph"]["nodes"][2]["parent"] = "n77"
    with pytest.raises(trace.TraceInvalid, match="dangling parent"):
        trace.validate(dangling)
    deep = _chain(trace.MAX_NESTING + 5)
    for i, n in enumerate(deep["graph"]["nodes"][1:], 1):
        n["parent"] = f"n{i - 1}"  # a tower of containers, each inside the one before
    with pytest.raises(trace.TraceInvalid, match="nested more than"):
        trace.validate(deep)
    wide = _chain(3)
    wide["graph"]["nodes"][0]["inputs"] = [f"t{i}" for i in range(trace.MAX_TENSOR_REFS)]
    with pytest.raises(trace.TraceInvalid, match="tensor references"):
        trace.validate(wide)
    long_id = _chain(2)
    long_id["graph"]["nodes"][1]["outputs"] = ["t" * 10_000]
    with pytest.raises(trace.TraceInvalid, match="tensor name longer"):
        trace.validate(long_id)


def test_nesting_within_the_cap_is_accepted_and_builds():
    ok = _chain(50)
    for i, n in enumerate(ok["graph"]["nodes"][1:10], 1):
        n["parent"] = "n0"  # nine layers inside a container
    ok["graph"]["nodes"][0]["container"] = True
    trace.validate(ok)
    long = _chain(10_000)  # a long chain is fine for the structure check (the layer cap is the report's)
    assert trace.validate(long) is long
    assert trace.layer_count(long["graph"]) == 10_000 > trace.MAX_LAYERS


def test_the_students_strings_are_cut_with_an_ellipsis():
    doc = _chain(2)
    n = doc["graph"]["nodes"][0]
    n["name"] = "x" * 3_000_000  # a layer name of 3 MB
    n["class"] = "C" * 1_000_000
    n["config"] = {"activation": "y" * 2_000_000, "nested": [[["z" * 5000]]], "many": list(range(10_000))}
    doc["error"] = {"type": "ValueError", "message": "m" * 5_000_000, "source": None}
    trace.validate(doc)
    assert len(n["name"]) == trace.MAX_NAME_CHARS and n["name"].endswith(trace.ELLIPSIS)
    assert len(n["class"]) == trace.MAX_NAME_CHARS
    assert len(n["config"]["activation"]) == trace.MAX_CONFIG_CHARS
    assert n["config"]["nested"] == [[["z" * (trace.MAX_CONFIG_CHARS - 1) + trace.ELLIPSIS]]]
    assert len(n["config"]["many"]) == 257 and n["config"]["many"][-1] == trace.ELLIPSIS
    assert len(doc["error"]["message"]) == trace.MAX_MESSAGE_CHARS
    assert len(json.dumps(doc)) < 50_000


def test_a_model_above_the_layer_cap_is_its_own_finding_without_graph_work(assignment):
    from grader import check

    ref = check.reference_graph(assignment)
    sub = load(Path(__file__).parent / "data" / "cases" / "correct_functional.py", assignment.entry_files)
    doc = trace.validate(_chain(trace.MAX_LAYERS + 1))
    res = trace.TraceResult("ok", doc)
    r = check.build_report(sub, res, assignment, ref, 0.0)
    roots = [(f.code, f.location) for f in r.findings if f.caused_by is None]
    assert roots[0] == ("too_many_layers", "data"), roots
    assert r.status == "failed" and r.score == 0
    assert f"{trace.MAX_LAYERS + 1} layers" in r.findings[0].message
    assert len(r.to_json()) < 200_000


def test_a_report_lists_a_bounded_number_of_findings(assignment):
    """2,500 identity layers (under the layer cap) give thousands of layer_extra
    findings; the report lists the roots first and at most MAX_REPORTED_FINDINGS."""
    from grader import check

    ref = check.reference_graph(assignment)
    sub = load(Path(__file__).parent / "data" / "cases" / "correct_functional.py", assignment.entry_files)
    r = check.build_report(sub, trace.TraceResult("ok", trace.validate(_chain(2500))), assignment, ref, 0.0)
    assert len(r.findings) == check.MAX_REPORTED_FINDINGS
    ids = {f.id for f in r.findings}
    assert all(f.caused_by is None or f.caused_by in ids for f in r.findings)
    assert r.score < r.max_score and len(r.to_json()) < 1_000_000
