"""`codegenapp run` and `runs follow`: a run watched live from the terminal, its plan answered
at the prompt (through a real pseudo-terminal) or by another command, to its merge; the same
as JSON lines for scripts; the exit code the run's end decides."""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pexpect
import pytest
from tests.conftest import TEST_TOKEN, Server, free_port
from tests.integration.test_cli_session import Shell, one_line
from tests.support.processes import codegenapp
from tests.support.projects import merges_on, recipe_text

from codegenapp import demo

DEMO = Path(demo.__file__).parent
GOAL = "Add a /health endpoint"
# The demo's settings, without the base branch's validation (it is not what these tests watch).
SETTINGS = {
    "deployment_settings": {
        "build_command": "python3 -m py_compile app.py",
        "deploy_command": "python3 app.py",
        "health_check_url": "/health",
        "health_check_timeout_seconds": 10,
        "port": 8080,
    },
    "validation_settings": {
        "test_command": "python3 -m unittest -v",
        "required_checks": ["build", "test", "health"],
        "max_retries": 2,
        "validate_base_branch": False,
    },
}


def demo_repository(path: Path) -> Path:
    """The demo's app in a git repository of its own (the demo recipe's goal fits it)."""
    path.mkdir(parents=True)
    for source in (DEMO / "repo").iterdir():
        if source.is_file():
            shutil.copy(source, path / source.name)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "The app"]):
        subprocess.run(
            ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.invalid", *args],
            cwd=path,
            check=True,
            capture_output=True,
        )
    return path


async def add_project(
    shell: Shell, root: Path, *, recipe: str | None = None, name: str = "shop"
) -> Path:
    """A project on the server, added as a developer would: `codegenapp projects add`."""
    repo = demo_repository(root / name)
    recipe_file = root / f"{name}-recipe.yaml"
    recipe_file.write_text(recipe or (DEMO / "recipe.yaml").read_text())
    settings_file = root / f"{name}-settings.json"
    settings_file.write_text(json.dumps(SETTINGS))
    added = await shell(
        "projects", "add", name, "--repository", str(repo),
        "--recipe", str(recipe_file), "--settings", str(settings_file),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return repo


@pytest.fixture
async def logged_in(server: Server, tmp_path: Path) -> Shell:
    shell = Shell(tmp_path)
    login = await shell("login", server.url, "--token", TEST_TOKEN)
    assert login.returncode == 0, login.stderr
    return shell


def terminal(shell: Shell, *args: str) -> pexpect.spawn:
    """`codegenapp ARGS` on a pseudo-terminal, as a person runs it."""
    return pexpect.spawn(
        sys.executable,
        ["-m", "codegenapp.cli", *args],
        env=shell.env,
        encoding="utf-8",
        timeout=180,
        dimensions=(60, 200),
    )


def ended(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None, child.signalstatus
    return child.exitstatus


async def test_a_run_is_followed_to_its_merge_with_the_plan_confirmed_at_the_prompt(
    logged_in: Shell, tmp_path: Path
) -> None:
    repo = await add_project(logged_in, tmp_path)

    def session() -> tuple[int, str]:
        child = terminal(logged_in, "run", GOAL, "--project", "shop")
        child.expect_exact("Agent run 1 · project shop")
        child.expect_exact("The agent proposes a plan:")
        child.expect_exact("1. Add a VERSION constant to app.py.")
        child.expect_exact("Confirm, modify or cancel? [c/m/x]: ")
        child.sendline("c")
        child.expect_exact("Plan confirmed")
        child.expect(r"Pull request #1 (opened )?at [0-9a-f]{12}")
        child.expect_exact("Validation 1 · attempt 1 · pull request #1")
        child.expect_exact("health_check")
        child.expect_exact(
            "Validation 1 failed at health_check (fault: code): the service exited with code 1"
        )
        child.expect_exact("last lines of health_check's log:")
        child.expect_exact("the end of what the agent was sent:")
        child.expect_exact("KeyError: 'APP_PORT'")  # why the service crashed
        child.expect_exact("whole log: codegenapp validations log 1 --step health_check")
        child.expect_exact("Sent validation 1's failure to the agent to fix (after attempt 1)")
        child.expect_exact("Validation 2 · attempt 2 · pull request #1")
        child.expect_exact("Validation 2 passed")
        child.expect(r"Merged pull request #1 at [0-9a-f]{12} \(merge commit [0-9a-f]{12}\)")
        child.expect_exact("Run completed: Merged pull request #1")
        return ended(child), child.before or ""

    code, rest = await asyncio.to_thread(session)
    assert code == 0, rest
    assert len(merges_on(repo)) == 1

    # Followed again later, the run's whole story is told from its stored events.
    again = await logged_in("runs", "follow", "1")
    assert again.returncode == 0, again.stderr
    story = again.stdout
    assert story.index("The agent proposes a plan:") < story.index("Validation 1 failed")
    assert story.index("Validation 2 passed") < story.index("Merged pull request #1")
    assert "Confirm, modify or cancel?" not in story


async def test_a_followed_run_prints_json_lines_and_waits_for_the_plan_command(
    logged_in: Shell, tmp_path: Path
) -> None:
    await add_project(logged_in, tmp_path)

    def session() -> tuple[int, list[dict[str, object]], str]:
        follow = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "codegenapp.cli",
                "run",
                GOAL,
                "-p",
                "shop",
                "--follow",
                "--json",
            ],
            env=logged_in.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert follow.stdout is not None
        lines = []
        for line in follow.stdout:
            lines.append(json.loads(line))
            if lines[-1].get("type") == "agent_run_plan_ready":
                confirmed = logged_in.run("plan", "confirm", "1")
                assert confirmed.returncode == 0, confirmed.stderr
                assert confirmed.stdout == "agent run 1 running: plan confirmed\n"
        _, errors = follow.communicate(timeout=60)
        return follow.returncode, lines, errors

    code, lines, errors = await asyncio.to_thread(session)
    assert code == 0, errors
    *events, run = lines
    assert run["id"] == 1
    assert run["status"] == "completed"
    assert run["pull_request"]["merged"] is True  # type: ignore[index]
    assert [event["id"] for event in events] == sorted({event["id"] for event in events})  # type: ignore[type-var]
    types = [event["type"] for event in events]
    assert types[0] == "agent_run_started"
    assert types[-1] == "agent_run_completed"
    verdicts = [
        (event["data"]["attempt"], event["data"]["status"])  # type: ignore[index]
        for event in events
        if event["type"] == "validation_completed"
    ]
    assert verdicts == [(1, "failed"), (2, "passed")]
    assert types.index("pull_request_merged") < types.index("agent_run_completed")
    # The way to answer the plan goes to stderr: stdout stays JSON.
    assert "The plan waits for your answer: codegenapp plan confirm 1" in errors


RECIPE_THAT_GIVES_UP = recipe_text(
    [
        {"plan": "1. Rewrite everything."},
        {"fail": "I cannot do it another way"},
    ]
)


async def test_a_plan_modified_at_the_prompt_and_a_run_that_fails_exits_1(
    logged_in: Shell, tmp_path: Path
) -> None:
    await add_project(logged_in, tmp_path, recipe=RECIPE_THAT_GIVES_UP)

    def session() -> int:
        child = terminal(logged_in, "run", "Rewrite it", "--project", "shop")
        child.expect_exact("1. Rewrite everything.")
        child.expect_exact("Confirm, modify or cancel? [c/m/x]: ")
        child.sendline("what?")  # not an answer: asked again
        child.expect_exact("Confirm, modify or cancel? [c/m/x]: ")
        child.sendline("m")
        child.expect_exact("What should change in the plan?: ")
        child.sendline("Change less")
        child.expect_exact("Plan changes requested: Change less")
        child.expect_exact("Run failed: The agent failed: I cannot do it another way")
        return ended(child)

    assert await asyncio.to_thread(session) == 1
    shown = await logged_in("runs", "show", "1", "--json")
    assert json.loads(shown.stdout)["status"] == "failed"


async def test_a_run_cancelled_at_the_prompt_exits_1(logged_in: Shell, tmp_path: Path) -> None:
    await add_project(logged_in, tmp_path)

    def session() -> int:
        child = terminal(logged_in, "run", GOAL, "--project", "shop")
        child.expect_exact("Confirm, modify or cancel? [c/m/x]: ")
        child.sendline("x")
        child.expect_exact("Run cancelled")
        return ended(child)

    assert await asyncio.to_thread(session) == 1


async def test_without_follow_the_run_is_started_and_the_way_to_follow_it_said(
    logged_in: Shell, tmp_path: Path
) -> None:
    await add_project(logged_in, tmp_path)
    started = await logged_in("run", GOAL, "--project", "shop")  # stdout is not a terminal
    assert started.returncode == 0, started.stderr
    assert started.stdout == "agent run 1 pending; follow it: codegenapp runs follow 1\n"
    as_json = await logged_in("run", GOAL, "--project", "1", "--no-follow", "--json")
    assert json.loads(as_json.stdout)["id"] == 2
    missing = await logged_in("run", GOAL, "--project", "nowhere")
    assert missing.returncode == 2
    assert "--project: no project named 'nowhere'" in one_line(missing)


def _serve(home: Path, port: int) -> AbstractAsyncContextManager[asyncio.subprocess.Process]:
    """`codegenapp serve` as its own process, which a test can stop and start again."""
    env = {
        "CODEGENAPP_HOME": str(home),
        "CODEGENAPP_REPOSITORY_ROOTS": str(home.parent),
        "CODEGENAPP_ADMIN_TOKEN": TEST_TOKEN,
        "CODEGENAPP_QUEUE_POLLING_INTERVAL_SEC": "0.02",
        "CODEGENAPP_RUN_QUEUE_POLLING_INTERVAL_SEC": "0.02",
        "CODEGENAPP_AGENT_POLL_INTERVAL_SEC": "0.02",
    }
    return codegenapp("serve", "--port", str(port), env=env, ready="Ready on")


@pytest.mark.slow
async def test_a_followed_run_survives_the_server_restarting(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    shell = Shell(
        tmp_path, CODEGENAPP_SERVER=f"http://127.0.0.1:{port}", CODEGENAPP_TOKEN=TEST_TOKEN
    )
    recipe = recipe_text([{"plan": "1. Say done."}, {"reply": "Done."}])
    follow = None
    try:
        async with _serve(home, port):
            await add_project(shell, tmp_path, recipe=recipe)
            follow = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "codegenapp.cli", "run", "Say done", "-p", "shop",
                "--follow", "--json",
                env=shell.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            assert follow.stdout is not None
            assert follow.stderr is not None
            before = []
            while not before or before[-1]["type"] != "agent_run_plan_ready":
                before.append(json.loads(await asyncio.wait_for(follow.stdout.readline(), 120)))
        # The server is gone: the live view says so and keeps trying.
        said = [(await asyncio.wait_for(follow.stderr.readline(), 60)).decode()]
        assert said[0].startswith("The plan waits for your answer: codegenapp plan confirm 1")
        said.append((await asyncio.wait_for(follow.stderr.readline(), 60)).decode())
        assert said[1].startswith(f"lost the connection to http://127.0.0.1:{port}; reconnecting")
        async with _serve(home, port):
            confirmed = await shell("plan", "confirm", "1")
            assert confirmed.returncode == 0, confirmed.stderr
            out, errors = await asyncio.wait_for(follow.communicate(), 120)
            assert follow.returncode == 0, errors
            history = json.loads(
                (await shell("events", "--run", "1", "--json", "-n", "1000")).stdout
            )
    finally:
        if follow is not None and follow.returncode is None:
            follow.kill()
            await follow.wait()
    after = [json.loads(line) for line in out.decode().splitlines()]
    *events, run = before + after
    assert run["status"] == "completed"
    # Every event of the run, once each and in order, across the restart.
    assert [event["id"] for event in events] == [event["id"] for event in history]
    assert "reconnected; catching up after event" in errors.decode()


@pytest.mark.slow
def test_the_demo_shows_its_run_in_the_same_live_view(tmp_path: Path) -> None:
    shell = Shell(tmp_path, CODEGENAPP_HOME=str(tmp_path / "home"))
    demo = subprocess.Popen(
        [sys.executable, "-m", "codegenapp.cli", "demo"],
        env={**shell.env, "CODEGENAPP_QUEUE_POLLING_INTERVAL_SEC": "0.02"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert demo.stdout is not None
    lines = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if line.startswith("demo: done."):
                break
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=60)
    story = "".join(lines)
    assert "Agent run 1 · project demo" in story
    assert "demo: the plan is confirmed for you" in story
    assert story.index("The agent proposes a plan:") < story.index("  agent  Plan confirmed")
    assert "the end of what the agent was sent:" in story
    assert "Merged pull request #1" in story
    assert "Run completed: Merged pull request #1" in story


@pytest.mark.slow
def test_the_demo_without_a_server_shows_its_run_in_the_same_view_readable_in_a_log(
    tmp_path: Path,
) -> None:
    shell = Shell(tmp_path, CODEGENAPP_HOME=str(tmp_path / "home"))
    demo = shell.run(
        "demo", "--no-serve", timeout=300, CODEGENAPP_QUEUE_POLLING_INTERVAL_SEC="0.02"
    )
    assert demo.returncode == 0, demo.stderr
    story = demo.stdout
    assert story.startswith("Agent run 1 · project demo\n")
    assert "demo: the plan is confirmed for you" in story
    assert story.index("The agent proposes a plan:") < story.index("  agent  Plan confirmed")
    assert "  ✗ health_check " in story
    assert "the end of what the agent was sent:" in story
    assert "Run completed: Merged pull request #1" in story
    assert (
        story.rstrip().splitlines()[-1].startswith('demo finished: {"id": 1, "status": "completed"')
    )
    # A CI log, not a terminal: no colours, no spinner, each line once.
    assert "\x1b" not in story
    merged = [line for line in story.splitlines() if line.startswith("Merged pull request #1 ")]
    assert len(merged) == 1, story


async def test_a_step_log_followed_live_is_the_stored_log_printed_once(
    logged_in: Shell, tmp_path: Path
) -> None:
    await add_project(logged_in, tmp_path, recipe=recipe_text([{"files": {"NOTES.md": "hi\n"}}]))
    slow = tmp_path / "slow.json"
    slow.write_text(json.dumps({
        "deployment_settings": {
            "build_command": "for i in 1 2 3; do echo line-$i; sleep 1; done",
            "deploy_command": "", "health_check_url": "",
        },
        "validation_settings": {"required_checks": [], "validate_base_branch": False},
    }))  # fmt: skip
    assert (await logged_in("projects", "edit", "shop", "--settings", str(slow))).returncode == 0

    def session() -> tuple[str, str, int]:
        run = subprocess.Popen(
            [sys.executable, "-m", "codegenapp.cli", "run", "Notes", "-p", "shop", "--follow",
             "--json"],
            env=logged_in.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        assert run.stdout is not None
        for line in run.stdout:
            event = json.loads(line)
            if event.get("type") == "validation_started":
                break
        validation = str(event["data"]["validation_id"])
        followed = logged_in.run("validations", "log", validation, "--step", "deploy", "-f")
        assert followed.returncode == 0, followed.stderr
        run.communicate(timeout=120)
        return validation, followed.stdout, run.returncode

    validation, followed, code = await asyncio.to_thread(session)
    assert code == 0
    assert [line for line in followed.splitlines() if line.startswith("line-")] == [
        "line-1",
        "line-2",
        "line-3",
    ]
    stored = await logged_in("validations", "log", validation, "--step", "deploy")
    assert followed == stored.stdout
