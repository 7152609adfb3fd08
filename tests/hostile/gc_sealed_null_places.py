# expect: integrity
# Reaches into the tracer through the garbage collector: finds the tracer's
# `emit` closure among gc.get_objects() (its cells hold the result and the
# seal), replaces the result by a real trace of a correct GoogLeNet recorded
# beforehand with every place set to null (no line that called or built any
# layer, so the places check has nothing to refuse), has the tracer seal and
# send it, and exits. The file builds no network.
# tests/test_hostile.py embeds a trace that the grader records of
# tests/data/cases/correct_functional.py (zlib + base64).
import base64
import gc
import json
import os
import sys
import zlib

TRACE = b""
forged = json.loads(zlib.decompress(base64.b64decode(TRACE)))
for g in [forged["graph"], forged.get("probe") or {}] + list(forged.get("probes") or []):
    for node in g.get("nodes") or []:
        node["source"] = node["ctor"] = None
        node["stack"] = []
    g["input_sources"] = [None for _ in g.get("input_sources") or []]
    if isinstance(g.get("error"), dict):
        g["error"]["source"] = None
forged["found"] = None
forged["statement_errors"] = []

emit = result = None
for obj in gc.get_objects():
    code = getattr(obj, "__code__", None)
    if code is not None and code.co_name == "emit" and getattr(obj, "__closure__", None):
        for cell in obj.__closure__:
            try:
                v = cell.cell_contents
            except ValueError:
                continue
            if isinstance(v, dict) and v.get("schema") == "grader.trace/1":
                emit, result = obj, v
    if emit is not None:
        break
if emit is None:
    print("GC did not find the tracer", file=sys.stderr, flush=True)
    os._exit(0)
print("GC found the tracer's emit", file=sys.stderr, flush=True)
result.clear()
result.update(forged)
emit()
os._exit(0)
