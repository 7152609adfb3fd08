"""ResNet-50 from He et al., "Deep Residual Learning for Image Recognition", Table 1.

``resnet50()`` is the paper's network (25,636,712 parameters, the same as
``keras.applications.ResNet50(weights=None)``), ``resnet50_course()`` the
course variant; ``identity_block`` and ``projection_block`` are the paper's
bottleneck units; ``table()`` is Table 1, printed and computed.  See
``reference/README.md``.
"""

from reference.resnet50.model import (
    HEADS,
    STAGES,
    STRIDE_PLACEMENTS,
    TOTAL_PARAMS,
    TOTAL_PARAMS_NO_BIAS,
    Stage,
    identity_block,
    projection_block,
    resnet50,
    resnet50_course,
)
from reference.resnet50.table import PRINTED_FLOPS, PRINTED_ROWS, table, table_rows

__all__ = [
    "HEADS",
    "PRINTED_FLOPS",
    "PRINTED_ROWS",
    "STAGES",
    "STRIDE_PLACEMENTS",
    "Stage",
    "TOTAL_PARAMS",
    "TOTAL_PARAMS_NO_BIAS",
    "identity_block",
    "projection_block",
    "resnet50",
    "resnet50_course",
    "table",
    "table_rows",
]
