"""What the grader knows of GoogLeNet (Szegedy et al. 2014, Table 1 and Figure 3).

Locations are the BVLC Caffe layer names (``conv1/7x7_s2``,
``inception_4d/3x3_reduce``, ``loss1/fc``); the reference model stores them
with ``__`` for ``/`` (Keras forbids ``/``). The inception block's seven
layers have the roles of their Caffe suffixes; Table 1's six filter columns
are read off a student's block by structure (which branch has a pool, which
has one or two convolutions, and the kernel of the second).
"""

from __future__ import annotations

from pathlib import Path

from grader.arch import Architecture, BlockDrawing, Defaults, PartSpec, PathDrawing, ProbeSpec

HERE = Path(__file__).resolve().parent

#: Table 1's six filter columns, in the inception function's argument order.
COLUMNS = ("1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj")
COLUMN_TITLES = {"1x1": "#1x1", "3x3_reduce": "#3x3 reduce", "3x3": "#3x3", "5x5_reduce": "#5x5 reduce",
                 "5x5": "#5x5", "pool_proj": "pool proj"}
#: Six distinct filter counts for the probe, so that each names its argument.
PROBE_FILTERS = (11, 13, 17, 19, 23, 29)
PROBE_SHAPE = (14, 14, 31)


class GoogLeNet(Architecture):
    name = "googlenet"
    title = "GoogLeNet (Inception v1)"
    parts = (
        PartSpec("stem", "Stem (conv1, pool1, conv2, pool2)", "stem", 15),
        PartSpec("inception", "Inception module", "module", 25, "layers", "blocks"),
        PartSpec("blocks", "Block configuration (Table 1 filters)", "config", 20, "blocks"),
        PartSpec("layout", "Network layout (blocks, pools, input)", "layout", 15, "blocks and pools"),
        PartSpec("aux", "Auxiliary classifiers", "aux", 10, "layers", "heads"),
        PartSpec("head", "Classifier head", "head", 10),
        PartSpec("params", "Parameter total", "params", 5, ""),
    )
    defaults = Defaults(
        name="GoogLeNet",
        entry_files=("googlenet.py", "model.py", "main.py"),
        objects=("googlenet", "model", "net"),
        builders=("build_model", "GoogLeNet", "googlenet"),
    )
    function_kinds = ("inception",)
    #: [options]: whether the head has the paper's dropout, and what the classifier gives
    options = {"head_dropout": bool, "classifier": ("softmax", "logits")}
    block_word = "inception block"
    column_titles = COLUMN_TITLES
    drawings = (BlockDrawing("inception", "inception block", (
        PathDrawing("1x1", ("1x1",)), PathDrawing("3x3", ("3x3_reduce", "3x3")),
        PathDrawing("5x5", ("5x5_reduce", "5x5")), PathDrawing("pool", ("pool", "pool_proj"))), "concat"),)
    blocks_title = "The inception blocks"
    blocks_legend = ("Each block: the previous layer feeds four branches whose outputs are concatenated. "
                     "Boxes with a dashed red outline and ✗ differ from the paper.")
    probes = (
        ProbeSpec("inception", ("inception", "inception_module", "inception_block"), PROBE_SHAPE,
                  # six separate counts must be numbers (not six tensors, not six lists)
                  ({"name": "six", "args": list(PROBE_FILTERS), "scalars": True},
                   {"name": "tuple", "args": [list(PROBE_FILTERS)]},
                   # the d2l.ai book's Inception(c1, c2, c3, c4): the 3x3 and 5x5 paths take (reduce, conv) pairs
                   {"name": "d2l", "args": [PROBE_FILTERS[0], list(PROBE_FILTERS[1:3]), list(PROBE_FILTERS[3:5]),
                                            PROBE_FILTERS[5]]})),
    )
    messages = {
        "no_branches": "{location}: your inception function builds {actual} and no parallel branches; the paper's "
                       "module concatenates four branches (1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max pool then 1x1).",
    }

    # -- the reference ---------------------------------------------------------------
    def reference_script(self, assignment) -> str:
        aux = assignment.aux != "forbidden"
        return (
            "from grader.architectures.googlenet import build_googlenet\n"
            f"model = build_googlenet(num_classes={assignment.num_classes}, "
            f"input_shape={tuple(assignment.input_shape)!r}, aux={aux})\n"
        )

    def adjust_reference(self, graph, assignment):
        from grader.graph import remove_node

        if not assignment.lrn:
            for nid in [k for k, n in graph.nodes.items() if n.op == "norm"]:
                remove_node(graph, nid)
        opts = assignment.options
        if opts.get("head_dropout") is False:  # a course head of GAP and Dense alone (d2l.ai)
            for nid in [k for k, n in graph.nodes.items() if n.op == "dropout" and self.display_name(n.name).startswith("pool5/")]:
                remove_node(graph, nid)
        if opts.get("classifier") == "logits":  # the classifier gives logits (the loss takes from_logits)
            for nid in graph.outputs[:1]:
                n = graph.nodes[nid]
                if n.op == "dense":
                    n.attrs["activation"] = None
                elif n.op == "act" and n.a("fn") == "softmax" and n.inputs:
                    remove_node(graph, nid)
        return graph

    def source_files(self) -> list:
        return [HERE / "model.py", HERE / "arch.py"]

    # -- names -----------------------------------------------------------------------
    def display_name(self, name: str) -> str:
        return name.replace("__", "/")

    def block_kind(self, block, roles) -> str:
        return "inception"

    def block_name(self, location: str) -> str:
        return "inception block " + location.split("_", 1)[-1]

    def aux_name(self, k: int) -> str:
        return f"loss{k + 1}"

    def columns(self, block, roles=None) -> dict:
        """The six filter columns of a block, read from its branches by structure."""
        out = {c: None for c in COLUMNS}
        for br in block.branches:
            convs = [n for n in br if n.op == "conv"]
            pools = [n for n in br if n.op == "pool"]
            if pools and convs:
                out["pool_proj"] = convs[-1].a("filters")
            elif len(convs) == 1 and not pools:
                out["1x1"] = convs[0].a("filters")
            elif len(convs) >= 2:
                k = (convs[-1].a("kernel") or (0, 0))[0]
                key = "5x5" if k >= 5 or (out["3x3"] is not None) else "3x3"
                out[key] = convs[-1].a("filters")
                out[key + "_reduce"] = convs[0].a("filters")
        return out

    # -- the inception function --------------------------------------------------------
    def probe_expectations(self, probe: dict) -> dict:
        return dict(zip(COLUMNS, (probe.get("arguments") or {}).values()))

    def argument_of(self, role: str, probe: dict) -> str | None:
        args = list(probe.get("arguments") or {})
        return args[COLUMNS.index(role)] if role in COLUMNS and len(args) == len(COLUMNS) else None

    def table(self, assignment=None):
        from grader.reftable import googlenet_table

        return googlenet_table()


ARCHITECTURE = GoogLeNet()
