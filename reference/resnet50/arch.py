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

from grader.arch import Architecture, Defaults, PartSpec, ProbeSpec

HERE = Path(__file__).resolve().parent

#: A probe's filters, distinct so that each names its place in ``filters``.
PROBE_FILTERS = [11, 13, 17]
STRIDE_PLACEMENTS = ("1x1", "3x3")


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
    norms_are_style = False
    block_word = "residual block"
    table_word = "Table 1"
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
    messages = {}

    # -- the reference ---------------------------------------------------------------
    def reference_script(self, assignment) -> str:
        stride_on = assignment.options.get("stride_on", "1x1")
        head = "dense_on_map" if assignment.head == "dense_on_map" else "global_pool"
        return (
            "from reference.resnet50 import resnet50\n"
            f"model = resnet50(input_shape={tuple(assignment.input_shape)!r}, classes={assignment.num_classes}, "
            f"stride_on={stride_on!r}, head={head!r})\n"
        )

    def source_files(self) -> list:
        return [HERE / "model.py", HERE / "arch.py"]

    # -- blocks ------------------------------------------------------------------------
    def block_kind(self, block, roles) -> str:
        _, shortcut = main_and_shortcut(block)
        return "projection_block" if shortcut else "identity_block"

    def block_name(self, location: str) -> str:
        return f"residual block {location}"

    def columns(self, block, roles=None) -> dict:
        """The filters of the main path's three convolutions and of the shortcut's."""
        if roles is not None:
            return {role: n.a("filters") for br in roles for role, n in br if n.op == "conv"}
        main, shortcut = main_and_shortcut(block)
        out = {f"{i}_conv": n.a("filters") for i, n in enumerate([n for n in main if n.op == "conv"][:3], 1)}
        convs = [n for n in shortcut if n.op == "conv"]
        if convs:
            out["0_conv"] = convs[0].a("filters")
        return out

    def column_title(self, column: str) -> str:
        return {"1_conv": "first 1x1", "2_conv": "3x3", "3_conv": "last 1x1", "0_conv": "shortcut 1x1"}.get(column, column)

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
        import reference.resnet50 as package

        return package.table()


ARCHITECTURE = ResNet50()
