# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""TCP listeners for the tests: listener.py SPEC ...

SPEC is ADDR:PORT ('[::1]:2049' for IPv6): accept and close at once. With
'+N' ('127.0.0.1:2049+100'): read each connection to its end, answer N
bytes, then close. Prints 'ready' once every socket listens, then serves
until killed.
"""
import selectors
import socket
import sys
import threading


def listen(spec):
    spec, _, reply = spec.partition("+")
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
    return s, int(reply) if reply else None


def answer(conn, n):
    with conn:
        conn.setblocking(True)
        while conn.recv(65536):
            pass
        conn.sendall(b"r" * n)


def main():
    sel = selectors.DefaultSelector()
    for spec in sys.argv[1:]:
        s, reply = listen(spec)
        sel.register(s, selectors.EVENT_READ, reply)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            try:
                conn, _ = key.fileobj.accept()
            except OSError:
                continue
            if key.data is None:
                conn.close()
            else:
                threading.Thread(target=answer, args=(conn, key.data),
                                 daemon=True).start()


if __name__ == "__main__":
    main()
