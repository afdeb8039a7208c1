"""The isolation checklist (doctor/checklist.py) against every sandbox on this machine, run as
untrusted pull-request code: every probe must be contained by the isolating sandboxes, and the
same probes must catch what the process sandbox lets out (or they would prove nothing)."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.sandboxes import ON_DOCKER, Docker, require_bubblewrap

from codegenapp.doctor.browser_checklist import run_browser_checklist
from codegenapp.doctor.checklist import orphaned, run_checklist
from codegenapp.drivers.registry import make_sandbox
from codegenapp.drivers.sandbox import SandboxSpec
from codegenapp.drivers.sandbox.processes import ProcessRecord, is_alive, record_of
from codegenapp.settings import Settings

PROBES = [
    "read a host file",
    "reach the host",
    "read our secrets",
    "exceed processes",
    "exceed memory",
    "exceed disk",
    "outlive its timeout",
    "reach a disallowed host",
    "outlive its worker",
]

BROWSER_PROBES = [
    "reach the host",
    "reach another origin",
    "read a host file",
    "browser privileges",
]


async def test_the_evaluating_browser_contains_every_probe(tmp_path: Path) -> None:
    probes = await run_browser_checklist(Settings(home=tmp_path / "home"))
    assert [probe.name for probe in probes] == BROWSER_PROBES
    assert [probe.name for probe in probes if not probe.contained] == [], probes


async def test_bubblewrap_contains_every_probe(tmp_path: Path) -> None:
    await require_bubblewrap()
    probes = await run_checklist(Settings(home=tmp_path / "home"), "bubblewrap")
    assert [probe.name for probe in probes] == PROBES
    escaped = [probe.line("bubblewrap") for probe in probes if not probe.contained]
    assert escaped == []


@ON_DOCKER
async def test_docker_contains_every_probe(docker: Docker, tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home",
        docker_host=docker.daemon.host,
        egress_proxy_image=docker.images.egress_proxy,
    )
    probes = await run_checklist(settings, "docker", image=docker.images.runtime)
    assert [probe.name for probe in probes] == PROBES
    escaped = [probe.line("docker") for probe in probes if not probe.contained]
    assert escaped == []


async def test_the_probes_catch_what_the_process_sandbox_lets_out(tmp_path: Path) -> None:
    probes = await run_checklist(Settings(home=tmp_path / "home"), "process")
    escaped = {probe.name for probe in probes if not probe.contained}
    # It isolates nothing: files, loopback, secrets, processes, disk and egress are all open.
    assert {
        "read a host file",
        "reach the host",
        "read our secrets",
        "exceed processes",
        "exceed disk",
        "reach a disallowed host",
    } <= escaped


def test_doctor_says_what_the_machine_offers_and_attacks_its_sandboxes(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "codegenapp.cli", "doctor", "--isolation"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"CODEGENAPP_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin:/usr/sbin"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok  bubblewrap ") for line in lines)
    assert any(line.startswith("ok  process ") and "NOT ISOLATED" in line for line in lines)
    assert any(
        line.startswith("no  github-hooks ") and "GITHUB_WEBHOOK_SECRET" in line for line in lines
    )
    checked = [line for line in lines if line.startswith("bubblewrap  ")]
    assert len(checked) == len(PROBES)
    assert all(" contained " in line for line in checked)
    browser = [line for line in lines if line.startswith("browser     ")]
    assert len(browser) == len(BROWSER_PROBES), result.stdout
    assert all(" contained " in line for line in browser)


def test_a_bad_kind_of_sandbox_is_refused_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "codegenapp.cli", "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"CODEGENAPP_HOME": str(tmp_path), "CODEGENAPP_SANDBOX": "jail", "PATH": "/usr/bin"},
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "CODEGENAPP_SANDBOX" in result.stderr


@pytest.mark.parametrize("kind", ["bubblewrap", "process"])
async def test_what_a_killed_worker_left_is_reaped_at_the_next_start(
    kind: str, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home")
    async with orphaned(settings, kind, "") as left:
        os.kill(left.pid, signal.SIGKILL)
        await _until_gone(record_of(left.pid))
        restarted = make_sandbox(kind, settings)
        assert await restarted.reap() == [left.handle.id]
        assert await restarted.reap() == []
    assert list(settings.work_dir.iterdir()) == []
    assert list((settings.state_dir / "sandboxes").iterdir()) == []


async def test_at_shutdown_a_worker_reaps_its_own_sandboxes_and_no_one_elses(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path / "home")
    driver = make_sandbox("process", settings)
    async with orphaned(settings, "process", "") as someone_elses:
        mine = await driver.create(SandboxSpec(name="mine"))
        assert await driver.reap() == []  # both workers live
        assert await driver.reap(mine=True) == [mine.id]
        assert [path.name for path in settings.work_dir.iterdir()] == [someone_elses.handle.id]


async def _until_gone(process: ProcessRecord) -> None:
    """Wait for a process we did not start to be gone (no event tells us: poll /proc)."""
    async with asyncio.timeout(10):
        while is_alive(process):
            await asyncio.sleep(0.01)
