# expect: no_model
# Connects to a listener on the host's loopback (the test writes the port into PORT).
import socket
PORT = 0
for host in ("127.0.0.1", "localhost", "::1"):
    try:
        s = socket.create_connection((host, PORT), timeout=2)
        s.sendall(b"exfiltrated")
        s.close()
    except OSError:
        pass
