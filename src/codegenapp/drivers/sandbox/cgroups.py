"""Control groups for host-process sandboxes: a process count, memory and CPU limit that hold for
every process of a sandbox together, whoever its user (RLIMIT_NPROC never binds root), and a
way to kill every one of them.

Both kernel interfaces exist on Linux machines in the field, and both are supported:
- cgroup v1 (this project's CI machines): one hierarchy per controller under
  `/sys/fs/cgroup/<controller>/`; a sandbox gets a group in each of `pids`, `memory` and `cpu`,
  nested under the group the worker itself runs in, so that limits set on the worker's group
  (a container's, a VM's) still bind its sandboxes.
- cgroup v2 (unified): one tree; a process may only sit in a leaf, so sandboxes go under a
  `codegenapp-sandboxes` group beside the worker's own, with the controllers enabled for it.

Making groups needs write access to the hierarchy (root, or a delegated subtree). Without it
`CgroupTree.detect` answers None and the caller falls back to rlimits, saying so.
"""

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from codegenapp.drivers.sandbox import ResourceLimits
from codegenapp.errors import SandboxError

CGROUP_ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("pids", "memory", "cpu")
V2_CONTROLLERS = ("pids", "memory", "cpu")
SANDBOXES_GROUP = "codegenapp-sandboxes"
CFS_PERIOD_US = 100_000
KILL_WAIT_S = 10.0
KILL_POLL_S = 0.005


@dataclass(frozen=True, slots=True)
class CgroupTree:
    """Where this process may make sandbox groups: one parent directory per v1 controller, or
    the single v2 one (controller "")."""

    version: int
    bases: tuple[tuple[str, Path], ...]  # (controller, parent directory of sandbox groups)

    @classmethod
    def detect(
        cls, root: Path = CGROUP_ROOT, *, own: Path = Path("/proc/self/cgroup")
    ) -> "CgroupTree | None":
        """The tree this machine offers us, or None if we cannot make groups in it."""
        try:
            memberships = _memberships(own.read_text())
        except OSError:
            return None
        tree = _v1_tree(root, memberships) or _v2_tree(root, memberships)
        if tree is None:
            return None
        for _, base in tree.bases:
            existing = base if base.exists() else base.parent
            if not os.access(existing, os.W_OK):
                return None
        return tree

    def create(self, name: str, limits: ResourceLimits) -> tuple[Path, ...]:
        """Make the sandbox's groups and set `limits`; return their directories. Idempotent."""
        groups = tuple(base / name for _, base in self.bases)
        try:
            for _, base in self.bases:
                base.mkdir(exist_ok=True)
            if self.version == 2:
                _enable_controllers(self.bases[0][1])
            for (controller, _), group in zip(self.bases, groups, strict=True):
                group.mkdir(exist_ok=True)
                _write_limits(controller, group, limits)
        except OSError as exc:
            remove(groups)
            raise SandboxError(f"cannot set up the sandbox's cgroup: {exc}") from exc
        return groups


def procs_files(groups: tuple[Path, ...]) -> tuple[str, ...]:
    """The files a process writes its pid to, to join every one of `groups`."""
    return tuple(str(group / "cgroup.procs") for group in groups)


# Waits until its standard input ends (the worker holding the other end of the pipe died or
# let go), then kills every process in the groups until none is left. `$*` is the procs files.
_WATCHDOG = (
    "cat >/dev/null; "
    'while p=$(cat "$@" 2>/dev/null) && [ -n "$p" ]; do kill -9 $p 2>/dev/null; sleep 0.01; done'
)


def watchdog_argv(groups: tuple[Path, ...]) -> list[str]:
    """A host process that kills everything in `groups` once its standard input ends.

    bubblewrap's --die-with-parent cannot be relied on alone: bwrap changes its credentials as
    it starts, which clears the parent-death signal, and sets its own only later; a worker
    killed in between left a sandbox running (seen under load by the isolation checklist). A
    pipe's end cannot be missed: the kernel closes it when the worker dies, however it dies.
    """
    return ["/bin/sh", "-c", _WATCHDOG, "watchdog", *procs_files(groups)]


def kill_all(groups: tuple[Path, ...]) -> None:
    """SIGKILL every process in `groups` and return once none is left (or after
    `KILL_WAIT_S`). A process forked meanwhile is caught by the next round. Blocking: call it
    through `asyncio.to_thread`."""
    for group in groups:
        kill_file = group / "cgroup.kill"  # v2, kernel 5.14+: one write kills the whole group
        if kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
    deadline = time.monotonic() + KILL_WAIT_S
    while pids := {pid for group in groups for pid in _members(group)}:
        if time.monotonic() > deadline:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        # A killed process leaves its group only once the kernel has run its exit.
        time.sleep(KILL_POLL_S)


def remove(groups: tuple[Path, ...]) -> None:
    """Remove `groups` once empty (a group with a process in it cannot be removed). Idempotent."""
    for group in groups:
        with contextlib.suppress(FileNotFoundError):
            try:
                group.rmdir()
            except OSError as exc:
                if group.exists():
                    raise SandboxError(f"cannot remove cgroup {group}: {exc}") from exc


def memory_exhausted(groups: tuple[Path, ...]) -> bool:
    """Whether the kernel had to kill a process of the sandbox for want of memory."""
    for group in groups:
        events = group / "memory.events"  # v2
        if events.exists():
            return _field(events.read_text(), "oom_kill") > 0
        control = group / "memory.oom_control"  # v1
        if control.exists():
            return _field(control.read_text(), "oom_kill") > 0
    return False


def _memberships(text: str) -> dict[str, str]:
    """/proc/self/cgroup as {controller: path}; the v2 line has the controller ''."""
    memberships: dict[str, str] = {}
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            memberships[controller] = path
    return memberships


def _v1_tree(root: Path, memberships: dict[str, str]) -> CgroupTree | None:
    bases = []
    for controller in V1_CONTROLLERS:
        mount = root / controller
        if controller not in memberships or not (mount / "cgroup.procs").exists():
            return None
        own = mount / memberships[controller].lstrip("/")
        bases.append((controller, own / SANDBOXES_GROUP))
    return CgroupTree(version=1, bases=tuple(bases))


def _v2_tree(root: Path, memberships: dict[str, str]) -> CgroupTree | None:
    if "" not in memberships or not (root / "cgroup.controllers").exists():
        return None
    available = (root / "cgroup.controllers").read_text().split()
    if not all(controller in available for controller in V2_CONTROLLERS):
        return None
    own = root / memberships[""].lstrip("/")
    # A group holding processes cannot hand controllers to children: sit beside it instead.
    parent = own.parent if own != root else root
    return CgroupTree(version=2, bases=(("", parent / SANDBOXES_GROUP),))


def _enable_controllers(base: Path) -> None:
    wanted = " ".join(f"+{controller}" for controller in V2_CONTROLLERS)
    for directory in (base.parent, base):
        (directory / "cgroup.subtree_control").write_text(wanted)


def _write_limits(controller: str, group: Path, limits: ResourceLimits) -> None:
    memory = str(limits.memory_mb * 1024 * 1024)
    quota = str(max(1000, int(limits.cpus * CFS_PERIOD_US)))
    if controller in ("pids", ""):
        _set(group / "pids.max", str(limits.pids))
    if controller == "":
        _set(group / "memory.max", memory)
        _set(group / "memory.swap.max", "0", optional=True)
        _set(group / "cpu.max", f"{quota} {CFS_PERIOD_US}")
    elif controller == "memory":
        _set(group / "memory.limit_in_bytes", memory)
        # With swap accounting, memory+swap is capped too: the limit cannot be dodged by
        # swapping out.
        _set(group / "memory.memsw.limit_in_bytes", memory, optional=True)
    elif controller == "cpu":
        _set(group / "cpu.cfs_period_us", str(CFS_PERIOD_US))
        _set(group / "cpu.cfs_quota_us", quota)


def _set(path: Path, value: str, *, optional: bool = False) -> None:
    try:
        path.write_text(value)
    except FileNotFoundError:
        if not optional:
            raise


def _members(group: Path) -> list[int]:
    try:
        return [int(pid) for pid in (group / "cgroup.procs").read_text().split()]
    except FileNotFoundError:
        return []


def _field(text: str, name: str) -> int:
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == name:
            return int(value)
    return 0
