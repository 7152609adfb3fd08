# expect: no_model
# Builds nothing: sends a real trace of a correct GoogLeNet, recorded beforehand
# (as `grader trace --json correct.py` prints it) and embedded below, to every
# descriptor it inherited, then leaves before the tracer can write its own.
# tests/test_hostile.py embeds a trace that the grader records of
# tests/data/cases/correct_functional.py (zlib + base64).
import base64
import os
import zlib

TRACE = b""
data = zlib.decompress(base64.b64decode(TRACE))
for fd in range(1024):
    try:
        os.write(fd, data)
    except OSError:
        pass
os._exit(0)
