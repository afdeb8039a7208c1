"""Which agent answers a project's goals, and how: one settings shape per provider, told apart
by `provider` (a project that names none is the scripted stand-in, as before there was a
choice)."""

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from codegenapp.domain.limits import STORABLE
from codegenapp.domain.network_policy import check_host_pattern
from codegenapp.domain.project_settings import (
    MAX_ALLOWED_HOSTS,
    MAX_RECIPE_CHARS,
    EnvName,
    _Settings,
    check_env_name,
)

MAX_MODEL_NAME = 100
MAX_AGENT_COMMAND_CHARS = 16 * 1024
MAX_AGENT_SECRETS = 100
MAX_AGENT_TIMEOUT_MINUTES = 24 * 60
AGENT_ENV_PREFIX = "CODEGENAPP_"
"""Our variables in a command-line agent's environment (CODEGENAPP_PROMPT, ...): no secret
may take one of their names."""
AGENT_PROVIDERS = ("scripted", "codegen", "cli")
MAX_RUNS_PER_DAY = 100_000
MAX_MINUTES_PER_RUN = 7 * 24 * 60


class AgentBudgets(_Settings):
    """What a project lets its agent spend; past one, the run stops with the reason. Fix
    attempts per run are `validation_settings.max_retries`."""

    runs_per_day: int | None = Field(
        default=None,
        ge=1,
        le=MAX_RUNS_PER_DAY,
        description="Agent runs the project may start in any 24 hours; one more is refused "
        "(429) until the oldest of them is a day old. None: no limit.",
    )
    minutes_per_run: float | None = Field(
        default=None,
        ge=0.1,
        le=MAX_MINUTES_PER_RUN,
        description="Minutes the agent may work on one run, its turns added up (not the time "
        "validations or people take); past them its turn is cancelled and the run fails. "
        "None: no limit.",
    )


class _AgentSettings(_Settings):
    budgets: AgentBudgets = Field(
        default_factory=AgentBudgets, description="What the agent may spend (default: no limit)."
    )


class ScriptedAgentSettings(_AgentSettings):
    """`scripted` replays a recipe (YAML text, stored with the project): the demo's and the
    tests' stand-in for an AI, never presented as one."""

    provider: Literal["scripted"] = "scripted"
    recipe: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_RECIPE_CHARS,
            description="The scripted agent's recipe: YAML text (not a path), checked at once.",
        ),
        STORABLE,
    ]


class CodegenAgentSettings(_AgentSettings):
    """`codegen`: the Codegen API, with the server's CODEGEN_API_KEY and CODEGEN_ORG_ID. Its
    pull requests are validated through the project's GitHub forge."""

    provider: Literal["codegen"]
    repo_id: int | None = Field(
        default=None,
        ge=1,
        description="Codegen's id of the repository to work in (default: the organization's).",
    )
    model: Annotated[str, STORABLE] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_MODEL_NAME,
        description="The model Codegen should use (default: the organization's).",
    )


class CliAgentSettings(_AgentSettings):
    """`cli`: any command-line coding agent (aider, Claude Code, Codex CLI, a team's script),
    run by `sh -c` in the project's sandbox on a fresh checkout. It gets the prompt in
    `$CODEGENAPP_PROMPT` (and `{prompt}` in the command, shell-quoted); CodegenApp commits
    what it changed and opens the pull request."""

    provider: Literal["cli"]
    command: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_AGENT_COMMAND_CHARS,
            description="The shell command that runs the agent, e.g. `aider --yes-always "
            "--message {prompt}`; `{prompt}` becomes the prompt, shell-quoted.",
        ),
        STORABLE,
    ]
    allowed_hosts: list[Annotated[str, Field(max_length=253), STORABLE]] = Field(
        default_factory=list,
        max_length=MAX_ALLOWED_HOSTS,
        description="The hosts the agent may reach (its model's API), through the sandbox's "
        "egress proxy: exact names (api.anthropic.com) or subdomain wildcards (*.example.com). "
        "Nothing else is reachable.",
    )
    secrets: list[EnvName] = Field(
        default_factory=list,
        max_length=MAX_AGENT_SECRETS,
        description="Names of the project's secrets the agent gets as environment variables "
        "(e.g. ANTHROPIC_API_KEY); it gets no other.",
    )
    plan_first: bool = Field(
        default=False,
        description="Run the first turn plan-only (CODEGENAPP_PLAN_ONLY=1): its output is a "
        "plan that waits for a person's answer.",
    )
    timeout_minutes: float = Field(
        default=30,
        ge=0.01,
        le=MAX_AGENT_TIMEOUT_MINUTES,
        description="How long one turn of the command may run before it is killed.",
    )

    @field_validator("command")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a shell command, not blank")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, value: list[str]) -> list[str]:
        return [check_host_pattern(host) for host in value]

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: list[str]) -> list[str]:
        for name in value:
            check_env_name(name)
            if name.upper().startswith(AGENT_ENV_PREFIX):
                raise ValueError(f"{name!r}: names starting with {AGENT_ENV_PREFIX} are ours")
        if len(set(value)) != len(value):
            raise ValueError("lists a secret twice")
        return value


def _provider(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("provider", "scripted"))
    return str(getattr(value, "provider", "scripted"))


AgentSettings = Annotated[
    Annotated[ScriptedAgentSettings, Tag("scripted")]
    | Annotated[CodegenAgentSettings, Tag("codegen")]
    | Annotated[CliAgentSettings, Tag("cli")],
    Discriminator(
        _provider,
        custom_error_type="agent_provider",
        custom_error_message="provider must be 'scripted', 'codegen' or 'cli'",
    ),
]
