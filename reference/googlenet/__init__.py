"""GoogLeNet (Inception v1): the reference model (``model``), the paper's Table 1
(``reference/table1.py``) and what the grader knows of the architecture (``arch``).

The model's names are importable from here (``from reference.googlenet import
build_googlenet``); they are loaded on first use, so that the grader's own
process can read ``reference.googlenet.arch`` without importing Keras.
"""

from __future__ import annotations

import importlib

_MODEL_NAMES = {
    "CAFFE_SEPARATOR", "KERAS_SEPARATOR", "INCEPTION_BLOCKS", "InceptionSpec", "LocalResponseNormalization",
    "auxiliary_head", "build_googlenet", "caffe_to_keras", "inception", "keras_to_caffe",
}

__all__ = sorted(_MODEL_NAMES)


def __getattr__(name: str):
    if name in _MODEL_NAMES:
        return getattr(importlib.import_module(".model", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
