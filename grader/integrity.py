"""Every graded layer is backed by a line of the student's own source.

The trace says, for each layer, where it was constructed (``ctor``: the
student's innermost frame when ``Layer.__init__`` ran). A trace is sealed by
the tracer, but code in the tracer's process can reach the sealing object
(README, "Only the tracer's trace counts"), so the seal says nothing about
what the student wrote. This module reads the submission's files (by their
AST, never running them) and checks that each layer's construction line is a
line of the submission whose code constructs a layer of that kind:

- a call whose callee names the layer's class (``Conv2D``, ``layers.Conv2D``,
  an import alias or a name bound to it, the functional helpers such as
  ``concatenate``, the Keras 1 and 2 spellings);
- or a call of a function or class of the submission's own from which such a
  call is reached (through its body, and the functions and classes it calls);
- or ``super().__init__`` inside the student's class of that layer (a layer
  class of one's own is constructed there);
- or a call whose callee is computed (``getattr(layers, kind)(...)``, a class
  taken from a table) in a file that names the class somewhere.

A layer with no construction line, or with one that does not construct it, is
a problem: the report withholds the score (``integrity``) and the gradebook
flags the submission. This catches traces forged or laundered inside the
process (places set to null, or pointed at lines that build nothing of the
kind); it does not catch a submission that copies a correct network into its
own file, which is a plagiarism question, not a trace question.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .submission import parse_python

#: classes whose construction Keras does itself (never the student's line)
SKIP_CLASSES = {"InputLayer"}
#: other names a layer class is constructed by (normalized: lower case, no underscores)
SYNONYMS = {
    "conv2d": {"convolution2d", "conv2d"},
    "maxpooling2d": {"maxpool2d", "maxpooling2d"},
    "averagepooling2d": {"avgpool2d", "averagepooling2d", "averagepool2d"},
    "globalaveragepooling2d": {"globalavgpool2d", "globalaveragepooling2d"},
    "globalmaxpooling2d": {"globalmaxpool2d", "globalmaxpooling2d"},
    "dense": {"dense"},
    "concatenate": {"concatenate", "concat", "merge"},
    "add": {"add", "merge"},
    "multiply": {"multiply", "merge"},
    "average": {"average", "merge"},
    "zeropadding2d": {"zeropadding2d"},
    "batchnormalization": {"batchnormalization", "batchnorm"},
}
MAX_DEPTH = 12
MAX_PROBLEMS_SHOWN = 3


def norm(name: str) -> str:
    return name.replace("_", "").lower()


def _spellings(cls: str) -> set:
    n = norm(cls)
    return SYNONYMS.get(n, {n})


def _callee(node) -> str | None:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


class _File:
    """What one file's code constructs: its calls by line, its functions and
    classes and what they call, its aliases, and the names it mentions."""

    def __init__(self, tree: ast.AST):
        self.calls: dict = {}  # line -> [ast.Call]
        self.defs: dict = {}  # name -> set of callee names inside it
        self.bases: dict = {}  # class name -> base names
        self.aliases: dict = {}  # name -> names it may stand for
        self.mentioned: set = set()  # normalized names anywhere
        self.class_at: dict = {}  # line -> the innermost class enclosing it
        for n in ast.walk(tree):
            if isinstance(n, ast.Call):
                end = getattr(n, "end_lineno", None) or n.lineno
                for ln in range(n.lineno, end + 1):
                    self.calls.setdefault(ln, []).append(n)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = {c for c in (_callee(x) for x in ast.walk(n) if isinstance(x, ast.Call)) if c}
                inner |= {x.id for x in ast.walk(n) if isinstance(x, ast.Name)}
                self.defs.setdefault(n.name, set()).update(inner)
                if isinstance(n, ast.ClassDef):
                    self.bases[n.name] = {b.id if isinstance(b, ast.Name) else b.attr for b in n.bases
                                          if isinstance(b, (ast.Name, ast.Attribute))}
                    for ln in range(n.lineno, (getattr(n, "end_lineno", None) or n.lineno) + 1):
                        self.class_at[ln] = n.name  # walk order is outer first: inner classes overwrite
            if isinstance(n, ast.alias) and n.asname:
                self.aliases.setdefault(n.asname, set()).add(n.name.rsplit(".", 1)[-1])
            if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None:
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                names = {x.id if isinstance(x, ast.Name) else x.attr for x in ast.walk(n.value)
                         if isinstance(x, (ast.Name, ast.Attribute))}
                for t in targets:
                    for x in ast.walk(t):
                        if isinstance(x, ast.Name):
                            self.aliases.setdefault(x.id, set()).update(names)
            if isinstance(n, ast.Name):
                self.mentioned.add(norm(n.id))
            elif isinstance(n, ast.Attribute):
                self.mentioned.add(norm(n.attr))
            elif isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) < 80:
                self.mentioned.add(norm(n.value))


class Sources:
    """The submission's Python files, parsed once."""

    def __init__(self, files: dict):
        self.files = files
        self.cache: dict = {}

    def of(self, name: str) -> _File | None:
        if name not in self.cache:
            data = self.files.get(name)
            tree = parse_python(data) if data is not None and name.endswith(".py") else None
            self.cache[name] = _File(tree) if tree is not None else None
        return self.cache[name]

    def _defined(self, name: str):
        """The files that define a function or class of that name."""
        return [f for f in (self.of(k) for k in self.files) if f is not None and name in f.defs]

    def constructs(self, f: _File, callee: str, kinds: set, depth: int = 0, seen=None) -> bool:
        """Whether a call of ``callee`` in file ``f`` constructs one of ``kinds``."""
        seen = set() if seen is None else seen
        if callee in seen or depth > MAX_DEPTH:
            return False
        seen.add(callee)
        if norm(callee) in kinds:
            return True
        for other in f.aliases.get(callee, ()):  # Conv = layers.Conv2D; from keras.layers import Conv2D as C
            if self.constructs(f, other, kinds, depth + 1, seen):
                return True
        for g in self._defined(callee):  # a function or class of the student's: what it calls
            if any(self.constructs(g, c, kinds, depth + 1, seen) for c in g.defs[callee]):
                return True
        return False

    def problem(self, node: dict) -> str | None:
        """Why the node's construction line does not back it (None: it does)."""
        cls = node.get("class", "")
        what = f"{cls} {str(node.get('name', ''))[:60]!r}"
        src = node.get("ctor")
        if not isinstance(src, dict):
            return f"{what} has no construction line in the submission"
        f = self.of(src.get("file", ""))
        where = f"{src.get('file')}:{src.get('line')}"
        if f is None:
            return f"{what} is placed at {where}, not a Python file of the submission"
        calls = f.calls.get(src.get("line"), [])
        if not calls:
            return f"{what} is placed at {where}, a line that constructs nothing"
        kinds = _spellings(cls)
        if cls == "Lambda" and str(node.get("name", "")).startswith("tf."):
            # a TensorFlow function the student called on a Keras tensor, wrapped by the
            # tracer as Keras 2 did (named after the function): the line must call it
            fn = re.sub(r"_\d+$", "", str(node["name"]).rsplit(".", 1)[-1])
            if any(_callee(c) == fn for c in calls):
                return None
        for c in calls:
            name = _callee(c)
            if name is None:  # a computed callee: getattr(layers, kind)(...), TABLE[kind](...)
                if kinds & f.mentioned or any(self.constructs(f, m, kinds) for m in _names_in(c.func)):
                    return None
                continue
            if name == "__init__" and f.class_at.get(src["line"]) is not None:
                if self._is_class_of(f.class_at[src["line"]], cls):
                    return None
                continue
            if self.constructs(f, name, kinds):
                return None
        return f"{what} is placed at {where}, whose code does not construct a {cls}"

    def _is_class_of(self, enclosing: str, cls: str, depth: int = 0) -> bool:
        """``enclosing`` (a class of the submission) is ``cls`` or one of its bases."""
        if norm(enclosing) == norm(cls):
            return True
        if depth > MAX_DEPTH:
            return False
        for f in self._defined(cls):
            for b in f.bases.get(cls, ()):
                if self._is_class_of(enclosing, b, depth + 1):
                    return True
        return False


def _names_in(expr) -> list:
    return [x.id if isinstance(x, ast.Name) else x.attr for x in ast.walk(expr) if isinstance(x, (ast.Name, ast.Attribute))]


@dataclass(frozen=True)
class Problems:
    count: int  # layers not backed by the submission's source
    layers: int  # layers checked
    shown: tuple  # the first few, as sentences


def check(g: dict | None, files: dict) -> Problems | None:
    """The graded layers of a (validated) trace graph that no line of ``files`` backs; None if all are."""
    if not g:
        return None
    src = Sources(files)
    bad, checked = [], 0
    for n in g.get("nodes") or []:
        if n.get("kind") != "layer" or n.get("container") or n.get("class") in SKIP_CLASSES:
            continue
        checked += 1
        p = src.problem(n)
        if p is not None:
            bad.append(p)
    if not bad:
        return None
    return Problems(len(bad), checked, tuple(bad[:MAX_PROBLEMS_SHOWN]))
