# expect: no_model
# Builds nothing: writes a made-up "perfect" trace (an empty graph) to every
# descriptor it inherited, the tracer's result channel among them, and leaves
# before the tracer can write its own.
import json
import os

fake = {"schema": "grader.trace/1", "status": "ok", "error": None, "notes": [], "candidates": [],
        "found": {"how": "object", "name": "model"}, "probe": None,
        "graph": {"nodes": [], "aliases": [], "inputs": [], "outputs": [], "input_sources": [],
                  "model_class": "Functional", "total_params": 13378280}}
data = json.dumps(fake).encode()
for fd in range(1024):
    try:
        os.write(fd, data)
    except OSError:
        pass
os._exit(0)
