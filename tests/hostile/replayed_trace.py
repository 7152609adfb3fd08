# expect: no_model
# Builds nothing: replays, byte for byte, what the tracer wrote on its result
# channel in an earlier run on a correct GoogLeNet (the seal of that run
# included), to every descriptor it inherited, then leaves.
# tests/test_hostile.py embeds such a recording (zlib + base64).
import base64
import os
import zlib

RECORDING = b""
data = zlib.decompress(base64.b64decode(RECORDING))
for fd in range(1024):
    try:
        os.write(fd, data)
    except OSError:
        pass
os._exit(0)
