# expect: no_model
# Looks for the run's seal key everywhere a program can look without reading
# the tracer's memory: the files of its folder (the request file among them),
# /tmp, the environment, its command line, every descriptor it has open. It
# prints what it saw to stderr, seals a made-up perfect trace with the first
# key-sized secret it found (or sends it unsealed when it found none) to every
# descriptor, and leaves.
import hashlib
import hmac
import json
import os
import stat
import sys

seen = {"files": [], "fds": [], "env": sorted(os.environ), "candidates": 0, "keys": []}
candidates = []  # (where it was found, bytes)
for folder in (".", "/tmp", os.path.expanduser("~")):
    try:
        names = os.listdir(folder)
    except OSError:
        continue
    for name in names:
        path = os.path.join(folder, name)
        seen["files"].append(path)
        try:
            with open(path, "rb") as f:
                blob = f.read(1 << 20)
        except OSError:
            continue
        candidates.append((path, blob))
        try:  # any string in a JSON file (the request) might be a key, or one in hex
            for k, v in json.loads(blob).items():
                if isinstance(v, str):
                    candidates.append((f"{path}:{k}", v.encode()))
                    try:
                        candidates.append((f"{path}:{k} (hex)", bytes.fromhex(v)))
                    except ValueError:
                        pass
        except Exception:
            pass
for fd in sorted(int(x) for x in os.listdir("/proc/self/fd")):
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        continue  # the descriptor listdir itself used
    seen["fds"].append(fd)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):  # a pipe would block or eat our own output
            with open(f"/proc/self/fd/{fd}", "rb") as f:
                candidates.append((f"fd {fd}", f.read(1 << 16)))
    except OSError:
        pass
for p in ("/proc/self/environ", "/proc/self/cmdline"):
    try:
        with open(p, "rb") as f:
            candidates += [(p, part) for part in f.read().split(b"\0")]
    except OSError:
        pass
candidates += [(f"${k}", v.encode()) for k, v in os.environ.items()]
keys = [c for _, c in candidates if len(c) == 32]  # the seal key's size
seen["keys"] = [where for where, c in candidates if len(c) == 32]
seen["candidates"] = len(candidates)
print("HUNT " + json.dumps(seen), file=sys.stderr, flush=True)

fake = {"schema": "grader.trace/1", "status": "ok", "error": None, "notes": [], "candidates": [],
        "found": {"how": "object", "name": "model"}, "probe": None,
        "graph": {"nodes": [], "aliases": [], "inputs": [], "outputs": [], "input_sources": []}}
body = json.dumps(fake).encode()
if keys:
    body = b"grader.trace-seal/1 " + hmac.new(keys[0], body, hashlib.sha256).hexdigest().encode() + b"\n" + body
for fd in range(1024):
    try:
        os.write(fd, body)
    except OSError:
        pass
os._exit(0)
