"""GoogLeNet (Inception v1): the reference model (``model``), the paper's Table 1
(``table1.py``) and what the grader knows of the architecture (``arch``).

The model's names are importable from here (``from grader.architectures.googlenet import
build_googlenet``); they are loaded on first use, so that the grader's own
process can read ``grader.architectures.googlenet.arch`` without importing Keras.
"""

from __future__ import annotations

from grader.architectures import lazy_names

_MODEL_NAMES = {
    "CAFFE_SEPARATOR", "KERAS_SEPARATOR", "INCEPTION_BLOCKS", "InceptionSpec", "LocalResponseNormalization",
    "auxiliary_head", "build_googlenet", "caffe_to_keras", "inception", "keras_to_caffe",
}

__all__ = sorted(_MODEL_NAMES)
__getattr__ = lazy_names(__name__, dict.fromkeys(_MODEL_NAMES, ".model"))
