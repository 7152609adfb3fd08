"""grader: an autograder for deep-CNN architecture assignments in Keras
(GoogLeNet, ResNet-50, DenseNet-121).

In a notebook: ``import grader; grader.check()`` grades the notebook as it stands
(see :mod:`grader.notebook`).  Importing the package is cheap: it imports
neither TensorFlow nor the grading machinery until ``grader.check`` is used.
"""

import importlib
import types

from ._version import __version__

__all__ = ["__version__", "check"]


class _CheckModule(types.ModuleType):
    """``grader.check`` is the grading module (``grader/check.py``: ``check.grade``)
    and, called, the notebook check :func:`grader.notebook.check`, the name students
    know from other autograders.  The call is wired here, at the package root, so
    that the grading module never imports the notebook module that imports it."""

    def __call__(self, *args, **kwargs):
        return importlib.import_module(".notebook", __name__).check(*args, **kwargs)


def __getattr__(name):
    # grader.check: imported on first use only
    if name == "check":
        module = importlib.import_module(".check", __name__)
        module.__class__ = _CheckModule
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
