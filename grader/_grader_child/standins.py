"""Stand-ins for packages that are not installed where the grader runs.

Students import plotting, data and course helper packages (matplotlib, sklearn,
seaborn, tqdm, d2l, google.colab, ...) that the grading environment does not
have. An import of such a package, made from the student's own code, gives a
stand-in module whose names do nothing (``importer``
decides which imports); the model's construction only fails when it really
depends on one, and then the build error says which name it used
(``standin_in``).

This module also holds the run's one piece of shared state, ``_STATE``: the
tracer, for the stand-ins and the Keras 2 shapes that are made without one at hand.
"""

from __future__ import annotations

import dis
import inspect
import os
import re
import sys
import traceback
import types

from . import SHOWN_MODULE

_STATE: dict = {"tracer": None}
_MAX_STANDINS = 20000


def _standin_no(obj, path) -> int:
    tracer = _STATE["tracer"]
    if tracer is None or len(tracer.standins) >= _MAX_STANDINS:
        return -1
    tracer.standins.append((path, tracer.student_source()))
    return len(tracer.standins) - 1


def _unpack_count(frame) -> int:
    """How many values the instruction running in ``frame`` unpacks (``a, b = x``), else 0."""
    try:
        for ins in dis.get_instructions(frame.f_code):
            if ins.offset == frame.f_lasti:
                if ins.opname == "UNPACK_SEQUENCE":
                    return int(ins.arg)
                if ins.opname == "UNPACK_EX":
                    return (ins.arg & 0xFF) + (ins.arg >> 8)
                return 0
    except Exception:
        pass
    return 0


def _display(path: str) -> str:
    """`d2l.Inception()()` -> `d2l.Inception`, `split()[1].shape` -> `split`: the
    name the student used, before the first call or index."""
    return re.split(r"[(\[]", path, maxsplit=1)[0] or path


class StandIn:
    """A name from a package that is not installed where the grader runs.

    Attributes, calls, indexing, arithmetic, iteration and ``with`` all work and
    do nothing; unpacking gives as many stand-ins as asked for; ``tqdm(it)``
    iterates ``it``. Its repr names it, so an error it causes can be traced back
    to the name the student used."""

    __module__ = SHOWN_MODULE

    __slots__ = ("_grader_path", "_grader_no", "_grader_items", "_grader_attrs", "__weakref__")

    def __init__(self, path: str, items=None):
        object.__setattr__(self, "_grader_path", path)
        object.__setattr__(self, "_grader_items", items)
        object.__setattr__(self, "_grader_attrs", {})
        object.__setattr__(self, "_grader_no", _standin_no(self, path))

    def __getattr__(self, name):
        if name.startswith("_"):  # protocols and private probes (numpy, Keras) must fail as usual
            raise AttributeError(name)
        attrs = object.__getattribute__(self, "_grader_attrs")
        if name in attrs:
            return attrs[name]
        child = StandIn(f"{self._grader_path}.{name}")
        tracer = _STATE["tracer"]
        if (tracer is not None and 0 <= child._grader_no < len(tracer.standins) and self._grader_no >= 0
                and not tracer.is_student_file(sys._getframe(1).f_code.co_filename)):
            # Keras probing a stand-in it was given (`x.dtype`): the student's use is where it was made
            tracer.standins[child._grader_no] = (child._grader_path, tracer.standins[self._grader_no][1])
        return child

    def __setattr__(self, name, value):
        self._grader_attrs[name] = value

    def __delattr__(self, name):
        self._grader_attrs.pop(name, None)

    def __call__(self, *args, **kwargs):
        # a decorator from a missing package leaves the function as it is
        if len(args) == 1 and not kwargs and inspect.isfunction(args[0]):
            return args[0]
        leaf = self._grader_path.rsplit(".", 1)[-1]
        items = None
        if leaf in ("tqdm", "tqdm_notebook", "tnrange", "trange"):
            if leaf in ("trange", "tnrange"):
                items = range(*[a for a in args if isinstance(a, int)][:3])
            else:
                it = args[0] if args else kwargs.get("iterable")
                if it is not None and not isinstance(it, (str, bytes)) and hasattr(it, "__iter__"):
                    items = it
        return StandIn(f"{self._grader_path}()", items)

    def __getitem__(self, key):
        attrs = self._grader_attrs
        try:
            if ("[]", key) in attrs:
                return attrs[("[]", key)]
        except TypeError:
            pass
        return StandIn(f"{self._grader_path}[{key!r:.30}]")

    def __setitem__(self, key, value):
        try:
            self._grader_attrs[("[]", key)] = value
        except TypeError:
            pass

    def __delitem__(self, key):
        pass

    def __iter__(self):
        if self._grader_items is not None:
            return iter(self._grader_items)
        n = _unpack_count(sys._getframe(1))
        return iter([StandIn(f"{self._grader_path}[{i}]") for i in range(n)])

    def __len__(self):
        try:
            return len(self._grader_items) if self._grader_items is not None else 0
        except TypeError:
            return 0

    def __bool__(self):
        return False

    def __int__(self):
        return 0

    __index__ = __int__

    def __float__(self):
        return 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __contains__(self, item):
        return False

    def __reversed__(self):
        return iter(())

    def __eq__(self, other):
        return other is self

    def __ne__(self, other):
        return other is not self

    def __hash__(self):
        return id(self)

    def __lt__(self, other):
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __mro_entries__(self, bases):
        return ()  # `class Net(missing.Base):` is a plain class

    def __instancecheck__(self, obj):
        return False

    def __subclasscheck__(self, cls):
        return False

    def __repr__(self):
        root = self._grader_path.split(".", 1)[0]
        return f"<stand-in #{self._grader_no} for {_display(self._grader_path)} ({root} is not installed)>"

    __str__ = __repr__

    def __format__(self, spec):
        return repr(self)

    def _grader_same(self, *a):
        return StandIn(self._grader_path)


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
            "lshift", "rshift", "divmod"):
    setattr(StandIn, f"__{_op}__", StandIn._grader_same)
    setattr(StandIn, f"__r{_op}__", StandIn._grader_same)
for _op in ("neg", "pos", "abs", "invert"):
    setattr(StandIn, f"__{_op}__", StandIn._grader_same)


class StandInModule(types.ModuleType):
    """A module that is not installed: every name in it is a StandIn."""

    __module__ = SHOWN_MODULE

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return StandIn(f"{self.__name__}.{name}")


def standin_in(exc, tb):
    """The stand-in an error came from: named in its message, or held by a frame of its traceback."""
    tracer = _STATE["tracer"]
    if tracer is None:
        return None
    found = None
    m = re.search(r"<stand-in #(\d+) for ", str(exc))
    if m and int(m.group(1)) < len(tracer.standins):
        found = tracer.standins[int(m.group(1))]
    if found is None:
        for frame, _ in traceback.walk_tb(tb):
            if frame.f_locals is frame.f_globals:
                continue  # module-level code: every imported stand-in is a global there
            for v in list(frame.f_locals.values())[:200]:
                vals = list(v)[:64] if isinstance(v, (list, tuple)) else [v]
                for x in vals:
                    if isinstance(x, StandIn) and 0 <= x._grader_no < len(tracer.standins):
                        found = tracer.standins[x._grader_no]
    if found is None:
        return None
    path, src = found
    return {"kind": "standin", "module": path.split(".", 1)[0], "name": _as_written(path, src, tracer), "source": src}


def _as_written(path: str, src, tracer) -> str:
    """The stand-in's name as the student wrote it at its line (`d2l.Inception` for
    `from d2l import tensorflow as d2l`), else its module path."""
    name = _display(path)
    leaf = name.rsplit(".", 1)[-1]
    if src is not None and leaf.isidentifier():
        import linecache

        text = linecache.getline(os.path.join(tracer.root, src["file"]), src["line"])
        hits = re.findall(r"(?<![\w.])((?:[A-Za-z_]\w*\.)*" + re.escape(leaf) + r")(?!\w)", text)
        if hits:
            return hits[0]
    return name

