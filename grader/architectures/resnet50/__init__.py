"""ResNet-50 from He et al., "Deep Residual Learning for Image Recognition", Table 1.

``resnet50()`` is the paper's network (25,636,712 parameters, the same as
``keras.applications.ResNet50(weights=None)``), ``resnet50_course()`` the
course variant; ``identity_block`` and ``projection_block`` are the paper's
bottleneck units; ``table()`` is Table 1, printed and computed.  See
``reference/README.md``.

The names are loaded on first use, so that the grader's own process can read
``grader.architectures.resnet50.arch`` without importing Keras.
"""

from __future__ import annotations

from grader.architectures import lazy_names

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
    "PRINTED_FLOPS": ".table1",
    "PRINTED_ROWS": ".table1",
    "table": ".table1",
    "table_rows": ".table1",
}

__all__ = sorted(_WHERE)
__getattr__ = lazy_names(__name__, _WHERE)
