"""Agent-run shapes."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from codegenapp.api.schemas import Page
from codegenapp.db.queries.interactions import usage_of
from codegenapp.db.tables import AgentInteractionRow, AgentRunRow, JsonDict, PullRequestRow
from codegenapp.domain.agent_usage import AgentUsage, UsageTotals
from codegenapp.domain.gate_integrity import IntegrityKind
from codegenapp.domain.limits import STORABLE, Id
from codegenapp.domain.states import AgentRunStatus, ResponseType

OptionalText = Annotated[str, StringConstraints(max_length=20_000), STORABLE]
RequiredText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000), STORABLE
]


class AgentRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_id: Id
    goal: RequiredText


class ContinueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: RequiredText


class PlanResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["confirm", "modify"]
    text: OptionalText = ""


class PullRequestRead(BaseModel):
    number: int
    url: str
    branch: str
    head_sha: str
    merged: bool
    merge_sha: str | None

    @classmethod
    def of(cls, row: PullRequestRow) -> "PullRequestRead":
        return cls(
            number=row.number,
            url=row.url,
            branch=row.branch,
            head_sha=row.head_sha,
            merged=row.merged,
            merge_sha=row.merge_sha,
        )


class AgentRead(BaseModel):
    driver: str | None
    job_id: str | None
    is_ai: bool | None  # None until the run's agent job started: which driver is not known yet


class IntegrityFindingRead(BaseModel):
    kind: IntegrityKind
    path: str
    hunk: str = Field(description="The offending hunk as the diff shows it (bounded).")


class HeldChangeRead(BaseModel):
    """The latest head of the run's pull request that bent the gate: while `approved` is
    false the run waits (`waiting_approval`) for `approve-change`, or a cancel."""

    head_sha: str
    pr_number: int
    since: str = Field(
        description="What the diff was read against: the base branch, or the head a person "
        "approved last in this run (what it held then is not asked about again)."
    )
    findings: list[IntegrityFindingRead]
    omitted: int = Field(description="Further findings not listed (the list is bounded).")
    unchecked: str | None = Field(
        description="Why the diff was not read for findings (too large): held as a whole."
    )
    approved: bool

    @classmethod
    def of(cls, stored: JsonDict | None) -> "HeldChangeRead | None":
        return None if stored is None else cls.model_validate(stored)


class PlanDriftRead(BaseModel):
    """How the latest head read kept to the plan a person confirmed."""

    head_sha: str
    pr_number: int
    unnamed: list[str] = Field(description="Changed paths the plan did not name (bounded).")
    changed: int
    strays: bool = Field(description="Too many changed files went unnamed: flagged, not held.")

    @classmethod
    def of(cls, stored: JsonDict | None) -> "PlanDriftRead | None":
        return None if stored is None else cls.model_validate(stored)


class AgentRunRead(BaseModel):
    id: int
    project_id: int
    goal: str
    status: AgentRunStatus
    response_type: ResponseType | None
    result: str | None
    plan: str | None
    pull_request: PullRequestRead | None
    validations: list[int]
    agent: AgentRead
    held_change: HeldChangeRead | None
    plan_drift: PlanDriftRead | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls, row: AgentRunRow, *, pull_request: PullRequestRow | None, validation_ids: list[int]
    ) -> "AgentRunRead":
        return cls(
            id=row.id,
            project_id=row.project_id,
            goal=row.goal,
            status=AgentRunStatus(row.status),
            response_type=ResponseType(row.response_type) if row.response_type else None,
            result=row.result,
            plan=row.plan,
            pull_request=PullRequestRead.of(pull_request) if pull_request else None,
            validations=validation_ids,
            agent=AgentRead(
                driver=row.agent_driver,
                job_id=row.agent_job_id,
                # The column's default says nothing until `record_job` wrote the driver's answer.
                is_ai=row.agent_is_ai if row.agent_driver is not None else None,
            ),
            held_change=HeldChangeRead.of(row.held_change),
            plan_drift=PlanDriftRead.of(row.plan_drift),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class UsageRead(BaseModel):
    """What a turn used, as its agent reported it; each part null when it did not say."""

    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None = Field(description="US dollars.")
    model: str | None

    @classmethod
    def of(cls, usage: AgentUsage | None) -> "UsageRead | None":
        return None if usage is None else cls.model_validate(usage, from_attributes=True)


class UsageTotalsRead(BaseModel):
    """The run's usage summed over every turn that reported any (`turns` of them)."""

    turns: int
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None = Field(description="US dollars.")

    @classmethod
    def of(cls, totals: UsageTotals | None) -> "UsageTotalsRead | None":
        return None if totals is None else cls.model_validate(totals, from_attributes=True)


class AgentInteractionRead(BaseModel):
    """One turn of the run: the prompt we sent the agent and how it answered."""

    turn: int
    kind: Literal["goal", "plan_answer", "message", "fix"] = Field(
        description="What was sent: the goal, a plan answer, a person's message, or a failed "
        "validation's error context (`validation_id` says which)."
    )
    prompt: str = Field(
        description="The text sent. The agent's driver may frame the goal (the repository, "
        "the branch, how to answer) before the agent reads it."
    )
    validation_id: int | None
    sent_at: datetime
    answer_kind: (
        Literal["reply", "plan", "pull_request", "failed", "cancelled", "over_budget"] | None
    ) = Field(description="None while the agent works on the turn.")
    answer: str | None
    pull_request_number: int | None
    answered_at: datetime | None
    usage: UsageRead | None = Field(
        description="What the turn used, when the agent reported it: a command-line agent "
        "may (its `$CODEGENAPP_USAGE` file); the Codegen API never does."
    )

    @classmethod
    def of(cls, row: AgentInteractionRow) -> "AgentInteractionRead":
        columns = {name: getattr(row, name) for name in cls.model_fields.keys() - {"usage"}}
        return cls.model_validate({**columns, "usage": UsageRead.of(usage_of(row))})


class AgentInteractionPage(Page[AgentInteractionRead]):
    usage_totals: UsageTotalsRead | None = Field(
        description="The run's usage over all its turns (not only this page); null when no "
        "turn reported any."
    )
