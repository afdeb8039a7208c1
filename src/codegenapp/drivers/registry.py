"""Settings → driver instances: one explicit `match` per family, no discovery magic."""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from codegenapp.domain.agent_settings import AgentSettings
from codegenapp.domain.repositories import ForgeKind
from codegenapp.domain.secret_box import SecretBox
from codegenapp.drivers.agent import Agent
from codegenapp.drivers.agent.cli import CliAgent
from codegenapp.drivers.agent.codegen import CodegenAgent, codegen_api
from codegenapp.drivers.agent.scripted import ScriptedAgent
from codegenapp.drivers.evaluator import Evaluator, Judge
from codegenapp.drivers.evaluator.llm import LlmJudge
from codegenapp.drivers.evaluator.playwright import PlaywrightEvaluator
from codegenapp.drivers.forge import Forge, WebhookReader
from codegenapp.drivers.forge.github import GitHubForge, github_forge
from codegenapp.drivers.forge.github_webhooks import GitHubWebhooks
from codegenapp.drivers.forge.local_git import LocalGitForge
from codegenapp.drivers.sandbox import Sandbox
from codegenapp.drivers.sandbox.bubblewrap import BubblewrapSandbox, bubblewrap_available
from codegenapp.drivers.sandbox.docker import DockerSandbox, docker_available
from codegenapp.drivers.sandbox.process import ProcessSandbox
from codegenapp.errors import ForgeError, RepositoryInvalid, SandboxError, SandboxUnavailable
from codegenapp.settings import Settings

log = logging.getLogger(__name__)


def make_sandbox(kind: str, settings: Settings) -> Sandbox:
    """The driver for `kind` ("auto" resolved already). Raise `SandboxUnavailable` if it
    cannot run here, saying why and what to do."""
    state = settings.state_dir / "sandboxes"
    match kind:
        case "process":
            return ProcessSandbox(state_dir=state, work_root=settings.work_dir)
        case "bubblewrap":
            if not bubblewrap_available():
                raise SandboxUnavailable(
                    "the bubblewrap sandbox does not work here "
                    "(install it: apt-get install -y bubblewrap)"
                )
            return BubblewrapSandbox(
                state_dir=state,
                work_root=settings.work_dir,
                cache_root=settings.cache_dir,
                tools=settings.tool_dirs,
            )
        case "docker":
            return DockerSandbox(
                settings.docker_host,
                proxy_image=settings.egress_proxy_image,
                publish_address=settings.docker_publish_address,
            )
        case _:
            raise SandboxUnavailable(f"no sandbox driver named {kind!r}")


def resolve_default(settings: Settings) -> str:
    """The server's default sandbox: CODEGENAPP_SANDBOX, or for "auto" the best that works
    here. Blocking (it tries bwrap once, and may ping Docker): call it at start-up."""
    if settings.sandbox != "auto":
        return settings.sandbox
    if bubblewrap_available():
        return "bubblewrap"
    if _docker_answers(settings.docker_host):
        return "docker"
    log.warning("bubblewrap is not available: validations run NOT ISOLATED")
    return "process"


def _docker_answers(host: str | None) -> bool:
    # Start-up may already run in the event loop: ask from a thread with a loop of its own.
    with ThreadPoolExecutor(max_workers=1) as asking:
        return asking.submit(asyncio.run, docker_available(host)).result() is None


def llm_judge(settings: Settings) -> LlmJudge | None:
    """The judge of LLM_BASE_URL and LLM_MODEL, or None if either is unset."""
    if not settings.llm_base_url or not settings.llm_model:
        return None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return LlmJudge(settings.llm_base_url, model=settings.llm_model, api_key=key or None)


class Registry:
    """Which implementation serves a project. Built once per process, in `main.py`."""

    def __init__(self, settings: Settings, *, secret_box: SecretBox) -> None:
        """`secret_box`: the server's key (a command-line agent's job keeps the secrets it
        was granted sealed with it)."""
        self._local_git = LocalGitForge(
            settings.allowed_repository_roots, mirror_dir=settings.state_dir / "mirrors"
        )
        self._settings = settings
        self._github: GitHubForge | None = None  # made at first use: its key is read then
        self._default_sandbox = resolve_default(settings)
        self._sandboxes: dict[str, Sandbox] = {}
        self.sandbox(None)  # the default must work: say so at start-up, not at the first PR
        self._scripted = ScriptedAgent(
            state_dir=settings.state_dir / "agents" / "scripted", forges=self.forge
        )
        self._codegen = CodegenAgent(codegen_api(settings))
        self._cli = CliAgent(
            settings.state_dir / "agents" / "cli",
            forges=self.forge,
            sandboxes=self.sandbox,
            secret_box=secret_box,
        )
        # Its browser starts at the first evaluation; previews are published on loopback, or
        # on a Docker host's address: the only hosts the browser may look up.
        self._evaluator = PlaywrightEvaluator(
            settings.chromium,
            state_dir=settings.state_dir,
            preview_hosts=tuple(dict.fromkeys(("127.0.0.1", settings.docker_publish_address))),
        )

        self._judge = llm_judge(settings)

    def forge(self, kind: ForgeKind) -> Forge:
        if kind is ForgeKind.LOCAL:
            return self._local_git
        if self._github is None:
            try:
                self._github = github_forge(self._settings, self._settings.state_dir / "mirrors")
            except ForgeError as error:
                raise RepositoryInvalid("forge", f"GitHub cannot be used here: {error}") from error
            if self._github is None:
                raise RepositoryInvalid(
                    "forge",
                    "GitHub is not configured on this server: set GITHUB_TOKEN, or "
                    "GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY (or _FILE)",
                )
        return self._github

    def agent(self, settings: AgentSettings) -> Agent:
        match settings.provider:
            case "scripted":
                return self._scripted
            case "codegen":
                return self._codegen
            case "cli":
                return self._cli

    async def reap_sandboxes(self, *, mine: bool) -> list[str]:
        """Remove what dead workers' sandboxes left on this machine (at start-up), or with
        `mine` this process's own as well (at shutdown: in-flight validations were cut)."""
        if mine:  # their turns first: each destroys its sandbox and says the server stopped
            await self._cli.stop_turns()
        removed: list[str] = []
        for kind in self._reapable():
            try:
                driver = self.sandbox(kind)
            except SandboxUnavailable:
                continue
            try:
                removed += await driver.reap(mine=mine)
            except SandboxError as error:
                log.warning("could not remove what %s sandboxes left: %s", kind, error)
        return removed

    def _reapable(self) -> list[str]:
        # Host-process sandboxes share one state directory; Docker's are found by label, on
        # the daemon this server uses (only if it uses one: no daemon is asked otherwise).
        kinds = ["process"]
        for kind in ("bubblewrap", "docker"):
            if self._default_sandbox == kind or kind in self._sandboxes:
                kinds.insert(0, kind)
        return kinds

    def webhooks(self, forge: str) -> WebhookReader | None:
        secret = self._settings.github_webhook_secret
        if forge != "github" or secret is None or not secret.get_secret_value():
            return None
        return GitHubWebhooks(secret.get_secret_value().encode())

    async def check_sandbox(self, kind: str) -> None:
        driver = await asyncio.to_thread(self.sandbox, kind)  # bubblewrap's check runs bwrap
        if driver.name == "docker":
            reason = await docker_available(self._settings.docker_host)
            if reason is not None:
                raise SandboxUnavailable(reason)

    def evaluator(self) -> Evaluator:
        return self._evaluator

    def judge(self) -> Judge | None:
        """The AI judge, if this server has one (LLM_BASE_URL and LLM_MODEL set)."""
        return self._judge

    def sandbox(self, kind: str | None) -> Sandbox:
        chosen = kind or self._default_sandbox
        if chosen not in self._sandboxes:
            self._sandboxes[chosen] = make_sandbox(chosen, self._settings)
        return self._sandboxes[chosen]
