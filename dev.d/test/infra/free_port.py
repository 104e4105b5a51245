"""Print a TCP port on 127.0.0.1 that is free now (the kernel's pick), for the
private moto server of dev.d/test/62-infra.sh.

    free_port.py
"""
import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
