"""grader: an autograder for GoogLeNet (Inception v1) assignments in Keras.

In a notebook: ``import grader; grader.check()`` grades the notebook as it stands
(see :mod:`grader.notebook`).  Importing the package is cheap: it imports
neither TensorFlow nor the grading machinery until ``grader.check`` is used.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # grader.check: the grading module, callable as the notebook check
    # (grader/check.py); imported on first use only
    if name == "check":
        import importlib

        return importlib.import_module(".check", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
