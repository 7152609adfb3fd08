"""The entry point of the child (``main``), its seal and its one result.

``main`` reads the request, takes the seal, imports Keras, puts the tracer in
place (hooks, stand-ins, Keras 2 mappings, the importer), runs the student's
entry file as ``__main__`` statement by statement, finds and traces the model,
probes the block functions and writes one JSON document (schema
``grader.trace/1``) to the result channel, file descriptor 3.

The trace is sealed: the parent leaves a fresh random key in the scratch folder
for each run (``seal_file`` in the request); it is read into an HMAC object and
deleted before any student code runs (``take_seal``), and the trace goes out as
``grader.trace-seal/1 <hmac-sha256 hex>\n<json>``. The HMAC object is a local of
``main`` (and of ``emit``'s closure) only, never a module global. A submission
that writes a trace of its own, or replays one from another run, cannot seal
it. (One that digs the HMAC object out of this process's memory can: see the
README's sandbox section for what the parent then still checks.)
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import time

from . import hooks
from .importer import GraderImporter, install_import_guard
from .keras1 import install_keras1
from .legacy import install_legacy
from .outcome import grade_script
from .calls import CallRecorder
from .runner import run_script
from .standins import _STATE
from .stubs import install_stubs
from .tfops import install_tf_ops
from .tracer import Tracer, _jsonable

# Taken before any student code runs: a submission that patches json.dumps or
# os.write to lie does not change what this process reports.
_dumps = json.dumps
_fdopen = os.fdopen
_exit = os._exit
try:  # the C HMAC: its key lives in OpenSSL, never as a Python object
    from _hashlib import hmac_new as _hmac_new
except ImportError:  # pragma: no cover - Python built without OpenSSL
    import hmac as _hmac

    def _hmac_new(key, digestmod):
        return _hmac.new(key, digestmod=digestmod)

SEAL_PREFIX = b"grader.trace-seal/1 "
SEAL_BYTES = 32

TRACE_SCHEMA = "grader.trace/1"


def take_seal(path):
    """The run's seal: read the key file, delete it, and keep the key only
    inside an HMAC object (the bytes read are zeroed). None without a key file."""
    if not path:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    key = bytearray(SEAL_BYTES)
    try:
        n = os.readv(fd, [key])
    finally:
        os.close(fd)
        try:
            os.unlink(path)
        except OSError:
            pass
    try:
        return _hmac_new(key, digestmod="sha256") if n == SEAL_BYTES else None
    finally:
        key[:] = bytes(SEAL_BYTES)


def main(argv):
    t0 = time.time()
    with open(argv[1], encoding="utf-8") as f:
        req = json.loads(f.read())
    # First of all, long before the student's first line: the key leaves the disk.
    seal = take_seal(req.get("seal_file"))
    out_fd = int(req.get("result_fd", 3))
    result: dict = {"schema": TRACE_SCHEMA, "status": "failed", "error": None, "notes": [], "found": None,
                    "candidates": [], "graph": None, "probe": None, "timings": {}}

    def emit():
        data = _dumps(result, default=_jsonable).encode("utf-8")
        if seal is not None:
            mac = seal.copy()
            mac.update(data)
            data = SEAL_PREFIX + mac.hexdigest().encode("ascii") + b"\n" + data
        try:
            with _fdopen(out_fd, "wb", closefd=True) as f:
                f.write(data)
        except OSError:
            pass

    entry = os.path.realpath(req["entry"])
    root = os.path.realpath(req.get("root", os.path.dirname(entry)))
    os.chdir(os.path.dirname(entry))
    for p in req.get("sys_path", []):
        sys.path.append(p)
    for p in (os.path.dirname(entry), root):
        if p not in sys.path:
            sys.path.insert(0, p)
    tracer = Tracer(root)
    try:
        import keras  # noqa: F401
        try:
            import tensorflow  # noqa: F401  (so tf.keras datasets get their stand-ins too)
        except Exception:
            pass
    except Exception as e:
        result["error"] = {"type": type(e).__name__, "message": f"cannot import Keras: {e}", "source": None, "phase": "setup"}
        emit()
        return
    result["timings"]["import"] = round(time.time() - t0, 3)
    hooks.install(tracer)
    install_stubs(tracer)

    _STATE["tracer"] = tracer
    sys.meta_path.append(GraderImporter(tracer, req.get("never_stub", [])))
    install_import_guard(tracer)
    for install in (install_legacy, install_keras1, install_tf_ops):
        try:
            install(tracer)
        except Exception:  # a Keras whose internals moved: run the code without these mappings
            pass

    g = {"__name__": "__main__", "__file__": entry, "__builtins__": builtins}
    # a solution file: the calls of the block functions the assignment names
    recorder = CallRecorder(req["record_calls"], tracer) if req.get("record_calls") else None
    if recorder is not None:
        recorder.start()
    run = run_script(tracer, entry, g)
    result["timings"]["run"] = round(time.time() - t0, 3)
    if run.syntax is not None:
        e = run.syntax
        result["error"] = {"type": type(e).__name__, "message": f"{e.msg}", "phase": "compile",
                           "source": {"file": tracer.rel(e.filename or entry), "line": e.lineno or 1}}
    else:
        grade_script(run, g, req, tracer, result)
    if recorder is not None:
        result["calls"] = recorder.stop()
    result["notes"] = tracer.notes[:200]
    result["overflow"] = tracer.overflow
    result["timings"]["total"] = round(time.time() - t0, 3)
    emit()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    _exit(0)
