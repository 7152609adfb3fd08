"""The rubric's invariants, as properties over submissions generated from the
correct fixtures.

Each correct fixture (GoogLeNet, ResNet-50, DenseNet-121) is traced once through the real sandboxed child; the
tests then take elements out of what it really built (a layer, a branch, a
block, an auxiliary head, the whole stem), exactly as a student who left them
out would have built it, and grade the result through the same diagnosis and
rubric as `grader check`:

(a) a model with none of the reference's structure, and an empty trace, score 0;
(b) removing any reference element from a correct submission strictly lowers
    its score, and removing more never raises it;
(c) a network with k of the n blocks (9, 16, 58) earns at most k/n of the block parts;
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
from grader.solution import conv_runs
from grader.submission import load
from test_cases import graded_against

CASES = Path(__file__).parent / "data" / "cases"
#: (fixture, assignment) of the correct submissions the properties start from: every
#: architecture, in several styles
STYLES = (("correct_functional.py", "default"), ("correct_table_driven.py", "default"),
          ("correct_subclassed.py", "default"), ("correct_notebook.ipynb", "default"),
          ("correct_sequential_stem.py", "default"), ("correct_manual_lrn.py", "default"),
          ("correct_resnet50_functional.py", "resnet50"), ("correct_resnet50_subclassed_blocks.py", "resnet50"),
          ("correct_densenet121_functional.py", "densenet121"), ("correct_densenet121_feature_list.py", "densenet121"),
          # derived from an instructor's solution file: a plain chain, whose blocks are runs of convolutions
          ("correct_vgg16_sequential.py", "solution:vgg16"), ("correct_vgg16_conv_block.py", "solution:vgg16"))
NAMES = [f"{f}[{a}]" if a != "default" else f for f, a in STYLES]
#: most removals of the big networks are alike (16 residual blocks, 58 dense layers): a sample of them
MAX_REMOVALS = 70


@pytest.fixture(scope="module")
def traced(use_sandbox):
    """style -> (submission, trace result, canonical graph, probe graphs, assignment, reference)."""
    out = {}
    for (name, a), key in zip(STYLES, NAMES):
        A, ref = graded_against(a)
        sub = load(CASES / name, A.entry_files)
        res = trace.run_trace(sub, A, use_sandbox=use_sandbox)
        assert res.status == "ok", (name, res.status, res.detail)
        probes = [G.build(p, partial=bool(p.get("error"))) if p.get("nodes") is not None else None
                  for p in check.probes_of(res.trace)]
        out[key] = (sub, res, G.build(res.trace["graph"]), probes, A, ref)
    return out


def grade(item, g, assignment=None):
    sub, res, _, probes, A, ref = item
    return check.report_from_graphs(sub, res, assignment or A, ref, time.time(), g, probes)


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


def elements(g: Graph, arch) -> list[tuple[str, set, bool]]:
    """What a student can leave out of a correct network: (what, node ids, drop)."""
    S = structure(g, arch.merge_ops)
    out = []
    if not S.blocks:  # a plain chain: its runs of convolutions, their layers, the pools and the head
        for k, run in enumerate(conv_runs(S.spine)):
            out.append((f"conv block {k + 1}", {S.spine[i].id for i in run}, False))
        return out + [(f"{it.op} {it.id}", {it.id}, False) for it in S.spine
                      if it.op not in ("input", "reshape", "act")]
    first = next(i for i, it in enumerate(S.spine) if isinstance(it, Block))
    for it in S.spine:
        if isinstance(it, Block):
            out.append((f"block {it.id}", {n.id for n in it.nodes()}, False))
            for k, br in enumerate(it.branches):
                if br:
                    out.append((f"branch {k} of {it.id}", {n.id for n in br}, True))
                out += [(f"{n.op} {n.id} in {it.id}", {n.id}, False) for n in br if n.op in ("conv", "pool")]
            out += [(f"{n.op} {n.id} after the merge of {it.id}", {n.id}, False) for n in it.tail]
        elif it.op not in ("input", "reshape", "act") and not (it.op == "norm" and arch.norms_are_style):
            out.append((f"{it.op} {it.id}", {it.id}, False))
    out.append(("the stem", {it.id for it in S.spine[1:first]}, False))
    for a in S.aux:
        out.append((f"aux head at {a.attach}", {n.id for n in a.nodes}, True))
        out += [(f"{n.op} {n.id} of the aux head at {a.attach}", {n.id}, False) for n in a.nodes
                if n.op not in ("reshape", "act")]
    if len(out) > MAX_REMOVALS:
        rng = random.Random(len(out))
        keep = [c for c in out if not c[0].startswith(("conv", "pool", "norm", "act"))][:20]  # the stem, some blocks
        out = keep + rng.sample([c for c in out if c not in keep], MAX_REMOVALS - len(keep))
    return out


@pytest.mark.parametrize("style", NAMES)
def test_removing_any_element_lowers_the_score(style, traced):
    item = traced[style]
    g = item[2]
    base = grade(item, g)
    assert base.score == base.max_score
    cases = elements(g, item[4].arch)
    # the blocks, their branches and layers, the stem, the heads (VGG-16: 5 blocks, 13 convs, 5 pools, the head)
    assert len(cases) > (40 if structure(g, item[4].arch.merge_ops).blocks else 25)
    for what, ids, drop in cases:
        r = grade(item, without(g, ids, drop=drop))
        assert r.score < base.score, f"{style}: removing {what} did not lower the score ({r.score})"


def test_removing_an_lrn_costs_when_the_assignment_requires_it(tmp_path, traced):
    """Leaving out the LRN is an allowed substitution by default (a warning);
    where the assignment makes it an error, the LRN is an element like any other."""
    item = traced["correct_functional.py"]
    assignment = item[4]
    text = Path(assignment.path).read_text().replace('none_for_lrn = "warning"', 'none_for_lrn = "error"')
    strict = tmp_path / "strict.toml"
    strict.write_text(text)
    A = load_assignment(strict)
    g = item[2]
    norms = [n.id for n in g.nodes.values() if n.op == "norm"]
    assert len(norms) == 2
    for nid in norms:
        lenient = grade(item, without(g, {nid}))
        assert lenient.score == lenient.max_score
        r = grade(item, without(g, {nid}), A)
        assert r.score < r.max_score


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_removing_more_never_raises_the_score(data, traced):
    style = data.draw(st.sampled_from(NAMES))
    item = traced[style]
    g = item[2]
    cases = elements(g, item[4].arch)
    picks = data.draw(st.lists(st.integers(0, len(cases) - 1), min_size=1, max_size=6, unique=True))
    removed: set = set()
    last = grade(item, g).score
    for i in picks:
        what, ids, drop = cases[i]
        if ids & removed or not ids <= set(g.nodes):
            continue
        g = without(g, ids, drop=drop)
        removed |= ids
        r = grade(item, g)
        assert r.score <= last, f"{style}: removing {what} after others raised the score {last} -> {r.score}"
        last = r.score


@pytest.mark.parametrize("style", NAMES)
def test_k_of_n_blocks_earn_at_most_k_nths(style, traced):
    """k of GoogLeNet's nine blocks (ResNet-50's 16, DenseNet-121's 58) earn at
    most k/n of the parts that credit the blocks."""
    item = traced[style]
    g, A = item[2], item[4]
    S = structure(g, A.arch.merge_ops)
    blocks = S.blocks or [[S.spine[i] for i in run] for run in conv_runs(S.spine)]
    n = len(blocks)
    assert n == {"googlenet": 9, "resnet50": 16, "densenet121": 58}.get(A.architecture, 5)  # VGG-16: 5
    block_parts = {p.name for p in A.arch.parts if p.role in ("module", "config")}
    rng = random.Random(style)
    for k in sorted({0, 1, 2, n // 3, n // 2, n - 1, n}):
        keep = set(rng.sample(range(n), k))
        ids = {x.id for i, b in enumerate(blocks) if i not in keep for x in (b.nodes() if isinstance(b, Block) else b)}
        r = grade(item, without(g, ids))
        for p in r.parts:
            if p.name in block_parts:
                assert p.score <= k / n * p.max_score + 1e-6, (style, k, p.name, p.score, p.summary)
                assert f"{k} of {n} " in p.summary, p.summary


def test_an_empty_trace_scores_zero(traced):
    for key in ("correct_functional.py", NAMES[6], NAMES[8], NAMES[10]):
        item = traced[key]
        empty = Graph({"in0": Node("in0", "input", name="data")}, ["in0"], ["in0"])
        assert grade(item, empty).score == 0.0
        sub, res, _, _, A, ref = item
        r = check.report_from_graphs(sub, trace.TraceResult("ok", {"graph": {"nodes": []}}), A, ref,
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
@given(ops=st.lists(st.tuples(st.sampled_from(sorted(LEAVES)), st.integers(1, 100)), min_size=1, max_size=12),
       arch=st.sampled_from([NAMES[0], NAMES[6], NAMES[8], NAMES[10]]))
def test_a_model_with_none_of_the_structure_scores_zero(ops, arch, traced):
    """Chains of dense, dropout, normalization, reshape, activation and global
    pooling layers (an MLP, a classifier on the raw image) have nothing of the
    architecture's stem, blocks or pools, so nothing to earn (their head earns
    in proportion to the body they classify: none)."""
    nodes = {"in0": Node("in0", "input", out_shape=(None, 224, 224, 3), name="data")}
    prev = "in0"
    for k, (op, s) in enumerate(ops):
        n = LEAVES[op](f"n{k}", s)
        nodes[n.id] = replace(n, inputs=(prev,))
        prev = n.id
    r = grade(traced[arch], Graph(nodes, ["in0"], [prev]))
    assert r.score == 0.0, [(p.name, p.score, p.summary) for p in r.parts]
