# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Accept-and-close TCP listeners: listener.py ADDR:PORT ... ('[::1]:2049').

Prints 'ready' once every socket listens, then accepts until killed.
"""
import selectors
import socket
import sys


def listen(spec):
    host, _, port = spec.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, int(port)))
    s.listen(1024)
    s.setblocking(False)
    return s


def main():
    sel = selectors.DefaultSelector()
    for spec in sys.argv[1:]:
        sel.register(listen(spec), selectors.EVENT_READ)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            try:
                conn, _ = key.fileobj.accept()
                conn.close()
            except OSError:
                pass


if __name__ == "__main__":
    main()
