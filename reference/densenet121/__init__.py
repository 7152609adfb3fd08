"""DenseNet-121 from Huang et al., "Densely Connected Convolutional Networks", Table 1.

``densenet121()`` is the paper's network (k = 32, theta = 0.5: 8,062,504
parameters, as ``keras.applications.DenseNet121(weights=None)``),
``densenet121_course()`` the course variant (8,068,404 with (32, 0.5),
14,048,948 with its defaults (32, 1.0)); ``dense_block`` and
``transition_layer`` are the paper's units, each returning ``(x, nb_filters)``;
``table()`` is Table 1, printed and computed.  See ``reference/README.md``.
"""

from reference.densenet121.model import (
    BLOCKS,
    HEADS,
    STEMS,
    TOTAL_PARAMS,
    TOTAL_PARAMS_COURSE,
    TOTAL_PARAMS_COURSE_DEFAULTS,
    DenseBlock,
    dense_block,
    densenet121,
    densenet121_course,
    transition_layer,
)
from reference.densenet121.table import PRINTED_ROWS, table, table_rows

__all__ = [
    "BLOCKS",
    "HEADS",
    "PRINTED_ROWS",
    "STEMS",
    "DenseBlock",
    "TOTAL_PARAMS",
    "TOTAL_PARAMS_COURSE",
    "TOTAL_PARAMS_COURSE_DEFAULTS",
    "dense_block",
    "densenet121",
    "densenet121_course",
    "table",
    "table_rows",
    "transition_layer",
]
