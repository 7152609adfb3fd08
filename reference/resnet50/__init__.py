"""ResNet-50 from He et al., "Deep Residual Learning for Image Recognition", Table 1.

``resnet50()`` is the paper's network (25,636,712 parameters, the same as
``keras.applications.ResNet50(weights=None)``), ``resnet50_course()`` the
course variant; ``identity_block`` and ``projection_block`` are the paper's
bottleneck units; ``table()`` is Table 1, printed and computed.  See
``reference/README.md``.

The names are loaded on first use, so that the grader's own process can read
``reference.resnet50.arch`` without importing Keras.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "HEADS": ".model",
    "STAGES": ".model",
    "STRIDE_PLACEMENTS": ".model",
    "TOTAL_PARAMS": ".model",
    "TOTAL_PARAMS_NO_BIAS": ".model",
    "Stage": ".model",
    "identity_block": ".model",
    "projection_block": ".model",
    "resnet50": ".model",
    "resnet50_course": ".model",
    "PRINTED_FLOPS": ".table",
    "PRINTED_ROWS": ".table",
    "table": ".table",
    "table_rows": ".table",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        # kept here: importing the submodule `table` binds the package's `table`
        # to the module, and the function of that name must win
        module = importlib.import_module(_WHERE[name], __name__)
        globals().update({n: getattr(module, n) for n, m in _WHERE.items() if m == _WHERE[name]})
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
