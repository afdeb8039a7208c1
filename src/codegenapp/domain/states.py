"""The states every entity moves through, and the names the API and dashboard show."""

from enum import StrEnum


class AgentRunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING_INPUT = "waiting_input"
    VALIDATING = "validating"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_RUN_STATES


_FINAL_RUN_STATES = {AgentRunStatus.COMPLETED, AgentRunStatus.FAILED, AgentRunStatus.CANCELLED}


class ResponseType(StrEnum):
    """What the agent's last turn produced."""

    REGULAR = "regular"
    PLAN = "plan"
    PR = "pr"


class ValidationStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ERROR = "error"

    @property
    def is_final(self) -> bool:
        return self not in {ValidationStatus.QUEUED, ValidationStatus.RUNNING}


class StepName(StrEnum):
    """The validation pipeline, in the order it runs."""

    SNAPSHOT = "snapshot"
    CLONE = "clone"
    DEPLOY = "deploy"
    HEALTH_CHECK = "health_check"
    WEB_EVAL = "web_eval"
    CLEANUP = "cleanup"


PIPELINE: tuple[StepName, ...] = tuple(StepName)


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class CheckName(StrEnum):
    """The finer results the steps produce; `required_checks` names these."""

    BUILD = "build"
    TEST = "test"
    SECURITY = "security"
    DEPLOY = "deploy"
    HEALTH = "health"
    WEB_EVAL = "web_eval"


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
