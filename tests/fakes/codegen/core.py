"""The one write path of the fake: every change to accounts and runs, from a test or over HTTP,
goes through `Codegen`; nothing else assigns a run's status."""

import asyncio
import secrets
from collections.abc import Sequence
from pathlib import Path

from tests.fakes.codegen import agent
from tests.fakes.codegen.behaviour import Behaviour
from tests.fakes.codegen.state import (
    Account,
    LogEntry,
    Organization,
    PullRequestLink,
    RepositoryLink,
    Run,
    State,
    TurnRecord,
)
from tests.fakes.codegen.traffic import Limits, Traffic
from tests.fakes.codegen.workspace import Seat
from tests.fakes.github import FakeGitHub


class Codegen:
    """Users with API keys, organizations with their repositories on the fake GitHub, and agent
    runs whose turns a pluggable behaviour answers in the background."""

    def __init__(
        self,
        root: Path,
        *,
        github: FakeGitHub | None,
        behaviour: Behaviour,
        limits: Limits,
        progression: Sequence[str],
    ) -> None:
        if not progression:
            raise ValueError("a turn shows at least one status before it ends (e.g. PENDING)")
        self.root = root
        self.github = github
        self.behaviour = behaviour
        self.progression = tuple(progression)
        self.state = State()
        self.traffic = Traffic(limits)
        self.problems: list[str] = []  # what went wrong in the agent's work: fails the test
        self.tasks: set[asyncio.Task[None]] = set()
        self._seat: Seat | None = None

    # Accounts, organizations, repositories

    def add_user(self, username: str, *, organizations: Sequence[int] = ()) -> str:
        """A new user with an API key (returned), member of `organizations`."""
        user_id = self.state.new_id()
        token = f"sk-{secrets.token_hex(16)}"
        self.state.accounts[token] = Account(
            id=user_id,
            token=token,
            github_username=username,
            github_user_id=str(self.state.new_id()),
            email=f"{username}@example.com",
            full_name=username.title(),
        )
        for org_id in organizations:
            self.state.organizations[org_id].members.add(user_id)
        return token

    def add_organization(self, name: str, *, members: Sequence[str] = ()) -> int:
        org_id = self.state.new_id()
        organization = Organization(org_id, name)
        organization.members |= {self.state.account(login).id for login in members}
        self.state.organizations[org_id] = organization
        return org_id

    def connect_repository(self, full_name: str, *, org_id: int) -> int:
        """Installs Codegen on `full_name` of the fake GitHub for the organization, as its
        GitHub App would be: the bot may push there. Returns Codegen's id for the repository.
        Without a fake GitHub the repository is a name only: runs may reply, not change it."""
        default_branch = "main"
        if self.github is not None:
            if self._seat is None:
                self._seat = Seat.on(self.github)
            default_branch = self._seat.grant(full_name)
        link = RepositoryLink(self.state.new_id(), full_name, default_branch)
        self.state.organizations[org_id].repositories[link.id] = link
        return link.id

    @property
    def seat(self) -> Seat:
        if self._seat is None:
            raise RuntimeError("changing a repository needs FakeCodegen(github=...)")
        return self._seat

    # Runs

    def create_run(
        self,
        organization: Organization,
        account: Account,
        *,
        prompt: str,
        repository: RepositoryLink | None,
        model: str | None,
        agent_type: str | None,
        metadata: dict[str, object] | None,
    ) -> Run:
        run = Run(
            id=self.state.new_id(),
            organization_id=organization.id,
            user_id=account.id,
            repository=repository,
            model=model,
            agent_type=agent_type,
            metadata=metadata,
            status=self.progression[0],
        )
        self.state.runs[run.id] = run
        organization.runs_created += 1
        self._begin_turn(run, prompt)
        return run

    def resume(self, run: Run, prompt: str) -> None:
        """The run takes `prompt` as its next turn; a turn still in progress is answered first,
        as the agent reads its messages one at a time."""
        self.log(run, "USER_MESSAGE", observation=prompt)
        self._begin_turn(run, prompt)

    def poll(self, run: Run) -> None:
        """What a read of the run does: the next upcoming status shows, or, once they ran out
        and the agent is done, the turn's outcome."""
        turn = run.turn
        if turn.upcoming:
            run.status = turn.upcoming.pop(0)
        elif turn.outcome is not None:
            run.status, run.result = turn.outcome

    def ban(self, run: Run) -> int:
        """Stops the agent on the run if it is working; returns how many were stopped."""
        turn = run.turn
        if turn.outcome is not None:
            return 0
        turn.upcoming.clear()
        turn.outcome = ("STOPPED", "Stopped: all agents on this pull request were banned.")
        run.status = turn.outcome[0]
        return 1

    def insert_status(self, run: Run, statuses: Sequence[str]) -> None:
        run.turn.upcoming[0:0] = statuses

    def finish(self, run: Run, turn: TurnRecord, status: str, result: str) -> None:
        """The agent is done with `turn`; a turn stopped meanwhile keeps its STOPPED."""
        if turn.outcome is None:
            turn.outcome = (status, result)

    def record_push(self, run: Run, branch: str) -> None:
        run.branch = branch

    def record_pull_request(self, run: Run, pr: PullRequestLink) -> None:
        run.pull_requests.append(pr)

    def log(
        self,
        run: Run,
        message_type: str,
        *,
        thought: str | None = None,
        tool_name: str | None = None,
        tool_input: dict[str, object] | None = None,
        tool_output: dict[str, object] | None = None,
        observation: dict[str, object] | str | None = None,
    ) -> None:
        run.logs.append(
            LogEntry(run.id, message_type, thought, tool_name, tool_input, tool_output, observation)
        )

    def _begin_turn(self, run: Run, prompt: str) -> None:
        previous = run.turns[-1].task if run.turns else None
        upcoming = list(self.progression)
        turn = TurnRecord(len(run.turns) + 1, prompt, upcoming)
        run.status = upcoming.pop(0)
        run.turns.append(turn)
        task = asyncio.create_task(agent.take_turn(self, run, turn, after=previous))
        turn.task = task
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
