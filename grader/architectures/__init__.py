"""The reference architectures, one package each (googlenet, resnet50, densenet121).

They live inside the grader's namespace, so the wheel installs no top-level
``reference`` package (a generic name that a course's or a student's
``reference.py`` would shadow or be shadowed by). The assignment files that
choose among them stay in the repository's ``reference/`` folder (shipped in
the wheel as ``grader/assignments/``: see :mod:`grader.assignment`)."""

from __future__ import annotations

import importlib


def lazy_names(package: str, where: dict):
    """A module ``__getattr__`` for ``package`` that loads each of its public names
    from the submodule ``where`` gives it on first use, so that the grader's own
    process can read ``grader.architectures.<name>.arch`` without importing Keras."""

    def __getattr__(name: str):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(where[name], package)
        vars(importlib.import_module(package)).update({n: getattr(module, n) for n, m in where.items()
                                                       if m == where[name]})
        return getattr(module, name)

    return __getattr__
