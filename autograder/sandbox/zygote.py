"""The warm template: a process inside bubblewrap that has imported numpy and the worker once,
and forks a fresh sandbox for each submission.

Started by root as ``python -I zygote.py CONTROL_FD`` under ``bwrap`` (see template.py),
it sees what a worker sees (the read-only runtime and the worker's files) and keeps only
the capabilities it needs to build a sandbox: mounting, changing uid, bringing up a loopback
interface, and dropping capabilities. It runs no learner code and holds nothing of any
submission. For each request on its control socket (the pipes, the cgroup files and a
channel of the sandbox's own, as passed descriptors) it forks:

1. the first process of a new pid namespace (the template asks for one before each fork,
   and goes back to its own after it), which joins the submission's cgroups (every
   process it starts is then counted and ended with it), says so on its channel, reads
   from it the limits, the sandbox's uid and the seccomp filter (after the fork: no
   request ever lands in the template's memory, which later sandboxes copy), enters new
   mount, network, IPC, UTS and cgroup namespaces, mounts a fresh sized tmpfs on
   /sandbox, /tmp and /dev/shm, a /proc of its own namespace and a /dev/pts instance of
   its own, brings up its loopback interface, then becomes the sandbox's uid with no
   capabilities (bounding set, inheritable and ambient ones too), sets no_new_privs and
   loads the seccomp filter; it reaps orphans and, when the worker ends, writes the
   worker's wait status to the status pipe and exits, which ends every process of the
   namespace;
2. the worker, forked from it with every restriction already in force, which lowers its
   resource limits and serves requests exactly as a freshly started worker.py would.

Each fork copies the template's page tables and each exit frees them: two processes per
sandbox, not three (a child that entered the pid namespace and forked its first process
would be one more), and the template's objects are frozen out of the garbage collector,
whose passes would otherwise write to, and so copy, every page that holds one.

Nothing of one submission reaches the next: each worker is a fork of a template that has
never run learner code, with its own namespaces, folders, uid and cgroup.
"""
import ctypes
import fcntl
import gc
import json
import os
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402
import worker  # noqa: E402  - imports numpy and the checks once, for every fork

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAP_AMBIENT = 24, 38, 22, 47
PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER, PR_SET_DUMPABLE = 4, 2, 4
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
IFREQ = "16sH22x"  # struct ifreq: the interface's name, then its flags
LINUX_CAPABILITY_VERSION_3 = 0x20080522
MAX_REQUEST = 1 << 16
OWN_PID_NAMESPACE = -1  # the template's, to go back to after each fork (main)
SETUP_FAILED = 125  # exit status of a sandbox that could not be built

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                       ctypes.c_char_p]
libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
libc.unshare.argtypes = [ctypes.c_int]
libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
libc.capset.argtypes = [ctypes.c_void_p, ctypes.c_void_p]


def _bounding_set() -> list[int]:
    """The capabilities in this process's bounding set."""
    with open("/proc/self/status") as status:
        mask = next(int(line.split()[1], 16) for line in status if line.startswith("CapBnd:"))
    return [cap for cap in range(mask.bit_length()) if mask >> cap & 1]


# bubblewrap cut the template's bounding set to the capabilities it keeps, and a bounding set
# never grows back: a sandbox drops those few, not every capability there is
BOUNDING = _bounding_set()


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(libc.mount(source.encode(), target.encode(), fstype and fstype.encode(),
                      ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def _drop_privileges(uid: int, seccomp_program: bytes) -> None:
    """Become ``uid`` with no capability in any set, no new privileges, and the filter on."""
    for cap in BOUNDING:
        _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "dropping the bounding set")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # clears the permitted and effective sets
    header = ctypes.create_string_buffer(struct.pack("=Ii", LINUX_CAPABILITY_VERSION_3, 0))
    _check(libc.capset(header, ctypes.create_string_buffer(24)), "clearing the inheritable set")
    _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing ambient caps")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs")
    if seccomp_program:
        buffer = ctypes.create_string_buffer(seccomp_program, len(seccomp_program))
        program = _SockFprog(len(seccomp_program) // 8, ctypes.addressof(buffer))
        _check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(program), 0, 0),
               "loading the seccomp filter")


def _loopback_up() -> None:
    """Bring up ``lo`` of the new network namespace, as bubblewrap does for a cold sandbox."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        name, flags = struct.unpack(IFREQ, fcntl.ioctl(sock, SIOCGIFFLAGS,
                                                       struct.pack(IFREQ, b"lo", 0)))
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack(IFREQ, name, flags | IFF_UP))


def _build(request: dict) -> None:
    """In the new namespaces, as their first process: the folders, then the restrictions."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)  # nothing propagates back out
    for folder, size in (("/sandbox", request["scratch_bytes"]), ("/tmp", request["scratch_bytes"]),
                         ("/dev/shm", request["shm_bytes"])):
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    # the template's /dev/pts is every sandbox's otherwise: a pty one opened, another could
    # use (/dev/ptmx is bubblewrap's link to pts/ptmx, so it follows)
    _mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
           "newinstance,ptmxmode=0666,mode=620")
    _loopback_up()
    os.chdir("/sandbox")
    _drop_privileges(request["uid"], bytes.fromhex(request["seccomp"]))


def _serve_worker(request: dict, to_worker: int, from_worker: int, output: int) -> None:
    """The worker: what worker.py's main does, on descriptors it inherited."""
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    low, high = sorted((to_worker, from_worker))
    for first, last in ((3, low), (low + 1, high), (high + 1, os.sysconf("SC_OPEN_MAX"))):
        os.closerange(first, last)  # the output pipe's and /dev/null's own descriptors too
    limits = [request[k] for k in ("memory", "cpu", "fsize", "nproc")]
    sys.argv = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py"),
                str(to_worker), str(from_worker), *map(str, limits)]
    # as after the exec of a cold worker: dumpable (setuid cleared it), Python's own SIGINT
    _check(libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "setting the worker dumpable")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    worker.limit_self(*limits)
    worker.serve(os.fdopen(to_worker, "rb"), os.fdopen(from_worker, "wb"))


def _reap(worker_pid: int, status_fd: int) -> None:
    """As the namespace's first process: reap every orphan, and report the worker's end."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            status = 0
            break
        except InterruptedError:
            continue
        if pid == worker_pid:
            break
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    os.write(status_fd, f"{code}\n".encode())


def _sandbox(fds: list[int]) -> None:
    """The first process of a new pid namespace, for one submission; never returns. It
    tells the grader when it is in the sandbox's cgroups, then reads the request on its
    own channel."""
    to_worker, from_worker, output, status, channel_fd, *cgroups = fds
    code, built = SETUP_FAILED, False
    try:
        if os.getpid() != 1:  # never in the template's pid namespace, nor another's
            raise OSError("not the first process of a pid namespace of its own")
        for procs in cgroups:  # "0": the writing process itself
            os.write(procs, b"0")
            os.close(procs)
        with socket.socket(fileno=channel_fd) as channel:
            # with a pidfd of this process: the grader ends the whole namespace through it,
            # and sees through it when every process of the namespace has ended
            itself = os.pidfd_open(os.getpid())
            socket.send_fds(channel, [wire.JOINED], [itself])
            os.close(itself)
            message = channel.recv(MAX_REQUEST)
        if not message:
            return  # the grader gave up waiting
        request = json.loads(message)
        os.setsid()
        _check(libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
                            | CLONE_NEWCGROUP), "unshare")
        _build(request)
        built = True
        worker_pid = os.fork()
        if worker_pid == 0:
            os.close(status)
            code = 1
            _serve_worker(request, to_worker, from_worker, output)
            code = 0
        else:
            for fd in (to_worker, from_worker, output):
                os.close(fd)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # a namespace's init ignores it then
            _reap(worker_pid, status)
            code = 0
    except BaseException as exc:  # noqa: B036 - reported on the output pipe, the sandbox ends
        what = "the worker failed" if built else "the sandbox could not be built"
        try:
            os.write(output, f"{what}: {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass
    finally:
        os._exit(code)


def _fork_in_new_pid_namespace() -> int:
    """os.fork(), the child the first process of a new pid namespace. The template stays in
    its own: it asks the kernel for a new namespace for its next child only, and goes back
    to its own right after, so no two sandboxes ever share one."""
    _check(libc.unshare(CLONE_NEWPID), "unshare")
    pid = os.fork()
    if pid:
        _check(libc.setns(OWN_PID_NAMESPACE, CLONE_NEWPID), "setns")
    return pid


def main(control_fd: int) -> None:
    global OWN_PID_NAMESPACE
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    OWN_PID_NAMESPACE = os.open("/proc/self/ns/pid", os.O_RDONLY)
    control = socket.socket(fileno=control_fd)
    # everything imported so far stays out of the collector's passes, in every fork, and
    # the heap's free pages go back to the kernel: no fork copies, no exit frees them
    gc.collect()
    gc.freeze()
    libc.malloc_trim(0)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, MAX_REQUEST, 16)
        except InterruptedError:
            continue
        if not message:
            return  # the grader closed its end
        # a failure here ends the template (the grader then starts sandboxes cold)
        if _fork_in_new_pid_namespace() == 0:
            control.close()
            os.close(OWN_PID_NAMESPACE)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _sandbox(fds)
        for fd in fds:
            os.close(fd)


if __name__ == "__main__":
    main(int(sys.argv[1]))
