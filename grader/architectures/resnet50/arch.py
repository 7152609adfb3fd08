"""What the grader knows of ResNet-50 (He et al. 2016, Table 1).

Locations are the names of ``keras.applications.ResNet50`` (``conv1_conv``,
``conv3_block1_2_conv``, ``conv3_block1_0_conv`` for a projection shortcut,
``conv3_block1_add``, ``conv3_block1_out``); a BatchNormalization is folded
into the convolution before it, and reported at its own name
(``conv3_block1_0_bn``) when it is missing. A residual block is an ``Add`` of
the shortcut and the main path, with its ReLU after the addition; it is an
``identity_block`` when the shortcut is the input itself and a
``projection_block`` when it is a 1x1 convolution.
"""

from __future__ import annotations

from pathlib import Path

from grader.arch import Architecture, BlockDrawing, Defaults, PartSpec, PathDrawing, ProbeSpec

HERE = Path(__file__).resolve().parent

#: A probe's filters, distinct so that each names its place in ``filters``.
PROBE_FILTERS = [11, 13, 17]
STRIDE_PLACEMENTS = ("1x1", "3x3")
M_RELU_BEFORE_ADD = ("{location}: the ReLU comes before the addition (after the last 1x1 convolution's BatchNormalization); "
                     "the paper adds the shortcut first and applies the ReLU to the sum.")
M_STRIDE_PLACEMENT = ("{location}: the block's stride 2 is on the {actual} where this assignment has it on the {expected} "
                      "(the paper puts it on the first 1x1, the \"v1.5\" variant on the 3x3).")
WHERE = {"1_conv": "first 1x1 convolution", "2_conv": "3x3 convolution"}
M_SHORTCUT_SOURCE = ("{location}: the shortcut added is {actual} instead of the block's input: "
                     "the addition must bring the block's input (or its projection) around the three convolutions.")
M_NO_PROJECTION = ("{location}: the shortcut is {actual} where the paper has a projection, a 1x1 convolution "
                   "(with the block's stride) followed by BatchNormalization.")


M_NO_ADD = ("{location}: your {kind} function never adds the block's input to its output: it builds {actual} in a "
            "plain chain, with no Add and no shortcut.")


def main_and_shortcut(block):
    """(main path, shortcut) of a residual block: the shortcut is the shorter branch."""
    brs = sorted(block.branches, key=len)
    if len(brs) < 2:
        return (brs[0] if brs else []), []
    return brs[-1], brs[0]


class ResNet50(Architecture):
    name = "resnet50"
    title = "ResNet-50"
    parts = (
        PartSpec("stem", "Stem (conv1, pool1)", "stem", 10),
        PartSpec("residual", "Residual blocks (bottleneck, shortcut, addition)", "module", 30, "layers", "blocks"),
        PartSpec("blocks", "Block configuration (Table 1 filters)", "config", 20, "blocks"),
        PartSpec("stages", "Stages (blocks and strides)", "layout", 20, "blocks"),
        PartSpec("head", "Classifier head", "head", 10),
        PartSpec("params", "Parameter total", "params", 10, ""),
    )
    defaults = Defaults(
        name="ResNet-50",
        entry_files=("resnet50.py", "4-resnet50.py", "resnet.py", "model.py", "main.py"),
        objects=("model", "resnet", "resnet50", "net", "network"),
        builders=("resnet50", "ResNet50", "build_model", "resnet", "build_resnet50", "create_model", "get_model"),
    )
    function_kinds = ("identity_block", "projection_block")
    merge_ops = ("add",)
    no_merge_code = "layer_missing"
    filters_given_together = True
    messages = {"no_branches": M_NO_ADD}
    norms_are_style = False
    block_word = "residual block"
    column_titles = {"1_conv": "first 1x1", "2_conv": "3x3", "3_conv": "last 1x1", "0_conv": "shortcut 1x1"}
    # the report draws the main path (each convolution with its BN, and ReLU but the last), the
    # shortcut, the addition and the ReLU after it
    _MAIN = PathDrawing("main path", ("1_conv", "2_conv", "3_conv"))
    drawings = (
        BlockDrawing("identity_block", "identity block", (PathDrawing("identity shortcut"), _MAIN), "add", ("relu",),
                     ("1_conv", "2_conv", "3_conv"), ("add", "out")),
        BlockDrawing("projection_block", "projection block", (PathDrawing("projection shortcut", ("0_conv",)), _MAIN),
                     "add", ("relu",), ("0_conv", "1_conv", "2_conv", "3_conv"), ("add", "out")),
    )
    blocks_title = "The residual blocks"
    blocks_legend = ("Each block: its input feeds the main path (1x1, 3x3, 1x1 convolutions, each with "
                     "BatchNormalization) and the shortcut (the input itself, or a 1x1 projection); the two are "
                     "added, then a ReLU. Boxes with a dashed red outline and ✗ differ from the paper.")

    def drawing(self, block):
        """A block of the network: a projection block where the paper's has a shortcut convolution."""
        by = {d.kind: d for d in self.drawings}
        return by.get(block.location) or by["projection_block" if "0_conv" in (block.expected or {}) else "identity_block"]
    options = {"stride_on": STRIDE_PLACEMENTS}
    probes = (
        ProbeSpec("identity_block", ("identity_block",), (8, 8, PROBE_FILTERS[2]),
                  ({"name": "coursera", "match": ["^(f|k|kernel|kernel_size)$", "^filters"], "args": [3, PROBE_FILTERS]},
                   {"name": "tuple", "args": [PROBE_FILTERS]})),
        ProbeSpec("projection_block", ("projection_block", "convolutional_block", "conv_block"), (8, 8, 19),
                  ({"name": "coursera", "match": ["^(f|k|kernel|kernel_size)$", "^filters", "^(s|stride|strides)$"],
                    "args": [3, PROBE_FILTERS, 2]},
                   {"name": "tuple", "args": [PROBE_FILTERS, 2]})),
    )

    # -- the reference ---------------------------------------------------------------
    def reference_script(self, assignment) -> str:
        stride_on = assignment.options.get("stride_on", "1x1")
        head = "dense_on_map" if assignment.head == "dense_on_map" else "global_pool"
        return (
            "from grader.architectures.resnet50 import resnet50\n"
            f"model = resnet50(input_shape={tuple(assignment.input_shape)!r}, classes={assignment.num_classes}, "
            f"stride_on={stride_on!r}, head={head!r})\n"
        )

    def reference_task_script(self, assignment) -> str:
        """The identity or projection block alone, on the task's example input."""
        t, o = assignment.task, assignment.options
        args = ", ".join(repr(tuple(a) if isinstance(a, list) else a) for a in t["args"])
        extra = f", stride_on={o.get('stride_on', '1x1')!r}" if t["kind"] == "projection_block" else ""
        return ("import keras\n"
                f"from grader.architectures.resnet50 import {t['kind']}\n"
                f"inputs = keras.Input(shape={tuple(t['input_shape'])!r}, name='data')\n"
                f"model = keras.Model(inputs, {t['kind']}(inputs, {args}, kernel_initializer='he_normal'{extra}))\n")

    def source_files(self) -> list:
        return [HERE / "model.py", HERE / "arch.py"]

    # -- blocks ------------------------------------------------------------------------
    def block_kind(self, block, roles) -> str:
        _, shortcut = main_and_shortcut(block)
        return "projection_block" if shortcut else "identity_block"

    def columns(self, block, roles=None) -> dict:
        """The filters of the main path's three convolutions and of the shortcut's."""
        if roles is not None:  # the main path first, then the shortcut
            return {role: n.a("filters") for br in sorted(roles, key=len, reverse=True) for role, n in br if n.op == "conv"}
        main, shortcut = main_and_shortcut(block)
        out = {f"{i}_conv": n.a("filters") for i, n in enumerate([n for n in main if n.op == "conv"][:3], 1)}
        convs = [n for n in shortcut if n.op == "conv"]
        if convs:
            out["0_conv"] = convs[0].a("filters")
        return out

    def adjust_structure(self, S):
        """A residual block whose shortcut leaves from inside it (the output of its
        last convolution) has no convolution between the two inputs of its addition;
        read it as the block it was meant to be, the three convolutions before the
        addition its main path, and note where its shortcut came from."""
        from dataclasses import replace

        from grader.align import Block

        spine = list(S.spine)
        # the main path added to itself (`shortcut = y` after the last convolution,
        # then `Add()([y, shortcut])`): no block was found; its add is the merge of one
        i = 0
        while i < len(spine):
            it = spine[i]
            if not isinstance(it, Block) and it.op == "add" and len(set(it.inputs)) == 1:
                convs = []
                while i - 1 - len(convs) > 0 and not isinstance(spine[i - 1 - len(convs)], Block) \
                        and spine[i - 1 - len(convs)].op == "conv" and len(convs) < 3:
                    convs.insert(0, spine[i - 1 - len(convs)])
                before = spine[i - 1 - len(convs)]
                after = spine[i + 1] if i + 1 < len(spine) else None
                tail = [after] if (after is not None and not isinstance(after, Block) and after.op == "act"
                                   and after.a("fn") == "relu") else []
                if len(convs) >= 2:
                    block = Block(it, before.exit_id if isinstance(before, Block) else before.id, [[], convs], tail,
                                  {"shortcut_from": S.graph.nodes.get(it.inputs[0])})
                    spine[i - len(convs):i + 1 + len(tail)] = [block]
                    i -= len(convs)
            i += 1
        for i, it in enumerate(list(spine)):
            if not isinstance(it, Block) or any(n.op == "conv" for br in it.branches for n in br) or it.concat.op != "add":
                continue
            k = spine.index(it)
            convs = []
            while k - 1 - len(convs) > 0 and not isinstance(spine[k - 1 - len(convs)], Block) \
                    and spine[k - 1 - len(convs)].op == "conv" and len(convs) < 3:
                convs.insert(0, spine[k - 1 - len(convs)])
            if len(convs) < 2:
                continue
            main = convs + [n for n in max(it.branches, key=len) if n.op != "norm"]
            if any(n.op == "norm" for br in it.branches for n in br):
                main[len(convs) - 1] = replace(main[len(convs) - 1], attrs={**main[len(convs) - 1].attrs, "post_norm": "batchnorm"})
            source = S.graph.nodes.get(it.input_id)
            block = Block(it.concat, spine[k - 1 - len(convs)].id if not isinstance(spine[k - 1 - len(convs)], Block)
                          else spine[k - 1 - len(convs)].exit_id, [[], main], list(it.tail),
                          {"shortcut_from": source})
            spine[k - len(convs):k + 1] = [block]
        S.spine = spine
        return S

    def block_faults(self, kind: str, bloc: str, faults: list, block=None) -> list:
        """One mistake each: a ReLU moved before the addition (an activation on the
        last 1x1 and none after the sum), the stride on the other convolution of
        the block (1x1 and 3x3 both with the wrong stride, a warning), a shortcut
        that is not a projection where one belongs, a shortcut from inside the block."""
        if block is not None and block.note.get("shortcut_from") is not None:
            src = block.note["shortcut_from"]
            faults = [f for f in faults if f[1] != "branch_missing"]
            faults.append((bloc, "shortcut_source", "add", "inside", {},
                           "the block's input", f"the output of its {src.cls or src.op}", src, M_SHORTCUT_SOURCE, "error"))
        if kind == "projection_block":
            shortcut = [f for f in faults if f[2] in ("0_conv", "0_bn")]
            if any(f[1] in ("layer_type", "layer_missing") and f[2] == "0_conv" for f in shortcut):
                what = ", then ".join(str(f[6]) for f in shortcut if f[6]) or "the block's input itself"
                node = next((f[7] for f in shortcut if f[7] is not None), None)
                faults = [f for f in faults if f not in shortcut]
                faults.append((shortcut[0][0], "layer_missing", "0_conv", "no_projection", {},
                               "a 1x1 convolution with BatchNormalization", what, node, M_NO_PROJECTION, "error"))
        by = {(f[1], f[2]): f for f in faults}
        relu, out = by.get(("activation", "3_conv")), by.get(("layer_missing", "out"))
        if relu is not None and out is not None and relu[6] == "relu":
            faults = [f for f in faults if f is not relu and f is not out]
            faults.append((relu[0], "activation", "add", "relu_before_add", {}, "ReLU after the addition",
                           "ReLU before the addition", relu[7], M_RELU_BEFORE_ADD, "error"))
        s1, s3 = by.get(("strides", "1_conv")), by.get(("strides", "2_conv"))
        if s1 is not None and s3 is not None and s1[5] == s3[6] and s1[6] == s3[5]:
            moved_to = "2_conv" if s3[6] != "1x1" else "1_conv"
            node = s3[7] if moved_to == "2_conv" else s1[7]
            faults = [f for f in faults if f is not s1 and f is not s3]
            faults.append((s1[0], "strides", moved_to, "placement", {}, WHERE["1_conv" if moved_to == "2_conv" else "2_conv"],
                           WHERE[moved_to], node, M_STRIDE_PLACEMENT, "warning"))
        return faults

    def templates(self) -> list:
        return [M_RELU_BEFORE_ADD, M_STRIDE_PLACEMENT, M_SHORTCUT_SOURCE, M_NO_PROJECTION, M_NO_ADD]

    # -- the block functions -------------------------------------------------------------
    def _filters_args(self, probe: dict) -> list:
        args = probe.get("arguments") or {}
        return [a for a, v in args.items() if "[" in a][:3]

    def probe_expectations(self, probe: dict) -> dict:
        out = dict(zip(("1_conv", "2_conv", "3_conv"), PROBE_FILTERS))
        if probe.get("block_kind") == "projection_block":
            out["0_conv"] = PROBE_FILTERS[2]
        return out

    def argument_of(self, role: str, probe: dict) -> str | None:
        names = self._filters_args(probe)
        i = {"1_conv": 0, "2_conv": 1, "3_conv": 2, "0_conv": 2}.get(role)
        return names[i] if i is not None and i < len(names) else None

    def table(self, assignment=None):
        import grader.architectures.resnet50 as package

        return package.table()


ARCHITECTURE = ResNet50()
