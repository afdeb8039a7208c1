"""A private Docker engine for the tests: its own socket, data root, exec root, bridge and
containerd namespace, so it never meets another daemon on the machine.

One daemon serves every test session on the machine at once (pytest-xdist workers, two people's
runs): the first session starts it, each holds a shared lock on `USERS_LOCK` while it runs, and
the last one to leave stops it by its pid. A session that was killed leaves its daemon behind;
the next first session stops that one (by the pid in its pidfile, after checking it is ours) and
starts afresh, then removes the containers, networks and volumes the killed session left.

The data root sits on a loop-mounted file system chosen for per-container disk quotas
(`docker run --storage-opt size=64M`): overlay2 on xfs mounted with `pquota` where the kernel
has XFS quotas, else btrfs with simple quotas (kernel >= 6.7), else overlay2 without quotas,
else vfs. `DockerDaemon.disk_quota` says whether quotas work; one log line says which runs.
"""

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

log = logging.getLogger(__name__)

SOCKET = Path("/run/codegenapp-test-docker.sock")
HOST = f"unix://{SOCKET}"
EXEC_ROOT = Path("/run/codegenapp-test-docker")
PIDFILE = Path("/run/codegenapp-test-docker.pid")
STATE = Path(
    "/run/codegenapp-test-docker.json"
)  # storage of the running daemon, for later sessions
START_LOCK = Path("/run/codegenapp-test-docker.lock")  # held while a session starts or stops it
USERS_LOCK = Path("/run/codegenapp-test-docker.users")  # shared-locked by every session using it
HOME = Path("/var/lib/codegenapp-test-docker")  # disk images, data roots, config, log
BRIDGE = "cgtest0"  # not docker0: a system daemon may own that one
BRIDGE_ADDRESS = "10.213.0.1/24"
DISK_SIZE = 32 * 2**30  # sparse: the loop file takes only what the data root holds
CONTAINERD_NAMESPACE = "codegenapp-test"
CGROUP_PARENT = "codegenapp-test"
SETUP_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "setup-docker.sh"
NEEDED_COMMANDS = ("dockerd", "docker", "debootstrap", "openssl", "mkfs.xfs", "mkfs.btrfs", "ip")

START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0

_started: dict[int, subprocess.Popen[bytes]] = {}  # the dockerd this process started, to reap it


@dataclass(frozen=True, slots=True)
class DockerDaemon:
    """A running private daemon. `host` is its DOCKER_HOST URL."""

    host: str
    pid: int
    storage_driver: str
    disk_quota: bool  # whether `--storage-opt size=...` limits a container's writes


@dataclass(frozen=True, slots=True)
class _Storage:
    """One way to lay out the data root, tried in order until one works here."""

    driver: str  # dockerd --storage-driver
    filesystem: str | None  # of the loop-mounted data root; None: a directory on the host's
    quota: bool

    @property
    def data_root(self) -> Path:
        return HOME / (self.filesystem or "plain")

    def describe(self) -> str:
        where = f"a loop-mounted {self.filesystem}" if self.filesystem else "the host's file system"
        quotas = "per-container disk quotas work" if self.quota else "no per-container disk quotas"
        return f"storage driver {self.driver} on {where}; {quotas}"


STORAGE_PLANS = (
    _Storage("overlay2", "xfs", quota=True),
    _Storage("btrfs", "btrfs", quota=True),
    _Storage("overlay2", "xfs", quota=False),
    _Storage("overlay2", None, quota=False),
    _Storage("vfs", None, quota=False),
)


@contextlib.contextmanager
def docker_daemon() -> Iterator[DockerDaemon]:
    """The machine's private test daemon, started if no session runs it, for as long as the
    block lasts; stopped at the end if no other session still uses it.

    Raises RuntimeError with the reason (and the daemon's log) when it cannot run here."""
    _ensure_installed()
    with _locked(START_LOCK):
        users = USERS_LOCK.open("a")
        try:
            first = _try_lock(users, fcntl.LOCK_EX)
            daemon = _start_afresh() if first else _running_daemon()
        except BaseException:
            users.close()
            raise
        fcntl.flock(users, fcntl.LOCK_SH)
    try:
        yield daemon
    finally:
        with _locked(START_LOCK):
            users.close()
            with USERS_LOCK.open("a") as probe:
                if _try_lock(probe, fcntl.LOCK_EX):
                    _stop_and_clean_up()


# --- starting --------------------------------------------------------------------------------


def _ensure_installed() -> None:
    if os.geteuid() != 0:
        raise RuntimeError(
            "the Docker tests start their own dockerd, which needs root (TESTING.md, Docker)"
        )
    if all(_which(command) for command in NEEDED_COMMANDS):
        return
    done = subprocess.run([str(SETUP_SCRIPT)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{SETUP_SCRIPT.name} failed: {done.stderr.strip()}")


def _start_afresh() -> DockerDaemon:
    """No session uses the daemon: stop one a killed session left, then start ours."""
    _stop_and_clean_up()
    HOME.mkdir(parents=True, exist_ok=True)
    EXEC_ROOT.mkdir(parents=True, exist_ok=True)
    _ensure_bridge()
    failures: list[str] = []
    for storage in STORAGE_PLANS:
        if not _prepare(storage):
            continue
        pid, failure = _launch(storage)
        if pid is None:
            failures.append(f"{storage.describe()}:\n{failure}")
            _unmount(storage.data_root)
            continue
        daemon = DockerDaemon(HOST, pid, storage.driver, storage.quota)
        STATE.write_text(
            json.dumps({"storage_driver": daemon.storage_driver, "disk_quota": daemon.disk_quota})
        )
        _remove_leftovers()
        level = logging.INFO if storage.quota else logging.WARNING
        log.log(level, "private dockerd (pid %d) on %s: %s", pid, HOST, storage.describe())
        return daemon
    raise RuntimeError("dockerd started with no storage layout:\n" + "\n".join(failures))


def _running_daemon() -> DockerDaemon:
    """The daemon another session started and still uses."""
    pid = _our_dockerd_pid()
    if pid is None or not STATE.exists() or not _ping():
        raise RuntimeError(
            f"another test session holds {USERS_LOCK} but its dockerd does not answer on "
            f"{HOST}; see {HOME / 'dockerd.log'}"
        )
    state = json.loads(STATE.read_text())
    return DockerDaemon(HOST, pid, str(state["storage_driver"]), bool(state["disk_quota"]))


def _ensure_bridge() -> None:
    # dockerd creates only a bridge named docker0 itself; one with another name must exist.
    if Path("/sys/class/net", BRIDGE).exists():
        return
    _run("ip", "link", "add", "name", BRIDGE, "type", "bridge")
    _run("ip", "address", "add", BRIDGE_ADDRESS, "dev", BRIDGE)
    _run("ip", "link", "set", BRIDGE, "up")


def _launch(storage: _Storage) -> tuple[int | None, str]:
    """Starts dockerd; returns its pid once it answers, or None and why it did not start."""
    config = HOME / "daemon.json"  # ours, so a /etc/docker/daemon.json cannot clash with flags
    config.write_text("{}\n")
    logfile = HOME / "dockerd.log"
    argv = [
        _which("dockerd") or "dockerd",
        f"--host={HOST}",
        f"--data-root={storage.data_root}",
        f"--exec-root={EXEC_ROOT}",
        f"--pidfile={PIDFILE}",
        f"--config-file={config}",
        f"--storage-driver={storage.driver}",
        f"--bridge={BRIDGE}",
        # Not /docker, where a system daemon puts its containers' cgroups.
        f"--cgroup-parent={CGROUP_PARENT}",
        # A system containerd, if one runs, is shared: keep our containers in our namespace.
        f"--containerd-namespace={CONTAINERD_NAMESPACE}",
        f"--containerd-plugins-namespace={CONTAINERD_NAMESPACE}-plugins",
    ]
    with logfile.open("w") as output:
        # Its own session: a Ctrl-C in pytest must not kill it halfway through a test's cleanup.
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None, _tail(logfile)
        if _ping():
            _started[process.pid] = process
            return process.pid, ""
        time.sleep(0.1)
    _started[process.pid] = process
    _stop(process.pid)
    return None, f"no answer on {HOST} within {START_TIMEOUT:.0f} s\n{_tail(logfile)}"


def _remove_leftovers() -> None:
    """Containers, networks and volumes of a killed session; images stay (they are the cache)."""
    for kind in ("containers", "networks", "volumes"):
        status, body = _api("POST", f"/{kind}/prune")
        if status != 200:
            raise RuntimeError(f"could not remove the {kind} a killed session left: {body!r}")


# --- storage ---------------------------------------------------------------------------------


def _prepare(storage: _Storage) -> bool:
    """Mounts the data root for `storage`; False (and nothing left mounted) if it cannot work."""
    root = storage.data_root
    root.mkdir(parents=True, exist_ok=True)
    if storage.filesystem is None:
        return True
    disk = HOME / f"{storage.filesystem}.img"
    if not disk.exists():
        scratch = disk.with_suffix(".new")
        with scratch.open("wb") as file:
            file.truncate(DISK_SIZE)
        _run(f"mkfs.{storage.filesystem}", "-q", "-f", str(scratch))
        scratch.rename(disk)
    options = "loop,pquota" if storage.quota and storage.filesystem == "xfs" else "loop"
    # Fails on kernels built without XFS quotas ("quota support not available in this kernel").
    mounted = subprocess.run(
        ["mount", "-o", options, str(disk), str(root)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        return False
    if storage.filesystem == "btrfs" and storage.quota and not _enable_btrfs_simple_quotas(root):
        _unmount(root)
        return False
    return True


def _enable_btrfs_simple_quotas(root: Path) -> bool:
    """Simple quotas (kernel >= 6.7) count only the extents a subvolume writes itself, so
    `size=64M` limits a container's writes, as overlay2's xfs quota does. Full qgroups would count
    the image too, and make each container's create and remove a second slower. Debian 12's
    btrfs-progs cannot enable them (`btrfs quota enable --simple` came in 6.7), the ioctl can."""
    btrfs_ioc_quota_ctl = 0xC0109428  # _IOWR(0x94, 40, struct {u64 cmd; u64 status;})
    enable_simple_quota = 4
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.ioctl(fd, btrfs_ioc_quota_ctl, struct.pack("QQ", enable_simple_quota, 0))
    except OSError:
        return False
    finally:
        os.close(fd)
    # Enabling is a no-op when full qgroups are on already: check which mode runs.
    uuid = _run("findmnt", "--noheadings", "--output", "UUID", "--mountpoint", str(root)).strip()
    mode = Path("/sys/fs/btrfs", uuid, "qgroups", "mode")
    return mode.exists() and mode.read_text().strip() == "squota"


def _unmount(root: Path) -> None:
    if not _is_mount_point(root):
        return
    # Busy only while something still runs in it: then detach it now, free it when it ends.
    if subprocess.run(["umount", str(root)], capture_output=True, check=False).returncode != 0:
        _run("umount", "--lazy", str(root))


def _is_mount_point(path: Path) -> bool:
    with open("/proc/mounts") as mounts:
        return any(line.split()[1] == str(path) for line in mounts)


# --- stopping --------------------------------------------------------------------------------


def _stop_and_clean_up() -> None:
    """Stops our daemon if one runs (ours by its pidfile and command line, never by name),
    unmounts its data roots and removes its bridge. Idempotent."""
    pid = _our_dockerd_pid()
    if pid is not None:
        _stop(pid)
    for storage in STORAGE_PLANS:
        _unmount(storage.data_root)
    if Path("/sys/class/net", BRIDGE).exists():
        _run("ip", "link", "delete", BRIDGE)
    for path in (STATE, PIDFILE, SOCKET):
        path.unlink(missing_ok=True)


def _our_dockerd_pid() -> int | None:
    try:
        pid = int(PIDFILE.read_text().strip())
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if Path(argv[0].decode()).name == "dockerd" and f"--host={HOST}".encode() in argv:
        return pid
    return None


def _stop(pid: int) -> None:
    """SIGTERM lets dockerd stop its containers and its containerd; SIGKILL if it hangs."""
    for sig, timeout in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if _exited(pid, timeout):
            return
    raise RuntimeError(f"dockerd (pid {pid}) outlived SIGKILL")


def _exited(pid: int, timeout: float) -> bool:
    child = _started.get(pid)
    if child is not None:  # ours: wait() reaps it
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        del _started[pid]
        return True
    # Another session's: it is gone when /proc no longer lists it (or lists a zombie).
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


# --- small tools -----------------------------------------------------------------------------


def _api(method: str, path: str, *, timeout: float = 30.0) -> tuple[int, bytes]:
    """One request to the daemon's API over its socket: (status, body). No body is sent."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(str(SOCKET))
        connection.sendall(f"{method} {path} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def _ping() -> bool:
    try:
        return _api("GET", "/_ping", timeout=2.0) == (200, b"OK")
    except (OSError, IndexError, ValueError):
        return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        yield


def _try_lock(file: TextIO, operation: int) -> bool:
    try:
        fcntl.flock(file, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _which(command: str) -> str | None:
    # Root's PATH in a test run may lack the sbin directories, where dockerd and mkfs live.
    return shutil.which(command, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
