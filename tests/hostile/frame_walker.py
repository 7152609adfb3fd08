# expect: no_model
# Reaches into the tracer itself: walks up the interpreter's frames to the
# tracer's main function, puts a real trace of a correct GoogLeNet (recorded
# beforehand, embedded below) in place of the result, and has the tracer's own
# `emit` seal and send it. The seal is then genuine: only the parent's own
# checks stand between this trace and a grade.
# tests/test_hostile.py embeds a trace that the grader records of
# tests/data/cases/correct_functional.py (zlib + base64).
import base64
import json
import os
import sys
import zlib

TRACE = b""
copied = json.loads(zlib.decompress(base64.b64decode(TRACE)))

frame = sys._getframe()
while frame is not None:
    emit = next((v for v in frame.f_locals.values() if callable(v) and getattr(getattr(v, "__code__", None), "co_name", "") == "emit"), None)
    result = next((v for v in frame.f_locals.values() if isinstance(v, dict) and v.get("schema") == "grader.trace/1"), None)
    if emit is not None and result is not None:
        break
    frame = frame.f_back
if frame is None:
    print("WALKER did not find the tracer", file=sys.stderr, flush=True)
    os._exit(0)
print("WALKER found the tracer's emit in " + frame.f_code.co_name, file=sys.stderr, flush=True)
result.clear()
result.update(copied)
emit()
os._exit(0)
