"""A seccomp filter that keeps learner code from making user namespaces, from moving data
into pipes inside the kernel (see PIPE_MOVERS) and from the kernel's key store (KEY_CALLS).

Inside a user namespace of its own, a process holds every capability over that namespace:
it can mount file systems and reach kernel code that an unprivileged process never could,
which is where kernel bugs that escape containers have lived. Nothing a learner's function
needs goes there, so the sandbox refuses it: ``unshare`` and ``clone`` asking for
CLONE_NEWUSER fail with EPERM, and ``clone3`` (whose flags sit in memory a filter cannot
read) with ENOSYS, on which the C library falls back to ``clone``.

The filter is compiled by libseccomp (through ctypes: no build step) for the machine's own
architecture, which also refuses system calls made through another architecture's entry.
Where libseccomp is missing (it comes with apt on Debian and Ubuntu), ``program()`` is None
and the sandbox runs without the filter.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os
import tempfile

CLONE_NEWUSER = 0x10000000
# Calls that move data into a pipe inside the kernel: a splice from a socket holds the pipe's
# lock while it waits for data, and the grader's read of that pipe then waits with it. No
# exercise needs them; io_uring can issue the same operations.
PIPE_MOVERS = ("splice", "tee", "vmsplice", "sendfile", "io_uring_setup", "io_uring_enter",
               "io_uring_register")
# The kernel's key store: keys are kept per uid and outlive the sandbox (each submission
# could leave kilobytes of kernel memory behind on a long-running grader). No exercise needs it.
KEY_CALLS = ("add_key", "request_key", "keyctl")
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_MASKED_EQ = 7


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)  # SCMP_ACT_ERRNO(code)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def _library():
    name = ctypes.util.find_library("seccomp")
    if name is None:
        return None
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


@functools.cache
def program() -> bytes | None:
    """The compiled filter (BPF, as bubblewrap's ``--seccomp FD`` reads it), or None."""
    lib = _library()
    if lib is None:
        return None
    context = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not context:
        return None
    try:
        new_user = (_ArgCmp * 1)(_ArgCmp(0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
        refused = _errno_action(errno.EPERM)
        rules = [("unshare", refused, new_user), ("clone", refused, new_user),
                 ("clone3", _errno_action(errno.ENOSYS), None)]
        rules += [(name, refused, None) for name in PIPE_MOVERS + KEY_CALLS]
        for name, action, compare in rules:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:
                continue  # not a system call on this architecture
            if lib.seccomp_rule_add_array(context, action, number, len(compare or ()),
                                          compare) != 0:
                return None
        with tempfile.TemporaryFile() as compiled:
            if lib.seccomp_export_bpf(context, compiled.fileno()) != 0:
                return None
            compiled.seek(0)
            return compiled.read()
    finally:
        lib.seccomp_release(context)


def readable_fd() -> int | None:
    """A pipe's read end holding the filter, for bubblewrap to read; None without one."""
    compiled = program()
    if compiled is None:
        return None
    read_end, write_end = os.pipe()
    os.write(write_end, compiled)  # a few hundred bytes: far below a pipe's buffer
    os.close(write_end)
    return read_end
