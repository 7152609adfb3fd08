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

from grader.arch import Architecture, Defaults, PartSpec, ProbeSpec

HERE = Path(__file__).resolve().parent

#: the probe of dense_block(X, nb_filters, growth_rate, layers): distinct values
DENSE_PROBE = [19, 5, 3]
#: the probe of transition_layer(X, nb_filters, compression)
TRANSITION_PROBE = [24, 0.5]


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
    )
    defaults = Defaults(
        name="DenseNet-121",
        entry_files=("densenet121.py", "7-densenet121.py", "densenet.py", "model.py", "main.py"),
        objects=("model", "densenet", "densenet121", "net", "network"),
        builders=("densenet121", "DenseNet121", "build_model", "densenet", "build_densenet121", "create_model",
                  "get_model"),
    )
    function_kinds = ("dense_block",)
    merge_ops = ("concat",)
    norms_are_style = False
    block_word = "dense layer"
    table_word = "Table 1"
    options = {"growth_rate": int, "compression": float, "stem": ("conv_bn_relu", "bn_relu_conv"),
               "final_bn_relu": bool, "use_bias": bool}
    probes = (
        ProbeSpec("dense_block", ("dense_block",), (8, 8, DENSE_PROBE[0]), ({"name": "holberton", "args": DENSE_PROBE},),
                  returns_count=True),
        ProbeSpec("transition_layer", ("transition_layer", "transition_block", "transition"), (8, 8, TRANSITION_PROBE[0]),
                  ({"name": "holberton", "args": TRANSITION_PROBE},), returns_count=True),
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
        return f"from reference.densenet121 import densenet121\nmodel = densenet121({call})\n"

    def source_files(self) -> list:
        return [HERE / "model.py", HERE / "arch.py"]

    # -- blocks ------------------------------------------------------------------------
    def block_kind(self, block, roles) -> str:
        return "dense_block"

    def block_name(self, location: str) -> str:
        return f"dense layer {location}"

    def columns(self, block, roles=None) -> dict:
        """The filters of a dense layer's 1x1 (4k) and 3x3 (k) convolutions."""
        if roles is not None:
            return {role: n.a("filters") for br in roles for role, n in br if n.op == "conv"}
        convs = [n for n in new_features(block) if n.op == "conv"]
        return {role: n.a("filters") for role, n in zip(("1_conv", "2_conv"), convs)}

    def column_title(self, column: str) -> str:
        return {"1_conv": "bottleneck 1x1 (4k)", "2_conv": "3x3 (k)"}.get(column, column)

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
        import reference.densenet121 as package

        return package.table()


ARCHITECTURE = DenseNet121()
