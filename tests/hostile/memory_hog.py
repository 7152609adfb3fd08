# expect: memory_limit
# Grows to 8 GiB, touching every page so the memory is really used.
chunks = []
for _ in range(8 * 16):
    b = bytearray(64 * 1024 * 1024)
    for i in range(0, len(b), 4096):
        b[i] = 1
    chunks.append(b)
