"""What the grader knows of DenseNet-121 (Huang et al. 2017, Table 1).

Locations are the names of ``keras.applications.DenseNet121``: layer *i* of
dense block *n* is ``conv{n}_block{i}_0_bn``, ``_0_relu``, ``_1_conv`` (the 4k
1x1, its BN and ReLU folded into it), ``_2_conv`` (the k 3x3) and ``_concat``;
a transition is ``pool{n}_bn``, ``_relu``, ``_conv``, ``_pool``; the head is
``bn``, ``relu``, ``avg_pool``, ``predictions``. A dense layer is a merge
block: the concatenation of its input and its new features.
"""

from __future__ import annotations

from pathlib import Path

from grader.arch import Architecture, BlockDrawing, Defaults, PartSpec, PathDrawing, ProbeSpec

HERE = Path(__file__).resolve().parent

#: the probe of dense_block(X, nb_filters, growth_rate, layers): distinct values
DENSE_PROBE = [19, 5, 3]
#: the probe of transition_layer(X, nb_filters, compression)
TRANSITION_PROBE = [24, 0.5]


M_GROWTH = ("{location}: {actual} new feature maps per dense layer where the paper's growth rate is k = {expected} "
            "(and the bottleneck's 4k follows it).")
M_POST_ACTIVATION = ("{location}: the dense layer is post-activation, Conv-BN-ReLU, where the paper's is "
                     "pre-activation: BN-ReLU before each convolution (BN-ReLU-Conv1x1-BN-ReLU-Conv3x3).")


M_DROPS_INPUT = ("{location}: the dense block ends with a concatenation of its layers' new features alone; the paper's "
                 "output is [x_0, x_1, ..., x_l], with the block's input x_0.")


#: the transition-layer task's layers (Keras names transition_layer_bn ... _pool) by their role in the
#: function, named as the dense block's are (dense_block/1_conv): transition_layer/0_bn ... /pool
TRANSITION_ROLES = {"bn": "0_bn", "relu": "0_relu", "conv": "1_conv", "pool": "pool"}


def new_features(block):
    """The branch of a dense layer that makes its new features (the other is the input)."""
    brs = sorted(block.branches, key=len)
    return brs[-1] if brs else []


class DenseNet121(Architecture):
    name = "densenet121"
    title = "DenseNet-121"
    parts = (
        PartSpec("stem", "Stem (conv1, pool1)", "stem", 10),
        PartSpec("dense", "Dense layers (BN-ReLU-Conv1x1-BN-ReLU-Conv3x3, concatenated onto the input)", "module",
                 30, "layers", "dense layers"),
        PartSpec("growth", "Growth (4k and k filters of each dense layer)", "config", 15, "dense layers"),
        PartSpec("layout", "Dense blocks and transitions", "layout", 25, "dense layers and transition layers"),
        PartSpec("head", "Classifier head (BN, ReLU, pool, classifier)", "head", 10),
        PartSpec("params", "Parameter total", "params", 10, ""),
        PartSpec("returns", "Returned filter count", "returns", 0, ""),  # block-function tasks
    )
    defaults = Defaults(
        name="DenseNet-121",
        entry_files=("densenet121.py", "7-densenet121.py", "densenet.py", "model.py", "main.py"),
        objects=("model", "densenet", "densenet121", "net", "network"),
        builders=("densenet121", "DenseNet121", "build_model", "densenet", "build_densenet121", "create_model",
                  "get_model"),
    )
    function_kinds = ("dense_block",)
    no_merge_code = "layer_missing"
    norms_are_style = False
    block_word = "dense layer"
    column_titles = {"1_conv": "bottleneck 1x1 (4k)", "2_conv": "3x3 (k)"}
    # a dense layer: BN-ReLU-1x1 (its BN and ReLU folded)-3x3, concatenated onto its input; a transition: a chain
    drawings = (
        BlockDrawing("dense_block", "dense layer", (PathDrawing("the input"),
                     PathDrawing("new features", ("0_bn", "0_relu", "1_conv", "2_conv"))), "concat", (), ("1_conv",),
                     ("concat",)),
        BlockDrawing("transition_layer", "transition layer", (PathDrawing("", ("bn", "relu", "conv", "pool")),), None),
    )
    blocks_title = "The dense layers and transitions"
    blocks_legend = ("Each dense layer: BN, ReLU, a 1x1 convolution (4k filters), BN, ReLU, a 3x3 convolution "
                     "(k filters), whose k new feature maps are concatenated onto the layer's input. Each transition: "
                     "BN, ReLU, a 1x1 convolution, 2x2 average pooling. Boxes with a dashed red outline and ✗ "
                     "differ from the paper.")

    def drawn_segments(self, locations):
        """The transitions: ``pool2_bn`` ... ``pool2_pool`` (``transition_layer_*`` when graded alone)."""
        import re

        return list(dict.fromkeys((m.group(1), "transition_layer") for m in
                                  (re.fullmatch(r"(pool\d+|transition_layer)_(bn|relu|conv|pool)", s) for s in locations) if m))
    options = {"growth_rate": int, "compression": float, "stem": ("conv_bn_relu", "bn_relu_conv"),
               "final_bn_relu": bool, "use_bias": bool}
    probes = (
        # both return (tensor, new filter count): see expected_count
        ProbeSpec("dense_block", ("dense_block",), (8, 8, DENSE_PROBE[0]), ({"name": "holberton", "args": DENSE_PROBE},)),
        ProbeSpec("transition_layer", ("transition_layer", "transition_block", "transition"), (8, 8, TRANSITION_PROBE[0]),
                  ({"name": "holberton", "args": TRANSITION_PROBE},)),
    )

    # -- the reference ---------------------------------------------------------------
    def reference_script(self, assignment) -> str:
        o = assignment.options
        head = "dense_on_map" if assignment.head == "dense_on_map" else "global_pool"
        args = dict(growth_rate=o.get("growth_rate", 32), compression=o.get("compression", 0.5),
                    stem=o.get("stem", "conv_bn_relu"), final_bn_relu=o.get("final_bn_relu", True),
                    use_bias=o.get("use_bias", False), head=head, input_shape=tuple(assignment.input_shape),
                    classes=assignment.num_classes)
        call = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return f"from grader.architectures.densenet121 import densenet121\nmodel = densenet121({call})\n"

    def reference_task_script(self, assignment) -> str:
        """The dense block or the transition layer alone, on the task's example input."""
        t, o = assignment.task, assignment.options
        fn = {"dense_block": "dense_block", "transition_layer": "transition_layer"}[t["kind"]]
        args = ", ".join(repr(a) for a in t["args"])
        return ("import keras\n"
                f"from grader.architectures.densenet121 import {fn}\n"
                f"inputs = keras.Input(shape={tuple(t['input_shape'])!r}, name='data')\n"
                f"outputs, _ = {fn}(inputs, {args}, use_bias={o.get('use_bias', True)!r}, kernel_initializer='he_normal')\n"
                "model = keras.Model(inputs, outputs)\n")

    def source_files(self) -> list:
        return [HERE / "model.py", HERE / "arch.py"]

    # -- names -------------------------------------------------------------------------
    def display_name(self, name: str) -> str:
        head, _, role = name.rpartition("_")
        if head == "transition_layer" and role in TRANSITION_ROLES:
            return f"transition_layer/{TRANSITION_ROLES[role]}"
        return name

    # -- blocks ------------------------------------------------------------------------
    def block_kind(self, block, roles) -> str:
        return "dense_block"

    def columns(self, block, roles=None) -> dict:
        """The filters of a dense layer's 1x1 (4k) and 3x3 (k) convolutions."""
        if roles is not None:
            return super().columns(block, roles)
        convs = [n for n in new_features(block) if n.op == "conv"]
        return {role: n.a("filters") for role, n in zip(("1_conv", "2_conv"), convs)}

    def adjust_structure(self, S):
        """A dense block whose output concatenates its layers' new features without
        its input has, as its last layer, no merge of its own: read that layer
        (the layers after the previous dense layer, up to the concatenation) as the
        dense layer it is, noting that its concatenation drops the block's input."""
        from grader.align import Block

        spine = list(S.spine)
        i = 0
        while i < len(spine):
            it = spine[i]
            if not isinstance(it, Block) and it.op == "concat" and len(it.inputs) >= 2:
                j = i - 1
                while j > 0 and not isinstance(spine[j], Block) and spine[j].op in ("norm", "act", "conv"):
                    j -= 1
                chain = spine[j + 1:i]
                if isinstance(spine[j], Block) and len(chain) >= 2 and any(n.op == "conv" for n in chain):
                    spine[j + 1:i + 1] = [Block(it, spine[j].exit_id, [[], chain], [], {"drops_input": True})]
                    i = j + 1
            i += 1
        S.spine = spine
        return S

    def block_faults(self, kind: str, bloc: str, faults: list, block=None) -> list:
        """One mistake each: a wrong growth rate (the 3x3 has k' filters and the
        bottleneck 4k'), and the post-activation order (no BN-ReLU before the 1x1,
        a BN and a ReLU after the 3x3)."""
        if block is not None and block.note.get("drops_input"):
            faults = faults + [(bloc, "branch_missing", "concat", "drops_input", {}, "[x_0, x_1, ..., x_l]",
                                "[x_1, ..., x_l]", block.concat, M_DROPS_INPUT, "error")]
        by = {(f[1], f[2]): f for f in faults}
        k, b = by.get(("filters", "2_conv")), by.get(("filters", "1_conv"))
        if k is not None and isinstance(k[5], int) and isinstance(k[6], int):
            faults = [f for f in faults if f is not k and not (b is not None and f is b and b[6] == 4 * k[6])]
            faults.append((bloc, "filters", "2_conv", ("growth", k[6]), {}, k[5], k[6], k[7], M_GROWTH, "error"))
        pre = [f for f in faults if f[1] == "layer_missing" and f[2] in ("0_bn", "0_relu")]
        post = [f for f in faults if f[2] == "2_conv" and f[1] in ("layer_extra", "activation")]
        if pre and post:
            node = next((f[7] for f in post if f[7] is not None), None)
            faults = [f for f in faults if f not in pre and f not in post]
            faults.append((bloc, "activation_order", "1_conv", "post_activation", {}, "BN-ReLU-Conv", "Conv-BN-ReLU",
                           node, M_POST_ACTIVATION, "error"))
        return faults

    def derived_filters(self, node, assignment):
        """A transition's 1x1 convolution has floor(theta * m) filters for its m input channels."""
        loc = self.location(node)
        if node.op == "conv" and ((loc.startswith("pool") and loc.endswith("_conv")) or loc == "transition_layer/1_conv"):
            theta = float(assignment.options.get("compression", 0.5))
            return (lambda channels: int(channels * theta)), f"floor(theta * m) with the compression theta = {theta:g}"
        return None

    def templates(self) -> list:
        return [M_GROWTH, M_POST_ACTIVATION, M_DROPS_INPUT]

    # -- the block functions -------------------------------------------------------------
    def _names(self, probe: dict) -> list:
        return list(probe.get("arguments") or {})

    def probe_expectations(self, probe: dict) -> dict:
        if probe.get("block_kind") != "dense_block":
            return {}
        _, k, _ = DENSE_PROBE
        return {"1_conv": 4 * k, "2_conv": k}

    def named_values(self, probe: dict) -> dict:
        names = self._names(probe)
        if probe.get("block_kind") == "dense_block" and len(names) >= 3:
            nb, k, layers = DENSE_PROBE
            return {nb: names[0], k: names[1], 4 * k: f"4 * {names[1]}", layers: names[2]}
        return super().named_values(probe)

    def argument_of(self, role: str, probe: dict) -> str | None:
        names = self._names(probe)
        if probe.get("block_kind") != "dense_block" or len(names) < 2:
            return None
        return {"1_conv": f"4 * {names[1]}", "2_conv": names[1]}.get(role)

    def expected_count(self, kind: str, args: list) -> int | None:
        if kind == "dense_block" and len(args) >= 3:
            nb, k, layers = args[:3]
            return nb + layers * k
        if kind == "transition_layer" and len(args) >= 2:
            nb, theta = args[:2]
            return int(nb * theta)
        return None

    def table(self, assignment=None):
        import grader.architectures.densenet121 as package

        return package.table()


ARCHITECTURE = DenseNet121()
