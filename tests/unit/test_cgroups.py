"""Where sandbox cgroups go and what limits they get, on both kernel interfaces.

This machine runs cgroup v1, where the bubblewrap suite and the isolation checklist exercise
the real thing; the v2 layout is checked here against a directory laid out as the kernel
lays out /sys/fs/cgroup (a real file system, the same writes the driver does)."""

import shlex
import subprocess
from pathlib import Path

import pytest

from codegenapp.drivers.sandbox import ResourceLimits
from codegenapp.drivers.sandbox.cgroups import SANDBOXES_GROUP, CgroupTree
from codegenapp.drivers.sandbox.processes import tethered

LIMITS = ResourceLimits(cpus=1.5, memory_mb=512, pids=100)


def v2_root(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup"
    (root / "system.slice" / "worker.service").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    (root / "cgroup.procs").write_text("")
    return root


def v1_root(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup"
    for controller in ("pids", "memory", "cpu"):
        (root / controller / "docker" / "abc").mkdir(parents=True)
        (root / controller / "cgroup.procs").write_text("")
    return root


def own(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "self-cgroup"
    path.write_text(text)
    return path


def test_on_v2_sandboxes_sit_beside_the_workers_group_with_every_limit(tmp_path: Path) -> None:
    root = v2_root(tmp_path)
    tree = CgroupTree.detect(root, own=own(tmp_path, "0::/system.slice/worker.service\n"))
    assert tree is not None
    assert tree.version == 2
    base = root / "system.slice" / SANDBOXES_GROUP
    assert tree.bases == (("", base),)
    # What the kernel would show in a fresh group.
    (base / "box").mkdir(parents=True)
    (group,) = tree.create("box", LIMITS)
    assert group == base / "box"
    assert (group / "pids.max").read_text() == "100"
    assert (group / "memory.max").read_text() == str(512 * 1024 * 1024)
    assert (group / "cpu.max").read_text() == "150000 100000"
    for directory in (base.parent, base):
        assert (directory / "cgroup.subtree_control").read_text() == "+pids +memory +cpu"


def test_on_v1_each_controller_nests_under_the_workers_own_group(tmp_path: Path) -> None:
    root = v1_root(tmp_path)
    text = "12:pids:/docker/abc\n11:memory:/docker/abc\n10:cpu,cpuacct:/docker/abc\n0::/\n"
    tree = CgroupTree.detect(root, own=own(tmp_path, text))
    assert tree is not None
    assert tree.version == 1
    groups = tree.create("box", LIMITS)
    pids, memory, cpu = groups
    assert pids == root / "pids" / "docker" / "abc" / SANDBOXES_GROUP / "box"
    assert (pids / "pids.max").read_text() == "100"
    assert (memory / "memory.limit_in_bytes").read_text() == str(512 * 1024 * 1024)
    assert (cpu / "cpu.cfs_quota_us").read_text() == "150000"
    assert (cpu / "cpu.cfs_period_us").read_text() == "100000"


def test_a_machine_without_the_controllers_offers_no_tree(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset io\n")
    assert CgroupTree.detect(root, own=own(tmp_path, "0::/\n")) is None
    assert CgroupTree.detect(root, own=tmp_path / "missing") is None


@pytest.mark.parametrize("join", [(), ("/a/cgroup.procs", "/b/cgroup.procs")])
def test_a_command_is_tethered_to_us_and_joins_its_groups_before_it_execs(
    join: tuple[str, ...],
) -> None:
    argv = tethered(["/usr/bin/bwrap", "--", "true"], join=join)
    assert argv[:4] == ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"]
    assert argv[-4:] == ["--", "/usr/bin/bwrap", "--", "true"]
    assert argv[-4 - len(join) : -4] == list(join)


def test_a_tethered_command_runs_in_its_group_and_refuses_an_orphaned_start(
    tmp_path: Path,
) -> None:
    procs = tmp_path / "cgroup.procs"
    argv = tethered(["sh", "-c", "echo ran"], join=(str(procs),))
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (0, "ran\n")
    assert procs.read_text().strip().isdigit()  # the shell wrote its pid before it exec'd
    # Started by anyone but us (here: a grandchild), it runs nothing.
    orphan = subprocess.run(["sh", "-c", shlex.join(argv)], capture_output=True, check=False)
    assert orphan.returncode == 125
