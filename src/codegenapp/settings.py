"""The settings tree: built once (by `cli.py` or a test) and passed down; never read at import."""

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Environment variables use the brief's names where it gives them (DATABASE_URL, REDIS_URL),
    and the CODEGENAPP_ prefix otherwise."""

    model_config = SettingsConfigDict(env_prefix="CODEGENAPP_", populate_by_name=True, frozen=True)

    home: Path = Field(default=Path(".codegenapp"), validation_alias=_env("CODEGENAPP_HOME"))
    database_url: str | None = Field(
        default=None, validation_alias=_env("DATABASE_URL", "CODEGENAPP_DATABASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=_env("REDIS_URL", "CODEGENAPP_REDIS_URL")
    )
    redis_channel: str = Field(
        default="codegenapp:events", validation_alias=_env("CODEGENAPP_REDIS_CHANNEL")
    )
    admin_token: SecretStr | None = Field(
        default=None, validation_alias=_env("CODEGENAPP_ADMIN_TOKEN")
    )
    host: str = Field(default="127.0.0.1", validation_alias=_env("CODEGENAPP_HOST"))
    port: int = Field(default=8000, ge=1, le=65535, validation_alias=_env("CODEGENAPP_PORT"))
    validation_concurrency: int = Field(
        default=2, ge=1, le=64, validation_alias=_env("CODEGENAPP_VALIDATION_CONCURRENCY")
    )
    # How often a worker looks for queued validations and agent runs. Each look costs CPU
    # (measured: an idle server uses ~19% of a core at 0.05 s, ~2% at 1 s) and waiting up to
    # an interval is added to every start (docs/adr/0001).
    queue_polling_interval_sec: float = Field(
        default=0.05, gt=0, le=5, validation_alias=_env("CODEGENAPP_QUEUE_POLLING_INTERVAL_SEC")
    )
    run_queue_polling_interval_sec: float = Field(
        default=0.25,
        gt=0,
        le=5,
        validation_alias=_env("CODEGENAPP_RUN_QUEUE_POLLING_INTERVAL_SEC"),
    )
    sandbox: Literal["auto", "bubblewrap", "docker", "process"] = Field(
        default="auto",
        validation_alias=_env("CODEGENAPP_SANDBOX"),
        description="The default sandbox of projects that name none; auto: bubblewrap if it "
        "works here, else docker if a daemon answers, else process (NOT ISOLATED).",
    )
    docker_host: str | None = Field(
        default=None,
        validation_alias=_env("DOCKER_HOST", "CODEGENAPP_DOCKER_HOST"),
        description="The Docker daemon for docker sandboxes (default: the local socket).",
    )
    docker_publish_address: str = Field(
        default="127.0.0.1",
        validation_alias=_env("CODEGENAPP_DOCKER_PUBLISH_ADDRESS"),
        description="Where the Docker daemon's host publishes a preview for our health check "
        "and browser: its loopback for a local daemon; an address we can reach for a remote one.",
    )
    egress_proxy_image: str = Field(
        default="codegenapp/egress-proxy:1",
        validation_alias=_env("CODEGENAPP_EGRESS_PROXY_IMAGE"),
        description="An image with tinyproxy that docker sandboxes use as their egress proxy.",
    )
    sandbox_tools: str = Field(
        default="",
        validation_alias=_env("CODEGENAPP_SANDBOX_TOOLS"),
        description="Host directories (':'-separated) that bubblewrap sandboxes see read-only "
        "at the same path: toolchains outside /usr (e.g. /opt/node).",
    )
    codegen_api_url: str = Field(
        default="https://api.codegen.com",
        validation_alias=_env("CODEGEN_API_URL", "CODEGENAPP_CODEGEN_API_URL"),
        description="The Codegen API, for projects whose agent is codegen.",
    )
    codegen_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=_env("CODEGEN_API_KEY", "CODEGENAPP_CODEGEN_API_KEY"),
        description="A Codegen API key (codegen.com, Settings → API keys).",
    )
    codegen_org_id: int | None = Field(
        default=None,
        ge=1,
        validation_alias=_env("CODEGEN_ORG_ID", "CODEGENAPP_CODEGEN_ORG_ID"),
        description="The Codegen organization whose agents work on this server's goals.",
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        validation_alias=_env("GITHUB_API_URL", "CODEGENAPP_GITHUB_API_URL"),
        description="GitHub's REST API; GitHub Enterprise: https://<host>/api/v3.",
    )
    github_token: SecretStr | None = Field(
        default=None,
        validation_alias=_env("GITHUB_TOKEN", "CODEGENAPP_GITHUB_TOKEN"),
        description="A token for GitHub projects (commit statuses); an App is preferred.",
    )
    github_app_id: int | None = Field(
        default=None,
        ge=1,
        validation_alias=_env("GITHUB_APP_ID", "CODEGENAPP_GITHUB_APP_ID"),
        description="The GitHub App that GitHub projects act as (check runs need an App).",
    )
    github_app_private_key: SecretStr | None = Field(
        default=None,
        validation_alias=_env("GITHUB_APP_PRIVATE_KEY", "CODEGENAPP_GITHUB_APP_PRIVATE_KEY"),
        description="The App's private key (PEM).",
    )
    github_app_private_key_file: Path | None = Field(
        default=None,
        validation_alias=_env(
            "GITHUB_APP_PRIVATE_KEY_FILE", "CODEGENAPP_GITHUB_APP_PRIVATE_KEY_FILE"
        ),
        description="A file holding the App's private key (PEM), instead of the key itself.",
    )
    github_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=_env("GITHUB_WEBHOOK_SECRET", "CODEGENAPP_GITHUB_WEBHOOK_SECRET"),
        description="The secret GitHub signs webhooks with; webhooks are refused while unset.",
    )
    github_reconcile_interval_sec: float = Field(
        default=300,
        ge=5,
        le=86400,
        validation_alias=_env("CODEGENAPP_GITHUB_RECONCILE_INTERVAL_SEC"),
        description="How often the open pull requests of GitHub projects are listed, so that "
        "a lost webhook never strands one.",
    )
    public_url: str | None = Field(
        default=None,
        validation_alias=_env("CODEGENAPP_PUBLIC_URL"),
        description="Where people reach this server (links in GitHub check runs and comments).",
    )
    agent_poll_interval_sec: float = Field(
        default=0.2, gt=0, le=60, validation_alias=_env("CODEGENAPP_AGENT_POLL_INTERVAL_SEC")
    )
    agent_turn_timeout_sec: float = Field(
        default=3600, gt=0, validation_alias=_env("CODEGENAPP_AGENT_TURN_TIMEOUT_SEC")
    )
    repository_roots: str = Field(
        default="",
        validation_alias=_env("CODEGENAPP_REPOSITORY_ROOTS"),
        description="Directories (':'-separated) under which local repositories may lie; "
        "default: the home's repos/ and demo/.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        validation_alias=_env("CODEGENAPP_MAX_BODY_BYTES"),
        description="The largest request body any route accepts (413 beyond).",
    )
    api_docs: bool = Field(
        default=False,
        validation_alias=_env("CODEGENAPP_API_DOCS"),
        description="Serve interactive API documentation at /docs (token required).",
    )
    allowed_origins: str = Field(
        default="",
        validation_alias=_env("CODEGENAPP_ALLOWED_ORIGINS"),
        description="Browser origins (','-separated, e.g. http://localhost:5173) allowed on the "
        "WebSocket besides the server's own.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        validation_alias=_env("CODEGENAPP_SECRET_KEY"),
        description="Fernet key for project secrets at rest; generated into the home if unset.",
    )
    artifacts_dir: Path | None = Field(
        default=None,
        validation_alias=_env("CODEGENAPP_ARTIFACTS_DIR"),
        description="Where validations keep screenshots, findings and page texts; default: the "
        "home's artifacts/.",
    )
    artifact_retention_days: int = Field(
        default=30,
        ge=0,
        le=36500,
        validation_alias=_env("CODEGENAPP_ARTIFACT_RETENTION_DAYS"),
        description="Validations' artifacts older than this are removed at start-up (0: kept).",
    )
    chromium: Path = Field(
        default=Path("/usr/bin/chromium"),
        validation_alias=_env("CODEGENAPP_CHROMIUM"),
        description="The system Chromium that evaluates previews (apt-get install chromium).",
    )
    llm_base_url: str | None = Field(
        default=None,
        validation_alias=_env("LLM_BASE_URL", "CODEGENAPP_LLM_BASE_URL"),
        description="An OpenAI-compatible API that reads images, for projects that ask for the "
        "AI judge (web_eval.judge), e.g. https://api.openai.com/v1.",
    )
    llm_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=_env("LLM_API_KEY", "CODEGENAPP_LLM_API_KEY"),
        description="Its API key, sent as a bearer token (none for a local server).",
    )
    llm_model: str | None = Field(
        default=None,
        validation_alias=_env("LLM_MODEL", "CODEGENAPP_LLM_MODEL"),
        description="The model that judges, e.g. gpt-4o.",
    )
    executor_id: str = Field(default="local", validation_alias=_env("CODEGENAPP_EXECUTOR_ID"))
    log_level: str = Field(default="INFO", validation_alias=_env("CODEGENAPP_LOG_LEVEL"))

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:///<path> or postgresql://<user>@<host>/<db> URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://<host>:<port>/<db> URL")
        return value

    @field_validator("llm_base_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL, e.g. https://api.openai.com/v1")
        return value

    @field_validator("repository_roots", "sandbox_tools")
    @classmethod
    def _absolute_roots(cls, value: str) -> str:
        for root in filter(None, value.split(":")):
            if not Path(root).expanduser().is_absolute():
                raise ValueError(f"{root!r} is not an absolute path (list directories, ':' apart)")
        return value

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def app_database_url(self) -> str:
        """The URL of our own tables, with the async driver SQLAlchemy needs."""
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{self.home / 'codegenapp.sqlite'}"
        return to_async_url(self.database_url)

    @property
    def workflow_database_url(self) -> str:
        """Where DBOS keeps workflow state: beside our tables on PostgreSQL (its own schema),
        in a file of its own on SQLite so two writers never contend for one file lock."""
        if self.database_url is None:
            return f"sqlite:///{self.home / 'workflows.sqlite'}"
        url = self.database_url
        if url.startswith("sqlite"):
            base = url.split("///", 1)[1]
            return f"sqlite:///{Path(base).with_suffix('')}-workflows.sqlite"
        return to_sync_postgres_url(url)

    @property
    def allowed_repository_roots(self) -> tuple[Path, ...]:
        """Where local repositories may lie: nothing outside is ever opened."""
        roots = [Path(root).expanduser() for root in self.repository_roots.split(":") if root]
        return tuple(roots) if roots else (self.home / "repos", self.home / "demo")

    @property
    def extra_origins(self) -> frozenset[str]:
        origins = (origin.strip().rstrip("/") for origin in self.allowed_origins.split(","))
        return frozenset(origin for origin in origins if origin)

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    @property
    def cache_dir(self) -> Path:
        """Where projects' dependency caches live between validations."""
        return self.home / "caches"

    @property
    def artifacts_root(self) -> Path:
        return (self.artifacts_dir or self.home / "artifacts").expanduser()

    @property
    def tool_dirs(self) -> tuple[Path, ...]:
        return tuple(Path(tool).expanduser() for tool in self.sandbox_tools.split(":") if tool)


def redacted(url: str) -> str:
    """`url` with its password, if any, shown as *** (for messages and logs)."""
    password = urlsplit(url).password
    return url.replace(f":{password}@", ":***@") if password else url


def to_async_url(url: str) -> str:
    for prefix, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    return url


def to_sync_postgres_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url
