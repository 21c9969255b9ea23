# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""A TCP client for the trace tests: tcp_client.py ADDR PORT SEND [WAIT]

Connects, sends SEND bytes, half-closes, reads the answer to its end and
closes. With WAIT, it first prints its pid and waits for a line on stdin,
so that a test can filter on the pid before the connect. Reports
{"pid":..,"received":..} or {"pid":..,"error":"ECONNREFUSED"}.
"""
import errno
import json
import os
import socket
import sys


def main():
    addr, port, send = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if len(sys.argv) > 4:
        print(os.getpid(), flush=True)
        sys.stdin.readline()
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.connect((addr, port))
        s.sendall(b"s" * send)
        s.shutdown(socket.SHUT_WR)
        got = 0
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += len(chunk)
        out = {"pid": os.getpid(), "received": got}
    except OSError as e:
        out = {"pid": os.getpid(), "error": errno.errorcode.get(e.errno, "?")}
    finally:
        s.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
