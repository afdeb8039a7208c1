"""The tables. Rows only: API shapes live in `api/schemas`, rules in `domain`."""

from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from codegenapp.domain.events import EventRecord, EventType, JsonValue
from codegenapp.domain.ids import EventId, ProjectId

JsonDict = dict[str, JsonValue]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# SQLite only autoincrements an INTEGER PRIMARY KEY; BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer, "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[object, object]] = {datetime: UTCDateTime, JsonDict: JSON}


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# SQLite reuses the highest id once its row is deleted, unless the table is AUTOINCREMENT.
# Our ids name durable workflows (`agent-run-<id>-<segment>`, `validation-<id>`) and event
# streams, so an id must never come back: deleting a project must not hand its runs' ids on.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class ProjectRow(Timestamps, Base):
    __tablename__ = "projects"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    forge: Mapped[str] = mapped_column(String(16), default="local", server_default="local")
    repository: Mapped[str] = mapped_column(Text)  # a path (local), or OWNER/NAME (github)
    default_branch: Mapped[str] = mapped_column(String(255))
    agent: Mapped[JsonDict]
    deployment_settings: Mapped[JsonDict]
    validation_settings: Mapped[JsonDict]
    notification_settings: Mapped[JsonDict]


class AgentRunRow(Timestamps, Base):
    __tablename__ = "agent_runs"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    goal: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), index=True)
    response_type: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[str | None] = mapped_column(Text)
    plan_answer: Mapped[JsonDict | None]
    next_message: Mapped[str | None] = mapped_column(Text)  # opens the next segment
    branch: Mapped[str] = mapped_column(String(255))
    agent_driver: Mapped[str | None] = mapped_column(String(64))
    agent_job_id: Mapped[str | None] = mapped_column(String(255))
    agent_is_ai: Mapped[bool] = mapped_column(Boolean, default=True)
    turns_requested: Mapped[int] = mapped_column(Integer, default=0)
    progress_cursor: Mapped[int] = mapped_column(Integer, default=0)
    segment: Mapped[int] = mapped_column(Integer, default=0)
    pull_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="SET NULL")
    )
    # The plan a person confirmed (with the changes they asked for): the pull request is
    # held against the paths it names.
    confirmed_plan: Mapped[str | None] = mapped_column(Text)
    # The latest change that bent the gate (head, findings with their hunks, approved or not)
    # and every finding approved so far in the run (queries/agent_runs.py: `hold_change`).
    held_change: Mapped[JsonDict | None]
    # How the latest head reviewed kept to the confirmed plan (`record_plan_drift`).
    plan_drift: Mapped[JsonDict | None]
    # Seconds the agent worked on the run, its turns added up (`agent.budgets.minutes_per_run`).
    agent_seconds: Mapped[float] = mapped_column(default=0.0, server_default="0")


class AgentInteractionRow(Base):
    """One turn of an agent run as it was had: what we sent the agent (the goal, a plan answer,
    a person's message, a validation's error context) and what it answered (a reply, a plan, a
    pull request, a failure). Written once per turn, so a repeated step changes nothing."""

    __tablename__ = "agent_interactions"
    __table_args__ = (UniqueConstraint("agent_run_id", "turn"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_run_id: Mapped[int] = mapped_column(ForeignKey("agent_runs.id", ondelete="CASCADE"))
    turn: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # goal, plan_answer, message, fix
    prompt: Mapped[str] = mapped_column(Text)
    validation_id: Mapped[int | None] = mapped_column(Integer)  # the failure a fix is asked for
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer_kind: Mapped[str | None] = mapped_column(String(16))  # TurnKind; None: no answer yet
    answer: Mapped[str | None] = mapped_column(Text)
    pull_request_number: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None]
    # What the turn used, when the agent reported it (only a command-line agent does).
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None]
    usage_model: Mapped[str | None] = mapped_column(String(100))


class PullRequestRow(Timestamps, Base):
    __tablename__ = "pull_requests"
    __table_args__ = (UniqueConstraint("project_id", "number"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    branch: Mapped[str] = mapped_column(String(255))
    base_branch: Mapped[str] = mapped_column(String(255))
    head_sha: Mapped[str] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(100))  # None: one of our agent runs'
    state: Mapped[str] = mapped_column(String(16))
    merged: Mapped[bool] = mapped_column(Boolean, default=False)
    merge_sha: Mapped[str | None] = mapped_column(String(64))


class ValidationRow(Base):
    __tablename__ = "validations"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    agent_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("agent_runs.id", ondelete="CASCADE"), index=True
    )
    # A baseline validates the base branch: no pull request, and the branch in `base_branch`.
    kind: Mapped[str] = mapped_column(String(16), default="pull_request", index=True)
    pull_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="CASCADE")
    )
    pr_number: Mapped[int | None] = mapped_column(Integer)
    head_sha: Mapped[str] = mapped_column(String(64))
    base_branch: Mapped[str | None] = mapped_column(String(255))
    base_sha: Mapped[str | None] = mapped_column(String(64))  # the base it was compared with
    # Which deployment and validation settings it ran with (ProjectSettings.digest): a
    # baseline speaks for pull requests validated with the same ones only.
    settings_digest: Mapped[str | None] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    fault: Mapped[str | None] = mapped_column(String(16))
    failed_step: Mapped[str | None] = mapped_column(String(32))
    failed_check: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    checks: Mapped[JsonDict] = mapped_column(default=dict)
    error_context: Mapped[str | None] = mapped_column(Text)
    error_signature: Mapped[str | None] = mapped_column(String(64))
    merged: Mapped[bool] = mapped_column(Boolean, default=False)
    merge_sha: Mapped[str | None] = mapped_column(String(64))
    merge_blocked_reason: Mapped[str | None] = mapped_column(Text)
    sandbox: Mapped[JsonDict | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ValidationStepRow(Base):
    __tablename__ = "validation_steps"
    __table_args__ = (UniqueConstraint("validation_id", "name"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    validation_id: Mapped[int] = mapped_column(
        ForeignKey("validations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    log: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class EventRow(Base):
    """The audit trail and the replay source for live clients. No foreign keys: the history of
    a deleted project stays."""

    __tablename__ = "events"
    __table_args__ = (NEVER_REUSE_IDS,)  # `since=<id>` stays meaningful forever

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[int | None] = mapped_column(Integer, index=True)
    agent_run_id: Mapped[int | None] = mapped_column(Integer)
    validation_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[JsonDict]
    ts: Mapped[datetime] = mapped_column(default=utcnow)


class ProjectSecretRow(Timestamps, Base):
    """A secret of a project, sealed (domain/secret_box.py): only its name is ever shown."""

    __tablename__ = "project_secrets"
    __table_args__ = (UniqueConstraint("project_id", "name"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    sealed: Mapped[str] = mapped_column(Text)


class IdempotencyKeyRow(Base):
    """A POST that created something, by the key its caller sent: a retry with the same key
    finds what the first one made, in the same transaction that made it."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebhookDeliveryRow(Base):
    """Every webhook delivery, stored before it is acknowledged; the id is the forge's own
    delivery id, so a redelivery is recognised."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    forge: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[JsonDict]
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class ApiTokenRow(Base):
    """Access tokens, stored as SHA-256 digests only."""

    __tablename__ = "api_tokens"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


def event_record(row: EventRow) -> EventRecord:
    """A stored event as clients receive it."""
    return EventRecord(
        id=EventId(row.id),
        type=EventType(row.type),
        project_id=ProjectId(row.project_id) if row.project_id is not None else None,
        data=row.data,
        ts=row.ts,
    )
