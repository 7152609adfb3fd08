"""DenseNet-121 from Huang et al., "Densely Connected Convolutional Networks", Table 1.

``densenet121()`` is the paper's network (k = 32, theta = 0.5: 8,062,504
parameters, as ``keras.applications.DenseNet121(weights=None)``),
``densenet121_course()`` the course variant (8,068,404 with (32, 0.5),
14,048,948 with its defaults (32, 1.0)); ``dense_block`` and
``transition_layer`` are the paper's units, each returning ``(x, nb_filters)``;
``table()`` is Table 1, printed and computed.  See ``reference/README.md``.

The names are loaded on first use, so that the grader's own process can read
``grader.architectures.densenet121.arch`` without importing Keras.
"""

from __future__ import annotations

from grader.architectures import lazy_names

_WHERE = {
    "BLOCKS": ".model",
    "HEADS": ".model",
    "STEMS": ".model",
    "TOTAL_PARAMS": ".model",
    "TOTAL_PARAMS_COURSE": ".model",
    "TOTAL_PARAMS_COURSE_DEFAULTS": ".model",
    "DenseBlock": ".model",
    "dense_block": ".model",
    "densenet121": ".model",
    "densenet121_course": ".model",
    "transition_layer": ".model",
    "PRINTED_ROWS": ".table1",
    "table": ".table1",
    "table_rows": ".table1",
}

__all__ = sorted(_WHERE)
__getattr__ = lazy_names(__name__, _WHERE)
