"""``grader.check()`` inside Jupyter and Colab.

``import grader; grader.check()`` in a notebook grades the notebook as it stands:
the cells that ran, in the order they ran (IPython's input history of this
kernel, ``In[1]``, ``In[2]``, ...; of the calling cell only the lines before the
call).  ``grader.check(model)`` grades the model held by that variable (or built
by that function) of the notebook; ``grader.check("googlenet.py")`` grades a file,
a folder or a notebook on disk.  The report is shown inline (the HTML report,
scoped for an output cell: :mod:`grader.render.fragment`), findings are located
as ``cell N, line M`` where N is the cell's execution count (the ``[N]`` beside
it), and the :class:`grader.report.Report` is returned.

Where the code runs: never in the kernel.  The cells are run again in a separate
process, a child forked from a warm worker (:mod:`grader.workers`) that this
module starts on the first call and keeps for the later ones: the worker imports
TensorFlow and Keras once (the same installation the kernel uses), so later
checks cost one model build.  The worker runs in the bubblewrap sandbox where it
can be made (Linux with user namespaces) and as a plain process otherwise (Colab,
macOS: there the child works in a temporary folder of its own).  Either way the
kernel's variables, model and weights cannot change: the child is another
process, and while it runs the grader's tracer has replaced ``fit``, ``save``,
``save_weights`` and ``load_weights`` with stand-ins, so no training happens and
no weights file is written or read again.

Standard library at import time: TensorFlow is not imported in the kernel by
this module (the kernel has its own, if the student's code imported it).
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["NotebookError", "check", "close", "session_info"]

#: The scratch names of the kernel check (the student's own files keep theirs).
CELLS_FILE = "notebook_cells.py"
DRIVER_FILE = "_grader_run_cells.py"
#: helper .py files of the kernel's working folder that the notebook may import
MAX_HELPER_FILES = 20
MAX_HELPER_BYTES = 1024 * 1024


class NotebookError(RuntimeError):
    """grader.check() cannot grade what it was given; the message says what to do."""


# --------------------------------------------------------------------------- the kernel


def _ipython():
    """The running IPython shell, or None outside IPython (no import of IPython)."""
    get = getattr(builtins, "get_ipython", None)
    if get is None:
        import sys

        mod = sys.modules.get("IPython")
        get = getattr(mod, "get_ipython", None) if mod is not None else None
    try:
        return get() if get is not None else None
    except Exception:  # noqa: BLE001
        return None


def _notebook_name() -> str:
    """The notebook's file name when the kernel knows it (JupyterLab, VS Code), else 'notebook'."""
    for var in ("JPY_SESSION_NAME", "__vsc_ipynb_file__"):
        v = os.environ.get(var)
        if v:
            return os.path.basename(v)
    ip = _ipython()
    v = getattr(ip, "user_ns", {}).get("__vsc_ipynb_file__") if ip is not None else None
    return os.path.basename(v) if isinstance(v, str) and v else "notebook"


_MAGIC_LINE = re.compile(r"^\s*[%!]")


def _parseable(src: str) -> str:
    """The cell with IPython's line magics and shell lines masked (same line count), for ast."""
    return "\n".join("pass" if _MAGIC_LINE.match(line) else line for line in src.split("\n"))


def _grader_names(tree: ast.Module) -> tuple[set, set]:
    """Names bound to the grader package and to its check in this cell."""
    mods, funcs = {"grader"}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "grader" or a.name.startswith("grader."):
                    mods.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module == "grader":
            for a in node.names:
                if a.name == "check":
                    funcs.add(a.asname or a.name)
    return mods, funcs


def _is_check_call(node: ast.AST, mods: set, funcs: set) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            f = sub.func
            if isinstance(f, ast.Attribute) and f.attr == "check" and isinstance(f.value, ast.Name) \
                    and f.value.id in mods:
                return True
            if isinstance(f, ast.Name) and f.id in funcs:
                return True
    return False


def _is_grader_statement(stmt: ast.stmt, mods: set, funcs: set) -> bool:
    if isinstance(stmt, ast.Import):
        return all(a.name == "grader" or a.name.startswith("grader.") for a in stmt.names)
    if isinstance(stmt, ast.ImportFrom):
        return stmt.module == "grader" or (stmt.module or "").startswith("grader.")
    if isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign)) and stmt.value is not None:
        return _is_check_call(stmt.value, mods, funcs)
    return False


def _uses(stmt: ast.stmt, names: set) -> bool:
    return bool(names) and any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(stmt))


def _without_checks(src: str, reports: set | None = None) -> str:
    """The cell with its own grader statements (``import grader``, ``grader.check(...)``)
    turned into ``pass`` lines: the check must not run itself again in the child.
    ``reports`` collects, across cells, the names a check's report was bound to:
    a statement that uses one (``print(report.score)``) is the check's too, since
    the report does not exist where the cells run again."""
    reports = set() if reports is None else reports
    try:
        tree = ast.parse(_parseable(src))
    except SyntaxError:
        return src
    mods, funcs = _grader_names(tree)
    lines = src.split("\n")
    stmts = tree.body
    for i, stmt in enumerate(stmts):
        own = _is_grader_statement(stmt, mods, funcs)
        if own and isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]):
                reports |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
        if not own and not _uses(stmt, reports):
            continue
        lo, hi = stmt.lineno, stmt.end_lineno or stmt.lineno
        # only whole lines: a line shared with another statement is left alone
        shared = any(o is not stmt and (o.lineno <= hi and (o.end_lineno or o.lineno) >= lo) for o in stmts)
        if shared:
            continue
        indent = re.match(r"\s*", lines[lo - 1]).group(0)
        lines[lo - 1] = f"{indent}pass  # grader: the check itself"
        for k in range(lo, hi):
            lines[k] = ""
    return "\n".join(lines)


def _compiles(src: str) -> bool:
    """Whether the cell is Python once its magics are masked: a cell with a syntax
    error ran nothing in the kernel, so it is left out (compile() runs no code)."""
    try:
        compile(_parseable(src), "<cell>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError):
        return False


def _calling_line(ip) -> int | None:
    """The line of the current cell that called grader.check (the outermost frame
    that runs a cell: top-level code whose globals are the kernel's namespace)."""
    import sys

    f = sys._getframe(1)
    line = None
    while f is not None:
        if f.f_code.co_name == "<module>" and f.f_globals is ip.user_ns:
            line = f.f_lineno
        f = f.f_back
    return line


def _before_call(src: str, line: int | None) -> str:
    """The lines of the calling cell before the statement that calls the check."""
    if line is None:
        return ""
    try:
        tree = ast.parse(_parseable(src))
    except SyntaxError:
        return ""
    for stmt in tree.body:
        if stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            return "\n".join(src.split("\n")[: stmt.lineno - 1])
    return ""


def history_cells(ip=None) -> list[str]:
    """The kernel's cells as they ran: ``cells[n - 1]`` is the input of execution
    count n (``In[n]``); the calling cell is cut before the call, and cells that
    did not compile (they ran nothing) are empty."""
    ip = ip or _ipython()
    if ip is None:
        raise NotebookError("grader.check() with no argument grades the notebook it runs in, and this is no "
                            "notebook: pass a file instead, e.g. grader.check('googlenet.py')")
    hist = list(ip.history_manager.input_hist_raw)
    cells = [c if isinstance(c, str) else "" for c in hist[1:]]
    if cells:
        cells[-1] = _before_call(cells[-1], _calling_line(ip))
    reports: set = set()
    return [_without_checks(c, reports) if c.strip() and _compiles(c) else "" for c in cells]


# --------------------------------------------------------------------------- the submission


_DRIVER = '''\
# Written by grader.check(): runs the notebook's cells in the order the kernel ran
# them, each the way a cell runs: an exception ends that cell only (its traceback
# goes to stderr) and the next cell runs; the last one is raised at the end so that
# the grader sees it (it does not count once the model exists).
import os as __grader_os, traceback as __grader_tb
__grader_path = __grader_os.path.join(__grader_os.path.dirname(__grader_os.path.abspath(__file__)), {cells!r})
__grader_cells = {ranges!r}
__grader_last = None
with open(__grader_path, encoding="utf-8") as __grader_f:
    __grader_lines = __grader_f.read().splitlines(keepends=True)
for __grader_start, __grader_end in __grader_cells:
    try:
        exec(compile("\\n" * (__grader_start - 1) + "".join(__grader_lines[__grader_start - 1:__grader_end]),
                     __grader_path, "exec"), globals())
    except BaseException as __grader_e:
        __grader_tb.print_exc()
        __grader_last = __grader_e
        del __grader_e
__grader_raise = __grader_last
del __grader_os, __grader_tb, __grader_path, __grader_cells, __grader_last, __grader_f, __grader_lines
if __grader_raise is not None:
    raise __grader_raise
'''


def _helper_files(folder: Path) -> dict[str, bytes]:
    """The .py files beside the notebook (the kernel's working folder), which its
    cells may import; small ones only."""
    out: dict[str, bytes] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return out
    total = 0
    for p in entries:
        if len(out) >= MAX_HELPER_FILES:
            break
        if p.suffix != ".py" or p.name.startswith(".") or p.name in (CELLS_FILE, DRIVER_FILE) or p.is_symlink():
            continue
        try:
            size = p.stat().st_size
            if not p.is_file() or size > MAX_HELPER_BYTES or total + size > 4 * MAX_HELPER_BYTES:
                continue
            out[p.name] = p.read_bytes()
            total += size
        except OSError:
            continue
    return out


def kernel_submission(cells: list[str], name: str | None = None, folder: Path | None = None):
    """A Submission of the kernel's cells (see :func:`history_cells`) and the trace
    request that runs them cell by cell: (submission, extra request)."""
    from .submission import Submission, _sha, notebook_to_script

    name = name or _notebook_name()
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None}
                    for c in cells]}
    script, line_map, code_cells, written = notebook_to_script(json.dumps(nb).encode(), name)
    ranges = []
    for n in range(1, len(code_cells) + 1):
        lines = [i for i, m in enumerate(line_map, 1) if m and m[0] == n]
        if lines and code_cells[n - 1].strip():
            ranges.append([lines[0], lines[-1]])
    files = dict(_helper_files(folder or Path.cwd()))
    for fname, data in written.items():  # %%writefile cells
        files[fname] = data
    files[CELLS_FILE] = script.encode()
    files[DRIVER_FILE] = _DRIVER.format(cells=CELLS_FILE, ranges=ranges).encode()
    sid = Path(name).stem or "notebook"
    sub = Submission(sid, name, "ipynb", files, CELLS_FILE, _sha({CELLS_FILE: script.encode()}), line_map,
                     name, code_cells, [])
    return sub, {"entry": DRIVER_FILE}


# --------------------------------------------------------------------------- the session


@dataclass
class _Session:
    """What the kernel keeps between checks: the warm worker and the reference graphs."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    pool: object = None
    pool_sandboxed: bool = False
    pool_problem: str = ""  # why there is no warm worker ("" when there is one or none was tried)
    refs: dict = field(default_factory=dict)  # reference_key -> graph
    checks: int = 0
    last_seconds: float | None = None


_SESSION = _Session()


def _pool(use_sandbox: bool):
    """The warm worker, started on the first check (None when it cannot start:
    then every check starts a fresh interpreter, about 3 s more)."""
    from .workers import WarmPool

    s = _SESSION
    if s.pool is not None and s.pool_sandboxed != use_sandbox:
        s.pool.close()  # asked for the other kind: replace it
        s.pool = None
    if s.pool is not None or s.pool_problem:
        return s.pool
    try:
        pool = WarmPool(1, use_sandbox=use_sandbox)
    except Exception as e:  # noqa: BLE001 - no warm worker is slower, never wrong
        s.pool_problem = f"{type(e).__name__}: {e}"
        return None
    s.pool, s.pool_sandboxed = pool, use_sandbox
    import atexit

    atexit.register(close)
    return pool


def close() -> None:
    """Stop the warm worker (the next check starts a new one)."""
    s = _SESSION
    with s.lock:
        pool, s.pool, s.pool_problem = s.pool, None, ""
    if pool is not None:
        pool.close()


def session_info() -> dict:
    """For benchmarks and curious students: the worker, how many checks ran, the last duration."""
    s = _SESSION
    return {"warm_worker": s.pool is not None, "sandboxed": s.pool_sandboxed, "problem": s.pool_problem,
            "checks": s.checks, "last_seconds": s.last_seconds}


def _reference(assignment):
    from . import check as grading

    key = grading.reference_key(assignment)
    ref = _SESSION.refs.get(key)
    if ref is None:
        ref = _SESSION.refs[key] = grading.reference_graph(assignment)
    return ref


# --------------------------------------------------------------------------- check


def _target_request(target, ip) -> dict:
    """For a model (or a function that builds one) of the notebook: where the child
    finds it after running the cells again (the variable's name)."""
    if ip is None:
        raise NotebookError("grader.check(model) finds the model among the notebook's variables, and this is no "
                            "notebook: pass a file instead, e.g. grader.check('googlenet.py')")
    names = sorted(k for k, v in ip.user_ns.items() if v is target and not k.startswith("_") and k not in ("In", "Out"))
    if not names:
        raise NotebookError("this model is not held by any variable of the notebook, so it cannot be built again "
                            "apart from your kernel: assign it first (model = ...), then grader.check(model); "
                            "or call grader.check() to grade the model your cells build")
    if callable(target) and not _is_keras_model(target):
        return {"objects": [], "builders": names}
    return {"objects": names, "builders": []}


def _is_keras_model(obj) -> bool:
    import sys

    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


def check(target=None, *, assignment=None, lang: str | None = None, display: bool = True,
          timeout: float | None = None, sandbox: bool | None = None):
    """Grade the notebook as it stands and show the report in the output cell.

    ``target``: nothing (the cells that ran, in order), a Keras model or a
    function that builds one (a variable of this notebook), or the path of a
    ``.py``, ``.ipynb``, folder or ``.zip``.  ``assignment``: an assignment file
    (default: the paper's GoogLeNet).  ``lang``: the report's language (``en``,
    ``ko``; default ``$GRADER_LANG`` or English).  ``sandbox``: run the worker in
    bubblewrap (default: where it works).  Returns the
    :class:`grader.report.Report` (``.score``, ``.findings``, ``.roots()``,
    ``.to_json()``).  Your code runs again in a separate process; nothing in
    your kernel changes.
    """
    from . import check as grading, tfenv, trace
    from .assignment import AssignmentError, load as load_assignment
    from .submission import LoadError, load

    t0 = time.monotonic()
    lang = lang or os.environ.get("GRADER_LANG") or "en"
    st = tfenv.status()
    if not st.ok:
        from .dist import CPU_EXTRA, DISTRIBUTION

        raise NotebookError(f"{st.problem}; install TensorFlow 2.16+ (pip install tensorflow), or the grader "
                            f"with its [{CPU_EXTRA}] extra: pip install '{DISTRIBUTION}[{CPU_EXTRA}]'")
    try:
        A = load_assignment(assignment)
    except AssignmentError as e:
        raise NotebookError(f"invalid assignment file: {e}") from None
    ip = _ipython()
    extra: dict = {}
    if isinstance(target, (str, os.PathLike)):
        path = Path(target)
        if not path.exists():
            raise NotebookError(f"{path}: no such file or folder (the kernel's working folder is {Path.cwd()})")
        try:
            sub = load(path, A.entry_files)
        except LoadError as e:
            raise NotebookError(str(e)) from None
    else:
        if target is not None:
            extra.update(_target_request(target, ip))
        sub, more = kernel_submission(history_cells(ip))
        extra.update(more)
    from .sandbox import sandbox_status

    available = sandbox_status().available
    if sandbox and not available:
        raise NotebookError(f"sandbox=True, but bubblewrap cannot run here: {sandbox_status().reason}")
    use_sandbox = available if sandbox is None else bool(sandbox)
    with _SESSION.lock:
        pool = _pool(use_sandbox)  # first: the worker starts while the reference loads
        ref = _reference(A)
        t_grade = time.time()
        res = trace.run_trace(sub, A, use_sandbox=use_sandbox, timeout_s=timeout, pool=pool,
                              extra_request=extra or None)
        report = grading.build_report(sub, res, A, ref, t_grade)
        _SESSION.checks += 1
    html = None
    if display:
        from .render.fragment import render_fragment

        html = render_fragment(report, lang=lang, source_files=sub.source_texts(), part_titles=A.titles(lang))
        _show(html)
    _SESSION.last_seconds = round(time.monotonic() - t0, 3)
    return report


def _show(html: str) -> None:
    try:
        from IPython.display import HTML, display
    except ImportError:  # not in IPython: nothing to show the HTML in
        return
    display(HTML(html))
