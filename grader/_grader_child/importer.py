"""Which import gets what: ``GraderImporter``, last on ``sys.meta_path``, answers
only the imports no other finder can, made by the student's own code: a Keras 2
module path gets its Keras 3 mapping (``legacy``), a package that is not
installed gets a stand-in (``standins``). The import guard keeps those stand-ins
from the libraries' own ``try: import x``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys

from . import SHOWN_MODULE, is_own_code
from .keras1 import legacy_module
from .legacy import LegacyModule, legacy_targets
from .standins import StandInModule
from .tracer import Tracer


def _importer_frame():
    """The frame that asked for an import: the first one outside the import machinery."""
    f = sys._getframe(2)
    while f is not None:
        fn = f.f_code.co_filename
        if not (fn.startswith("<frozen importlib") or is_own_code(fn)
                or fn.endswith(("importlib/__init__.py", "importlib/_bootstrap.py", "importlib/_bootstrap_external.py"))):
            return f
        f = f.f_back
    return None


def _is_namespace(mod) -> bool:
    spec = getattr(mod, "__spec__", None)
    return (mod is not None and hasattr(mod, "__path__") and getattr(mod, "__file__", None) is None
            and not isinstance(mod, (StandInModule, LegacyModule))
            and (spec is None or spec.origin in (None, "namespace")))


class GraderImporter(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path, so it is only asked about modules no other finder has.

    For an import made by the student's own code it maps a Keras 2 module path to
    Keras 3, and gives a stand-in for a package that is not installed. Imports
    made by TensorFlow, Keras or NumPy (which probe optional packages with
    ``try: import x``) are never answered, nor is a submodule of a real package,
    nor a module the assignment lists in ``never_stub``."""

    __module__ = SHOWN_MODULE

    def __init__(self, tracer: Tracer, never_stub):
        self.tracer = tracer
        self.never = tuple(never_stub or ())

    def find_spec(self, fullname, path=None, target=None):
        frame = _importer_frame()
        if frame is None or not self.tracer.is_student_file(frame.f_code.co_filename):
            return None
        if legacy_targets(fullname):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if any(fullname == n or fullname.startswith(n + ".") for n in self.never):
            return None
        parent = fullname.rpartition(".")[0]
        if parent:
            pm = sys.modules.get(parent)
            if not (isinstance(pm, StandInModule) or _is_namespace(pm)):
                return None  # a real package that lacks this module: a genuine error
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        targets = legacy_targets(spec.name)
        if targets:
            self.tracer.legacy("module", spec.name, targets[0] if len(targets) == 1 else "keras")
            return legacy_module(spec.name, targets)
        # the package that is missing: the top-most stand-in (`google.colab`: `google` is a real namespace)
        package = spec.name
        while "." in package and isinstance(sys.modules.get(package.rpartition(".")[0]), StandInModule):
            package = package.rpartition(".")[0]
        self.tracer.note("import_stubbed", (spec.name,), module=spec.name, package=package)
        return StandInModule(spec.name)

    def exec_module(self, module):
        pass

def install_import_guard(tracer: Tracer):
    """A stand-in in sys.modules is for the student's code only: when TensorFlow,
    Keras, pandas or NumPy import a package the student's code had stubbed (their
    ``try: import matplotlib``), they get the ImportError they expect."""
    import builtins

    orig = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name:
            mod = sys.modules.get(name.partition(".")[0])
            if isinstance(mod, StandInModule) and not mod.__dict__.get("_grader_provided"):
                f = (globals or {}).get("__file__")
                if not (isinstance(f, str) and tracer.is_student_file(f)):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return orig(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded_import

