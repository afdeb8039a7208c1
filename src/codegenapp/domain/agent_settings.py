"""Which agent answers a project's goals, and how: one settings shape per provider, told apart
by `provider` (a project that names none is the scripted stand-in, as before there was a
choice)."""

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from codegenapp.domain.limits import STORABLE
from codegenapp.domain.project_settings import MAX_RECIPE_CHARS, _Settings

MAX_MODEL_NAME = 100
AGENT_PROVIDERS = ("scripted", "codegen")


class ScriptedAgentSettings(_Settings):
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


class CodegenAgentSettings(_Settings):
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


def _provider(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("provider", "scripted"))
    return str(getattr(value, "provider", "scripted"))


AgentSettings = Annotated[
    Annotated[ScriptedAgentSettings, Tag("scripted")]
    | Annotated[CodegenAgentSettings, Tag("codegen")],
    Discriminator(
        _provider,
        custom_error_type="agent_provider",
        custom_error_message="provider must be 'scripted' or 'codegen'",
    ),
]
