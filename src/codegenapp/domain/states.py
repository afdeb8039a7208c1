"""The states every entity moves through, and the names the API and dashboard show."""

from enum import StrEnum


class AgentRunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING_INPUT = "waiting_input"
    # The agent's change bends the gate (its tests or CI): a person approves it before it is
    # validated, or cancels the run.
    WAITING_APPROVAL = "waiting_approval"
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


class PullRequestState(StrEnum):
    """A pull request as we track it (the `state` column; `merged` says the same as MERGED)."""

    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"


class ValidationKind(StrEnum):
    """What was validated: a pull request's head, or the base branch it would merge into."""

    PULL_REQUEST = "pull_request"
    BASELINE = "baseline"


class Fault(StrEnum):
    """Whose fault a validation that did not pass is, decided before any agent is asked."""

    CODE = "code"  # the pull request's: its error context goes back to the agent
    SETUP = "setup"  # the project's settings: the base branch fails the same way
    INFRASTRUCTURE = "infrastructure"  # ours: the sandbox could not run it, twice


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
