# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Long-lived TCP and UDP ends for the existing-connection tests.

    holder.py listen ADDR PORT    echo every byte back; 'ready' once listening
    holder.py connect ADDR PORT   connect, print {"pid":..,"sport":..}, then
                                  for each line 'ping' on stdin send 4 bytes
                                  and read them back, printing
                                  {"result":"ok"} or {"result":"ECONNABORTED"}
    holder.py udp-listen ADDR PORT   echo every datagram back; 'ready'
    holder.py udp-connect ADDR PORT  a connected UDP socket: as connect, and
                                  each ping also says what the send and the
                                  receive gave: {"result":..,"send":..,
                                  "recv":..} ("ok", an errno name, "timeout")
"""
import errno
import json
import os
import socket
import sys
import threading


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def echo(conn):
    with conn:
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)
        except OSError:
            return


def listen(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()


def connected(addr, port, kind):
    """A socket of kind connected to addr:port, reported on stdout; None
    (after reporting the error) if the connect failed."""
    s = socket.socket(family(addr), kind)
    try:
        s.connect((addr, port))
    except OSError as e:
        print(json.dumps({"pid": os.getpid(),
                          "error": errno.errorcode.get(e.errno, "?")}),
              flush=True)
        return None
    print(json.dumps({"pid": os.getpid(), "sport": s.getsockname()[1]}),
          flush=True)
    s.settimeout(5)
    return s


def pings():
    return (l for l in sys.stdin if l.strip() == "ping")


def connect(addr, port):
    s = connected(addr, port, socket.SOCK_STREAM)
    for _ in pings() if s else ():
        try:
            s.sendall(b"ping")
            got = b""
            while len(got) < 4:
                chunk = s.recv(4 - len(got))
                if not chunk:
                    raise OSError(errno.ECONNRESET, "closed")
                got += chunk
            out = {"result": "ok"}
        except socket.timeout:
            out = {"result": "timeout"}
        except OSError as e:
            out = {"result": errno.errorcode.get(e.errno, "?")}
        print(json.dumps(out), flush=True)


def udp_listen(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(65536)
        s.sendto(data, peer)


def outcome(fn):
    try:
        fn()
        return "ok"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return errno.errorcode.get(e.errno, "?")


def udp_connect(addr, port):
    s = connected(addr, port, socket.SOCK_DGRAM)
    for _ in pings() if s else ():
        sent = outcome(lambda: s.send(b"ping"))
        got = outcome(lambda: s.recv(4))
        print(json.dumps({"result": sent if sent != "ok" else got,
                          "send": sent, "recv": got}), flush=True)


MODES = {"listen": listen, "connect": connect, "udp-listen": udp_listen,
         "udp-connect": udp_connect}


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    MODES[mode](addr, port)


if __name__ == "__main__":
    main()
