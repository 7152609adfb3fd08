"""The student's file run the way a notebook runs with errors allowed: each
top-level statement in turn (``script_statements``, ``run_script``), one that
raises is recorded (``Script.failures``) and the next runs; then what each
failure says (``explain``, ``error_record``), repeats folded and a NameError
linked to the failed statement that should have defined its name.
"""

from __future__ import annotations

import __future__
import ast
import re
import sys
import traceback

from .standins import standin_in
from .tracer import Tracer

_FRAME_LINE = re.compile(r'File "([^"]+)", line (\d+), in ')


def explain(e: BaseException, tracer: Tracer):
    """(message, source): the meaningful part of an exception's message, and the
    student's line named inside it (TensorFlow's "in user code:" errors list the
    frames of a traced function in the text, not in the traceback)."""
    text = str(e) or repr(e)
    src = None
    if "in user code:" in text:
        frames = [(f, int(n)) for f, n in _FRAME_LINE.findall(text) if tracer.is_student_file(f)]
        if frames:
            src = {"file": tracer.rel(frames[-1][0]), "line": frames[-1][1]}
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        last = lines[-1] if lines else text
        name = type(e).__name__
        text = last[len(name) + 2:] if last.startswith(name + ": ") else last
    elif text.startswith("Exception encountered when calling"):
        paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        keep = [p for p in paras[1:] if not p.startswith("Arguments received by")]
        text = "\n\n".join(keep) or text
    # autograph's generated names (outer_factory.<locals>.inner_factory.<locals>.tf__f) are the student's f
    text = re.sub(r"(?:\w+\.<locals>\.)*tf__(\w+)", r"\1", text)
    return text[:4000], src


def error_record(e: BaseException, tracer: Tracer, phase: str) -> dict:
    msg, src = explain(e, tracer)
    rec = {"type": type(e).__name__, "message": msg, "phase": phase,
           "source": src or tracer.student_source_from_tb(e.__traceback__),
           "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]}
    cause = standin_in(e, e.__traceback__)
    if cause is not None:
        rec["cause"] = cause
        rec["source"] = cause["source"] or rec["source"]  # the line that used the missing package
    return rec


# -- running the script, statement by statement ----------------------------------------------


def _is_main_guard(node) -> bool:
    if not (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1
            and isinstance(node.test.ops[0], ast.Eq)):
        return False
    sides = [node.test.left, node.test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    consts = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and consts == ["__main__"]


def _walk_local(node):
    """The nodes of a statement that run when it runs (not the bodies of the
    functions, classes and lambdas it defines)."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        for child in ast.iter_child_nodes(n):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield child  # its name is bound, its body does not run
                todo.extend(child.decorator_list)
                continue
            if isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue
            todo.append(child)


def bound_names(node) -> set:
    out = set()
    for n in _walk_local(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.Import):
            out.update((a.asname or a.name.split(".")[0]) for a in n.names)
        elif isinstance(n, ast.ImportFrom):
            out.update((a.asname or a.name) for a in n.names if a.name != "*")
    return out


def loaded_names(node) -> set:
    return {n.id for n in _walk_local(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def script_statements(src: str, filename: str):
    """(tree, [(statement, code, in_main_block)]): each top-level statement, and each
    statement of an ``if __name__ == "__main__":`` block, compiled on its own with
    the real file name, so that line numbers stay exact. Raises SyntaxError."""
    tree = ast.parse(src, filename=filename)
    flags = 0
    out = []

    def add(node, in_main):
        nonlocal flags
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for a in node.names:
                feature = getattr(__future__, a.name, None)
                if feature is not None:
                    flags |= feature.compiler_flag
        code = compile(ast.Module(body=[node], type_ignores=[]), filename, "exec", flags=flags, dont_inherit=True)
        out.append((node, code, in_main))

    for node in tree.body:
        if _is_main_guard(node):
            for sub in node.body:
                add(sub, True)
        else:
            add(node, False)
    return tree, out


def _keras_context(tracer: Tracer, tb, node, g) -> tuple[set, bool]:
    """The KerasTensors the failing code was working with (ids the tracer knows),
    and whether it failed inside a Layer's or Model's own methods (constructing,
    calling, adding layers): how a failure is told to be part of building a network."""
    from keras.src.backend.common.keras_tensor import KerasTensor
    from keras.src.layers.layer import Layer

    tids: set = set()
    in_layer = False

    def take(v, depth=0):
        if isinstance(v, KerasTensor):
            if tracer.known(v):
                tids.add(tracer.tid(v))
        elif depth == 0 and isinstance(v, (list, tuple)):
            for x in v[:256]:
                take(x, 1)
        elif depth == 0 and isinstance(v, dict):
            for x in list(v.values())[:256]:
                take(x, 1)

    for frame, _ in traceback.walk_tb(tb):
        if frame.f_locals is frame.f_globals:
            continue
        loc = frame.f_locals
        if isinstance(loc.get("self"), Layer):
            in_layer = True  # raised in a layer's or a model's own code (the student's, or Keras's)
        if tracer.is_student_file(frame.f_code.co_filename):
            for v in list(loc.values())[:500]:
                take(v)
    for name in loaded_names(node):
        take(g.get(name))
    return tids, in_layer


class Script:
    """The outcome of running the student's file statement by statement."""

    def __init__(self):
        self.syntax = None  # the SyntaxError that kept the file from running at all
        self.failures: list[dict] = []  # the statements that raised, in order
        self.nodes: list = []  # the tracer's record of the whole run (before any reset)
        self.aliases: list = []


def run_script(tracer: Tracer, entry: str, g: dict) -> Script:
    """Run the file the way a notebook runs with errors allowed: each statement in
    turn in the module's globals; one that raises is recorded and the next runs.
    ``sys.exit`` ends the run, as it would end the script."""
    run = Script()
    src = open(entry, encoding="utf-8", errors="replace").read()
    try:
        tree, stmts = script_statements(src, entry)
    except SyntaxError as e:
        run.syntax = e
        return run
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        run.syntax = SyntaxError(str(e), (entry, 1, 0, ""))
        return run
    doc = ast.get_docstring(tree, clean=False)
    if doc is not None:
        g["__doc__"] = doc
    sys.argv = [entry]
    for i, (node, code, in_main) in enumerate(stmts):
        tracer.stmt = i
        start = (len(tracer.nodes), len(tracer.aliases))
        try:
            exec(code, g)
        except SystemExit:
            break
        except Exception as e:  # noqa: BLE001 - anything the student's code raises is a finding
            run.failures.append(_failure(tracer, e, node, i, start, g))
        except BaseException:  # KeyboardInterrupt, GeneratorExit: the script ended there
            break
    tracer.stmt = -1
    run.nodes, run.aliases = tracer.nodes, tracer.aliases
    return run


def _failure(tracer: Tracer, e: Exception, node, index: int, start: tuple, g: dict) -> dict:
    rec = error_record(e, tracer, "run")
    tids, in_layer = _keras_context(tracer, e.__traceback__, node, g)
    layer_error = any(n.get("error") for n in tracer.nodes[start[0]:])
    # The network as far as it was built: up to the layer that failed (a Concatenate
    # of mismatched branches), or, when the student's own code failed (a NameError
    # halfway through a block), up to the statement that failed.
    mark = (len(tracer.nodes), len(tracer.aliases)) if layer_error else start
    rec.update({
        "line": node.lineno, "stmt": index, "stmts": {index}, "count": 1, "caused_by": None, "role": "script",
        "names": bound_names(node), "tids": tids,
        "build_like": bool(tids) or in_layer or layer_error,
        "mark": mark[0], "alias_mark": mark[1],
        "import": isinstance(node, (ast.Import, ast.ImportFrom)),
        "missing": getattr(e, "name", None) if isinstance(e, NameError) else None,
    })
    if isinstance(e, ModuleNotFoundError) and e.name and e.name.split(".")[0] not in sys.modules:
        rec["module"] = e.name  # a package that is not there (one the assignment will not stub)
    return rec


def link_failures(failures: list[dict]) -> list[dict]:
    """Fold repeats (the same error at the same line, e.g. one inception function
    failing in nine blocks) and link a NameError to the failed statement that
    should have defined the name."""
    out: list[dict] = []
    first: dict = {}  # (type, line or message) -> the failure kept for it
    for f in failures:
        src = f["source"]  # a dict: {"file", "line"}
        key = (f["type"], tuple(sorted(src.items()))) if src else (f["type"], f["message"])
        twin = first.get(key)
        if twin is not None:
            twin["count"] += 1
            twin["names"] |= f["names"]
            twin["tids"] |= f["tids"]
            twin["build_like"] = twin["build_like"] or f["build_like"]
            twin["stmts"].add(f["stmt"])
            continue
        if f["missing"]:
            f["caused_by"] = next((k for k in range(len(out) - 1, -1, -1) if f["missing"] in out[k]["names"]), None)
        first[key] = f
        out.append(f)
    return out


def name_cause(rec: dict, failures: list[dict]):
    """A NameError whose name a failed statement should have defined (a failed
    import): the cause is that statement, at its line."""
    if rec.get("type") not in ("NameError", "UnboundLocalError"):
        return None, None
    m = re.match(r"(?:cannot access free variable |name )'(\w+)'", rec.get("message", ""))
    missing = rec.get("missing") or (m.group(1) if m else None)
    if not missing:
        return None, None
    for k in range(len(failures) - 1, -1, -1):
        f = failures[k]
        if missing in f["names"] and f is not rec and f["source"] != rec.get("source"):
            return k, missing
    return None, None


def graph_tids(ins, outs, nodes, aliases) -> set:
    """Every tensor id the graph between ``ins`` and ``outs`` is made of."""
    producer = {}
    for n in nodes:
        for t in n.get("outputs", []):
            producer.setdefault(t, n)
    partners: dict = {}
    for a, b in aliases:
        partners.setdefault(a, []).append(b)
        partners.setdefault(b, []).append(a)
    seen = set(ins)
    todo = list(outs)
    while todo and len(seen) < 200000:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        n = producer.get(t)
        if n is not None:
            todo.extend(n.get("inputs", []))
        todo.extend(partners.get(t, []))
    return seen




def model_nodes(ins, nodes, aliases) -> list:
    """The nodes the model's input flows through (and the containers holding
    them), in their order. Layers the script also ran eagerly on concrete
    tensors (a textbook's loop printing each stage's output shape, training,
    a prediction) are calls outside the model's graph: not the model."""
    partners: dict = {}
    for a, b in aliases:
        partners.setdefault(a, []).append(b)
        partners.setdefault(b, []).append(a)
    consumers: dict = {}
    for n in nodes:
        for t in n.get("inputs", []):
            consumers.setdefault(t, []).append(n)
    reached, kept, todo = set(), set(), list(ins)
    while todo:
        t = todo.pop()
        if t in reached:
            continue
        reached.add(t)
        todo.extend(partners.get(t, []))
        for n in consumers.get(t, []):
            if n["id"] not in kept:
                kept.add(n["id"])
                todo.extend(n.get("outputs", []))
    byid = {n["id"]: n for n in nodes}
    for n in nodes:  # what ran inside a kept layer is its own (a Lambda's raw TF ops), parents come first
        if n.get("parent") in kept:
            kept.add(n["id"])
    for nid in list(kept):
        p = byid[nid].get("parent")
        while p is not None and p in byid and p not in kept:
            kept.add(p)
            p = byid[p].get("parent")
    # a node without inputs (a constant, a variable read) is left as it was
    return [n for n in nodes if n["id"] in kept or not n.get("inputs")]
