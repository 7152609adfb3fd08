"""The rubric's invariants, as properties over submissions generated from the
correct fixtures.

Each correct fixture is traced once through the real sandboxed child; the
tests then take elements out of what it really built (a layer, a branch, a
block, an auxiliary head, the whole stem), exactly as a student who left them
out would have built it, and grade the result through the same diagnosis and
rubric as `grader check`:

(a) a model with none of the reference's structure, and an empty trace, score 0;
(b) removing any reference element from a correct submission strictly lowers
    its score, and removing more never raises it;
(c) a network with k of the nine blocks earns at most k/9 of the block parts;
(d), (e) every correct fixture scores 100 and every fixture keeps its expected
    root findings: tests/test_cases.py, over all of tests/data/cases.

A removed layer's consumers are wired to its input and keep the shapes they
had (the rubric counts elements; shapes only make consequences, which never
cost).
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import check, trace
from grader import graph as G
from grader.align import Block, structure
from grader.assignment import load as load_assignment
from grader.graph import Graph, Node
from grader.submission import load

CASES = Path(__file__).parent / "data" / "cases"
STYLES = ("correct_functional.py", "correct_table_driven.py", "correct_subclassed.py", "correct_notebook.ipynb",
          "correct_sequential_stem.py", "correct_manual_lrn.py")
BLOCK_PARTS = ("inception", "blocks")


@pytest.fixture(scope="module")
def traced(assignment, use_sandbox):
    """style -> (submission, trace result, canonical graph, probe graph)."""
    out = {}
    for name in STYLES:
        sub = load(CASES / name, assignment.entry_files)
        res = trace.run_trace(sub, assignment, use_sandbox=use_sandbox)
        assert res.status == "ok", (name, res.status, res.detail)
        t = res.trace
        probe = G.build(t["probe"], partial=bool(t["probe"].get("error"))) if t.get("probe") and t["probe"].get("nodes") else None
        out[name] = (sub, res, G.build(t["graph"]), probe)
    return out


def grade(item, g, assignment, ref):
    sub, res, _, probe = item
    return check.report_from_graphs(sub, res, assignment, ref, time.time(), g, probe)


def without(g: Graph, ids: set, *, drop: bool = False) -> Graph:
    """``g`` with the nodes ``ids`` taken out: their consumers are wired to what
    fed them, or (``drop``: a whole branch or head) lose that input."""

    def through(i):
        while i in ids:
            n = g.nodes[i]
            i = n.inputs[0] if n.inputs and not drop else None
        return i

    nodes = {}
    for nid, n in g.nodes.items():
        if nid in ids:
            continue
        ins = tuple(dict.fromkeys(x for x in (through(i) for i in n.inputs) if x is not None))
        nodes[nid] = replace(n, inputs=ins)
    outputs = [o for o in (through(o) for o in g.outputs) if o is not None]
    return Graph(nodes, [i for i in g.inputs if i in nodes], outputs, g.partial)


def elements(g: Graph) -> list[tuple[str, set, bool]]:
    """What a student can leave out of a correct network: (what, node ids, drop)."""
    S = structure(g)
    out = []
    first = next(i for i, it in enumerate(S.spine) if isinstance(it, Block))
    for it in S.spine:
        if isinstance(it, Block):
            out.append((f"block {it.id}", {n.id for n in it.nodes()}, False))
            for k, br in enumerate(it.branches):
                if br:
                    out.append((f"branch {k} of {it.id}", {n.id for n in br}, True))
                out += [(f"{n.op} {n.id} in {it.id}", {n.id}, False) for n in br if n.op in ("conv", "pool")]
        elif it.op not in ("input", "reshape", "act", "norm"):
            out.append((f"{it.op} {it.id}", {it.id}, False))
    out.append(("the stem", {it.id for it in S.spine[1:first]}, False))
    for a in S.aux:
        out.append((f"aux head at {a.attach}", {n.id for n in a.nodes}, True))
        out += [(f"{n.op} {n.id} of the aux head at {a.attach}", {n.id}, False) for n in a.nodes
                if n.op not in ("reshape", "act")]
    return out


@pytest.mark.parametrize("style", STYLES)
def test_removing_any_element_lowers_the_score(style, traced, assignment, ref_graph):
    item = traced[style]
    g = item[2]
    base = grade(item, g, assignment, ref_graph)
    assert base.score == base.max_score
    cases = elements(g)
    assert len(cases) > 60  # 9 blocks, their branches and layers, the stem, the heads
    for what, ids, drop in cases:
        r = grade(item, without(g, ids, drop=drop), assignment, ref_graph)
        assert r.score < base.score, f"{style}: removing {what} did not lower the score ({r.score})"


def test_removing_an_lrn_costs_when_the_assignment_requires_it(tmp_path, traced, assignment, ref_graph):
    """Leaving out the LRN is an allowed substitution by default (a warning);
    where the assignment makes it an error, the LRN is an element like any other."""
    text = Path(assignment.path).read_text().replace('none_for_lrn = "warning"', 'none_for_lrn = "error"')
    strict = tmp_path / "strict.toml"
    strict.write_text(text)
    A = load_assignment(strict)
    item = traced["correct_functional.py"]
    g = item[2]
    norms = [n.id for n in g.nodes.values() if n.op == "norm"]
    assert len(norms) == 2
    for nid in norms:
        lenient = grade(item, without(g, {nid}), assignment, ref_graph)
        assert lenient.score == lenient.max_score
        r = grade(item, without(g, {nid}), A, ref_graph)
        assert r.score < r.max_score


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_removing_more_never_raises_the_score(data, traced, assignment, ref_graph):
    style = data.draw(st.sampled_from(STYLES))
    item = traced[style]
    g = item[2]
    cases = elements(g)
    picks = data.draw(st.lists(st.integers(0, len(cases) - 1), min_size=1, max_size=6, unique=True))
    removed: set = set()
    last = grade(item, g, assignment, ref_graph).score
    for i in picks:
        what, ids, drop = cases[i]
        if ids & removed or not ids <= set(g.nodes):
            continue
        g = without(g, ids, drop=drop)
        removed |= ids
        r = grade(item, g, assignment, ref_graph)
        assert r.score <= last, f"{style}: removing {what} after others raised the score {last} -> {r.score}"
        last = r.score


@pytest.mark.parametrize("style", STYLES)
def test_k_of_nine_blocks_earn_at_most_k_ninths(style, traced, assignment, ref_graph):
    item = traced[style]
    g = item[2]
    blocks = structure(g).blocks
    assert len(blocks) == 9
    rng = random.Random(style)
    for k in range(10):
        keep = set(rng.sample(range(9), k))
        ids = {n.id for i, b in enumerate(blocks) if i not in keep for n in b.nodes()}
        r = grade(item, without(g, ids), assignment, ref_graph)
        for p in r.parts:
            if p.name in BLOCK_PARTS:
                assert p.score <= k / 9 * p.max_score + 1e-6, (style, k, p.name, p.score, p.summary)
                assert f"{k} of 9 blocks present" in p.summary


def test_an_empty_trace_scores_zero(traced, assignment, ref_graph):
    item = traced["correct_functional.py"]
    empty = Graph({"in0": Node("in0", "input", name="data")}, ["in0"], ["in0"])
    r = grade(item, empty, assignment, ref_graph)
    assert r.score == 0.0
    sub, res, _, _ = item
    r = check.report_from_graphs(sub, trace.TraceResult("ok", {"graph": {"nodes": []}}), assignment, ref_graph,
                                 time.time(), Graph({}, [], []), None)
    assert r.score == 0.0


LEAVES = {
    "dense": lambda i, s: Node(i, "dense", attrs={"units": 10 * s, "activation": "relu", "use_bias": True},
                               out_shape=(None, 10 * s), params=0, name=i),
    "dropout": lambda i, s: Node(i, "dropout", attrs={"rate": 0.1 * (s % 9)}, name=i),
    "norm": lambda i, s: Node(i, "norm", attrs={"norm": "batchnorm"}, name=i),
    "reshape": lambda i, s: Node(i, "reshape", name=i),
    "gap": lambda i, s: Node(i, "gap", attrs={"pool_type": "avg"}, out_shape=(None, 3), name=i),
    "act": lambda i, s: Node(i, "act", attrs={"fn": "tanh"}, name=i),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(st.sampled_from(sorted(LEAVES)), st.integers(1, 100)), min_size=1, max_size=12))
def test_a_model_with_none_of_the_structure_scores_zero(ops, traced, assignment, ref_graph):
    """Chains of dense, dropout, normalization, reshape, activation and global
    pooling layers (an MLP, a classifier on the raw image) have nothing of
    GoogLeNet's stem, blocks or pools, so nothing to earn (their head earns
    in proportion to the body they classify: none)."""
    nodes = {"in0": Node("in0", "input", out_shape=(None, 224, 224, 3), name="data")}
    prev = "in0"
    for k, (op, s) in enumerate(ops):
        n = LEAVES[op](f"n{k}", s)
        nodes[n.id] = replace(n, inputs=(prev,))
        prev = n.id
    r = grade(traced["correct_functional.py"], Graph(nodes, ["in0"], [prev]), assignment, ref_graph)
    assert r.score == 0.0, [(p.name, p.score, p.summary) for p in r.parts]
