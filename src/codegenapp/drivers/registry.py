"""Settings → driver instances: one explicit `match` per family, no discovery magic."""

import logging

from codegenapp.domain.project_settings import AgentSettings
from codegenapp.drivers.agent import Agent
from codegenapp.drivers.agent.scripted import ScriptedAgent
from codegenapp.drivers.forge import Forge
from codegenapp.drivers.forge.local_git import LocalGitForge
from codegenapp.drivers.sandbox import Sandbox
from codegenapp.drivers.sandbox.bubblewrap import BubblewrapSandbox, bubblewrap_available
from codegenapp.drivers.sandbox.process import ProcessSandbox
from codegenapp.errors import SandboxUnavailable
from codegenapp.settings import Settings

log = logging.getLogger(__name__)


def make_sandbox(settings: Settings) -> Sandbox:
    state = settings.state_dir / "sandboxes"
    match settings.sandbox:
        case "process":
            return ProcessSandbox(state_dir=state)
        case "bubblewrap":
            if not bubblewrap_available():
                raise SandboxUnavailable(
                    "CODEGENAPP_SANDBOX=bubblewrap but bwrap does not work here "
                    "(install it: apt-get install -y bubblewrap)"
                )
            return BubblewrapSandbox(state_dir=state)
        case "auto":
            if bubblewrap_available():
                return BubblewrapSandbox(state_dir=state)
            log.warning("bubblewrap is not available: validations run NOT ISOLATED")
            return ProcessSandbox(state_dir=state)


class Registry:
    """Which implementation serves a project. Built once per process, in `main.py`."""

    def __init__(self, settings: Settings) -> None:
        self._local_git = LocalGitForge(
            settings.allowed_repository_roots, mirror_dir=settings.state_dir / "mirrors"
        )
        self._sandbox = make_sandbox(settings)
        self._scripted = ScriptedAgent(
            state_dir=settings.state_dir / "agents" / "scripted", forge=self._local_git
        )

    def forge(self, repository: str) -> Forge:
        # Local paths only, for now; `github` joins here with its driver.
        return self._local_git

    def agent(self, settings: AgentSettings) -> Agent:
        match settings.provider:
            case "scripted":
                return self._scripted

    def sandbox(self) -> Sandbox:
        return self._sandbox
