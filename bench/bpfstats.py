# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""A program's run_time_ns and run_cnt, read straight from the bpf()
system call: microseconds a reading, where bpftool takes milliseconds, so
that a measurement can read them around every chunk of work.

The counters move only while kernel.bpf_stats_enabled is 1.
"""
import ctypes
import os
import struct

from env import BenchError

_SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine)
_PROG_GET_FD_BY_ID = 13
_OBJ_GET_INFO_BY_FD = 15
# struct bpf_prog_info (linux/bpf.h): offsets of the fields read here.
_INFO_SIZE = 232
_NAME_OFF, _RUN_TIME_OFF, _RUN_CNT_OFF = 64, 192, 200

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    r = _libc.syscall(ctypes.c_long(_SYS_BPF), ctypes.c_long(cmd), buf,
                      ctypes.c_uint(128))
    if r < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r


class Prog:
    """A loaded program, by id, held open while the measurement runs."""

    def __init__(self, prog_id):
        if _SYS_BPF is None:
            raise BenchError(f"bpf(): unknown system call number on "
                             f"{os.uname().machine}")
        self.id = prog_id
        try:
            self.fd = _bpf(_PROG_GET_FD_BY_ID, struct.pack("=III", prog_id,
                                                          0, 0))
        except OSError as e:
            raise BenchError(f"program {prog_id}: {e.strerror}")
        self._info = ctypes.create_string_buffer(_INFO_SIZE)

    def stats(self):
        """(run_time_ns, run_cnt)."""
        ctypes.memset(self._info, 0, _INFO_SIZE)
        attr = struct.pack("=IIQ", self.fd, _INFO_SIZE,
                           ctypes.addressof(self._info))
        try:
            _bpf(_OBJ_GET_INFO_BY_FD, attr)
        except OSError as e:
            raise BenchError(f"program {self.id}: {e.strerror}")
        raw = self._info.raw
        return struct.unpack_from("=QQ", raw, _RUN_TIME_OFF)

    @property
    def name(self):
        raw = self._info.raw[_NAME_OFF:_NAME_OFF + 16]
        return raw.split(b"\0")[0].decode()

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
