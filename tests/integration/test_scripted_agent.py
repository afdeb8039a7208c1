"""The scripted agent replaying recipes against a real repository and the local git forge."""

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from codegenapp.domain.agent_settings import ScriptedAgentSettings
from codegenapp.domain.repositories import ForgeKind
from codegenapp.drivers.agent import (
    FIRST_TURN,
    Agent,
    AgentJob,
    AgentJobStatus,
    AgentTask,
    TurnMarker,
)
from codegenapp.drivers.agent.scripted import ScriptedAgent
from codegenapp.drivers.forge import ChangeRequest, ChangeState, Forge
from codegenapp.drivers.forge.local_git import LocalGitForge
from codegenapp.errors import AgentConfigInvalid, AgentError

GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Person",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test Person",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}

RECIPE = """\
turns:
  - plan: |
      1. Add a /health endpoint
    progress: [reading the code]
  - files:
      app.py: |
        print("health")
      docs/health.md: "GET /health\\n"
    delete: [old.py]
    message: "Add /health"
    title: "Add a health endpoint"
    reply: "Opened a pull request"
  - files:
      app.py: |
        print("healthy")
"""


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A non-bare repository with `main` checked out, holding README.md and old.py."""
    path = tmp_path / "project"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    (path / "README.md").write_text("hello\n")
    (path / "old.py").write_text("old\n")
    git(path, "add", ".")
    git(path, "commit", "--quiet", "-m", "Initial commit")
    return path


def only(forge: Forge) -> Callable[[ForgeKind], Forge]:
    """The agent's forges: this one, for the local repositories these tests use."""

    def of(kind: ForgeKind) -> Forge:
        assert kind is ForgeKind.LOCAL, kind
        return forge

    return of


@pytest.fixture
def forge(tmp_path: Path) -> LocalGitForge:
    return LocalGitForge([tmp_path], mirror_dir=tmp_path / "mirrors")


@pytest.fixture
def agent(tmp_path: Path, forge: LocalGitForge) -> ScriptedAgent:
    return ScriptedAgent(tmp_path / "agent-state", only(forge))


def task_for(repo: Path, recipe: str, goal: str = "Add a health endpoint\n\nPlease.") -> AgentTask:
    return AgentTask(
        run_id=7,
        goal=goal,
        repository=str(repo),
        base_branch="main",
        branch="codegen/run-7",
        settings=ScriptedAgentSettings(provider="scripted", recipe=recipe),
    )


def test_the_scripted_agent_is_an_agent_and_says_it_is_no_ai(tmp_path: Path) -> None:
    agent: Agent = ScriptedAgent(
        tmp_path, only(LocalGitForge([tmp_path], mirror_dir=tmp_path / "mirrors"))
    )  # mypy checks the Protocol here

    assert (agent.name, agent.is_ai) == ("scripted", False)


async def test_a_run_plans_opens_a_pull_request_updates_it_and_runs_out_of_turns(
    agent: ScriptedAgent, forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    task = task_for(repo, RECIPE)

    job = await agent.start(task, request_id="start")
    planned = await agent.poll(job, turn=FIRST_TURN)
    confirm = await agent.resume(job, "Go ahead", request_id="confirm")
    opened = await agent.poll(job, turn=confirm)
    first_head = git(repo, "rev-parse", "refs/heads/codegen/run-7")
    fix = await agent.resume(job, "Say healthy", request_id="fix-1")
    updated = await agent.poll(job, turn=fix)
    second_head = git(repo, "rev-parse", "refs/heads/codegen/run-7")
    more = await agent.resume(job, "Anything else?", request_id="more")
    exhausted = await agent.poll(job, turn=more)

    assert (confirm, fix, more) == ("1", "2", "3")
    assert (planned.status, planned.plan) == (AgentJobStatus.WAITING, "1. Add a /health endpoint\n")
    assert planned.pull_request is None
    first = opened.pull_request
    assert first is not None
    assert (opened.status, opened.reply) == (AgentJobStatus.WAITING, "Opened a pull request")
    assert first.branch == "codegen/run-7"
    assert git(repo, "show", f"{first_head}:app.py") == 'print("health")'
    assert git(repo, "show", f"{first_head}:docs/health.md") == "GET /health"
    assert "old.py" not in git(repo, "ls-tree", "--name-only", first_head)
    assert git(repo, "log", "-1", "--format=%s|%an", first_head) == (
        "Add /health|Scripted agent (CodegenApp)"
    )
    second = updated.pull_request
    assert second is not None
    assert (second.number, second.url) == (first.number, first.url)
    assert git(repo, "rev-parse", f"{second_head}^") == first_head
    assert git(repo, "log", "-1", "--format=%s", second_head) == "Scripted change 3"
    change = await forge.get_change_request(str(repo), first.number)
    assert change is not None
    assert (change.title, change.head_sha, change.state) == (
        "Add a health endpoint",
        second_head,
        ChangeState.OPEN,
    )
    assert (exhausted.status, exhausted.pull_request) == (AgentJobStatus.FAILED, None)
    assert exhausted.error == "the recipe has no turn left for this message"
    # The agent wrote through plumbing only: the checked-out work tree never moved.
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert (repo / "old.py").exists()
    assert not (repo / "app.py").exists()


async def test_a_bare_repository_gets_the_commits_and_the_pull_request(
    agent: ScriptedAgent, forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(repo), str(bare))
    recipe = "- files: {a.txt: a}\n  delete: [old.py]\n"

    job = await agent.start(task_for(bare, recipe), request_id="s")
    state = await agent.poll(job, turn=FIRST_TURN)

    assert state.pull_request is not None, state.error
    assert git(bare, "ls-tree", "--name-only", "refs/heads/codegen/run-7").split() == [
        "README.md",
        "a.txt",
    ]
    assert [c.number for c in await forge.list_open_change_requests(str(bare))] == [1]


async def test_the_pull_request_title_defaults_to_the_goals_first_line(
    agent: ScriptedAgent, forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    recipe = "- files: {a.txt: a}\n"

    job = await agent.start(task_for(repo, recipe, goal="\nFix the login\nDetails"), request_id="r")
    state = await agent.poll(job, turn=FIRST_TURN)

    assert state.pull_request is not None
    change = await forge.get_change_request(str(repo), state.pull_request.number)
    assert change is not None
    assert change.title == "Fix the login"
    assert git(repo, "log", "-1", "--format=%s", change.head_sha) == "Scripted change 1"


async def test_starting_again_with_the_same_request_id_returns_the_same_job(
    agent: ScriptedAgent, repo: Path, tmp_path: Path
) -> None:
    task = task_for(repo, RECIPE)

    job = await agent.start(task, request_id="start")
    again = await agent.start(task, request_id="start")
    other = await agent.start(task, request_id="another start")

    assert again == job
    assert other != job
    assert (await agent.poll(job, turn=FIRST_TURN)).status is AgentJobStatus.WAITING
    assert agent.prompts(job) == [task.goal]


async def test_resuming_again_with_the_same_request_id_sends_nothing_new(
    agent: ScriptedAgent, repo: Path, tmp_path: Path
) -> None:
    job = await agent.start(task_for(repo, RECIPE), request_id="s")
    marker = await agent.resume(job, "Go ahead", request_id="confirm")
    head = git(repo, "rev-parse", "refs/heads/codegen/run-7")

    again = await agent.resume(job, "Go ahead", request_id="confirm")

    assert again == marker
    assert (await agent.poll(job, turn=again)).pull_request is not None
    # A turn not yet opened is running, whatever the last answer says.
    assert (await agent.poll(job, turn=TurnMarker("2"))).status is AgentJobStatus.RUNNING
    assert git(repo, "rev-parse", "refs/heads/codegen/run-7") == head
    assert agent.prompts(job) == ["Add a health endpoint\n\nPlease.", "Go ahead"]


async def test_the_prompts_record_the_goal_and_every_message(
    agent: ScriptedAgent, repo: Path, tmp_path: Path
) -> None:
    recipe = "- plan: p\n- reply: r\n"
    task = task_for(repo, recipe, goal="Do the thing")

    job = await agent.start(task, request_id="1")
    await agent.resume(job, "Modify: do it differently", request_id="2")
    await agent.resume(job, "The tests failed:\n```\nboom\n```", request_id="3")

    assert agent.prompts(job) == [
        "Do the thing",
        "Modify: do it differently",
        "The tests failed:\n```\nboom\n```",
    ]


async def test_progress_is_labelled_and_read_from_a_cursor(
    agent: ScriptedAgent, repo: Path, tmp_path: Path
) -> None:
    job = await agent.start(task_for(repo, RECIPE), request_id="s")
    first = await agent.poll(job, turn=FIRST_TURN)
    marker = await agent.resume(job, "Go ahead", request_id="r")

    newer = await agent.poll(job, turn=marker, since=first.cursor)
    everything = await agent.poll(job, turn=marker)

    assert "[scripted agent] reading the code" in first.progress
    assert everything.progress == first.progress + newer.progress
    assert newer.cursor == everything.cursor == len(everything.progress)
    assert newer.progress
    assert all(m.startswith("[scripted agent]") for m in everything.progress)
    assert agent.is_ai is False


async def test_a_fail_turn_ends_the_job_failed_and_it_takes_no_more_messages(
    agent: ScriptedAgent, repo: Path, tmp_path: Path
) -> None:
    recipe = "- fail: the goal is out of scope\n- reply: unreachable\n"
    job = await agent.start(task_for(repo, recipe), request_id="s")

    state = await agent.poll(job, turn=FIRST_TURN)
    with pytest.raises(AgentError, match="is failed: the goal is out of scope"):
        await agent.resume(job, "try again", request_id="r")

    assert (state.status, state.error) == (AgentJobStatus.FAILED, "the goal is out of scope")


async def test_editing_the_recipe_after_start_does_not_change_the_job(
    agent: ScriptedAgent, repo: Path
) -> None:
    job = await agent.start(task_for(repo, "- plan: p\n- reply: as recorded\n"), request_id="s")

    # The project's recipe changes; a start with the same request id is the same job.
    edited = task_for(repo, "- reply: changed\n- reply: changed\n")
    assert await agent.start(edited, request_id="s") == job
    await agent.resume(job, "yes", request_id="r")

    assert (await agent.poll(job, turn=FIRST_TURN)).reply == "as recorded"


async def test_cancelling_is_idempotent_and_stops_the_job(
    agent: ScriptedAgent, repo: Path, tmp_path: Path
) -> None:
    job = await agent.start(task_for(repo, RECIPE), request_id="s")

    await agent.cancel(job)
    await agent.cancel(job)

    state = await agent.poll(job, turn=FIRST_TURN)
    assert state.status is AgentJobStatus.CANCELLED
    assert state.progress.count("[scripted agent] cancelled") == 1
    with pytest.raises(AgentError, match="is cancelled"):
        await agent.resume(job, "go on", request_id="r")


async def test_a_bad_recipe_is_refused_by_check_settings_and_start_creates_no_job(
    agent: ScriptedAgent, repo: Path, tmp_path: Path
) -> None:
    recipe = "- reply: ok\n- fils: {a: b}\n"
    task = task_for(repo, recipe)

    with pytest.raises(AgentConfigInvalid) as checked:
        await agent.check_settings(task.settings)
    with pytest.raises(AgentConfigInvalid):
        await agent.start(task, request_id="s")

    assert checked.value.field == "agent.recipe"
    assert checked.value.message.startswith("turn 2: unknown key 'fils'")
    assert not list((tmp_path / "agent-state").glob("**/*.json"))


async def test_a_good_recipe_passes_check_settings(agent: ScriptedAgent) -> None:
    await agent.check_settings(ScriptedAgentSettings(provider="scripted", recipe=RECIPE))


async def test_an_unknown_job_is_an_agent_error(agent: ScriptedAgent) -> None:
    with pytest.raises(AgentError, match="no scripted job"):
        await agent.poll(
            AgentJob(driver="scripted", external_id="1-0123456789abcdef"), turn=FIRST_TURN
        )
    with pytest.raises(AgentError, match="is not a scripted agent job"):
        await agent.poll(
            AgentJob(driver="scripted", external_id="../../etc/passwd"), turn=FIRST_TURN
        )


async def test_a_files_turn_without_a_base_branch_fails_the_job_clearly(
    agent: ScriptedAgent, repo: Path, tmp_path: Path
) -> None:
    recipe = "- files: {a.txt: a}\n"
    task = task_for(repo, recipe)
    task = AgentTask(task.run_id, task.goal, task.repository, "trunk", task.branch, task.settings)

    job = await agent.start(task, request_id="s")
    state = await agent.poll(job, turn=FIRST_TURN)

    assert state.status is AgentJobStatus.FAILED
    assert state.error is not None
    assert "neither branch 'codegen/run-7' nor 'trunk'" in state.error


class SimulatedCrash(Exception):
    """Stands for the process dying: nothing in the agent catches it."""


class ForgeThatCrashesOnce(LocalGitForge):
    """The process 'dies' right after the commit is pushed, before the pull request opens."""

    def __init__(self, root: Path) -> None:
        super().__init__([root], mirror_dir=root / "mirrors")
        self.crashed = False

    async def open_change_request(
        self, repository: str, *, head_branch: str, base_branch: str, title: str, body: str
    ) -> ChangeRequest:
        if not self.crashed:
            self.crashed = True
            raise SimulatedCrash
        return await super().open_change_request(
            repository, head_branch=head_branch, base_branch=base_branch, title=title, body=body
        )


async def test_a_files_turn_replayed_after_a_crash_makes_no_second_commit(
    repo: Path, tmp_path: Path
) -> None:
    recipe = "- files: {a.txt: a}\n"
    task = task_for(repo, recipe)
    crashing = ScriptedAgent(tmp_path / "agent-state", only(ForgeThatCrashesOnce(tmp_path)))
    with pytest.raises(SimulatedCrash):
        await crashing.start(task, request_id="s")
    pushed = git(repo, "rev-parse", "refs/heads/codegen/run-7")

    restarted = ScriptedAgent(
        tmp_path / "agent-state", only(LocalGitForge([tmp_path], mirror_dir=tmp_path / "mirrors"))
    )
    job = await restarted.start(task, request_id="s")
    state = await restarted.poll(job, turn=FIRST_TURN)

    assert state.pull_request is not None
    assert git(repo, "rev-parse", "refs/heads/codegen/run-7") == pushed
    assert git(repo, "rev-list", "--count", "main..codegen/run-7") == "1"
    assert restarted.prompts(job) == [task.goal]
