"""The dependencies every workflow and step uses, bound once per process by the wiring code.

DBOS finds a workflow again after a crash by its registered name, so workflows cannot take
their database or drivers as arguments; they ask `current()` instead. Only `main.py`,
`cli.py` and tests call `bind`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from codegenapp.bus import Bus
from codegenapp.db.engine import Database
from codegenapp.domain.agent_settings import AgentSettings
from codegenapp.domain.repositories import ForgeKind
from codegenapp.domain.secret_box import SecretBox
from codegenapp.drivers.agent import Agent
from codegenapp.drivers.evaluator import Evaluator, Judge
from codegenapp.drivers.forge import Forge, WebhookReader
from codegenapp.drivers.sandbox import Sandbox
from codegenapp.settings import Settings


class DriverSet(Protocol):
    """Which implementation serves a project: decided in `drivers/registry.py`."""

    def forge(self, kind: ForgeKind) -> Forge:
        """The forge of `kind`; raise `RepositoryInvalid` (field `forge`) if this server
        cannot reach it (GitHub without credentials)."""
        ...

    def agent(self, settings: AgentSettings) -> Agent: ...

    async def reap_sandboxes(self, *, mine: bool) -> list[str]:
        """Remove sandboxes left by dead workers (and with `mine`, this process's own)."""
        ...

    def webhooks(self, forge: str) -> WebhookReader | None:
        """The reader of `forge`'s webhook deliveries, or None while they are off here (no
        webhook secret set, or no such forge)."""
        ...

    async def check_sandbox(self, kind: str) -> None:
        """Raise `SandboxUnavailable`, saying why, if sandbox `kind` cannot run here now (for
        docker: no daemon answers)."""
        ...

    def sandbox(self, kind: str | None) -> Sandbox:
        """The sandbox driver named `kind` (a project's setting, or a stored handle's driver);
        None: the server's default. Raise `SandboxUnavailable` if it cannot run here."""
        ...

    def evaluator(self) -> Evaluator:
        """The browser that evaluates previews (started on first use, closed at shutdown)."""
        ...

    def judge(self) -> Judge | None:
        """The AI judge of web evaluations, or None if this server has none configured."""
        ...


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    database: Database
    bus: Bus
    drivers: DriverSet
    secret_box: SecretBox  # seals and opens project secrets
    host_secrets: tuple[str, ...] = ()  # masked out of every log we keep or pass on

    def secrets(self, extra: Iterable[str] = ()) -> tuple[str, ...]:
        return (*self.host_secrets, *extra)


_current: Runtime | None = None


def bind(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no Runtime is bound: call flows.runtime.bind() during start-up")
    return _current
