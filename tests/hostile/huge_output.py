# expect: no_model
# 200 MB of output.
import sys
line = "x" * 1023 + "\n"
for _ in range(200 * 1024):
    sys.stdout.write(line)
