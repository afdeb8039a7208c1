"""The life cycles of agent runs, validations and pull requests: which status may follow which,
and by which move. Every status change of these three goes through a `check_*_transition`.

Each table maps a status to the statuses that may follow it, and each of those to the moves
that take it there. A move names why the status changes, so that one edge can be taken only
for one reason: a failed run completes only by `retry`, never by its workflow finishing again.

Self-transitions are listed where the code really writes them: a running run is sent its next
message (`send`), a running validation restarts after its worker died (`restart`), an open pull
request gets a new head (`push`). A query that finds its change already made (a step that DBOS
runs again after a crash) returns without writing: that is not a transition and never reaches
these tables.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from codegenapp.domain.states import AgentRunStatus, PullRequestState, ValidationStatus
from codegenapp.errors import InvalidTransition


class RunMove(StrEnum):
    SEND = "send"  # the agent is sent the goal, a continuation or a plan answer
    PLAN = "plan"  # the agent proposed a plan; a person answers it
    ANSWER = "answer"  # the person answered the plan
    VALIDATE = "validate"  # the agent opened or updated its pull request
    FIX = "fix"  # a failed validation's error context goes back to the agent
    HOLD = "hold"  # the agent's change bends the gate; a person approves it first
    APPROVE = "approve"  # the person approved the held change: it is validated next
    FINISH = "finish"  # the run's workflow or a person ends it
    CONTINUE = "continue"  # a person continues an ended run with a message
    # A person's retry or merge of the ended run's validation passed (and merged): the run
    # completes, saying so. Only this move leaves `failed`.
    RETRY = "retry"


class ValidationMove(StrEnum):
    BEGIN = "begin"  # a worker took it
    RESTART = "restart"  # its worker died; the attempt starts again from a fresh sandbox
    CONCLUDE = "conclude"  # the attempt's verdict
    ABORT = "abort"  # an internal error stopped it: it ends as an error, nothing waits on it
    CANCEL = "cancel"  # its run was cancelled or its pull request closed
    SUPERSEDE = "supersede"  # a new head of its pull request is validated instead


class PullRequestMove(StrEnum):
    PUSH = "push"  # a new head sha
    CLOSE = "close"
    REOPEN = "reopen"
    MERGE = "merge"


S = TypeVar("S", bound=StrEnum)
M = TypeVar("M", bound=StrEnum)
Table = Mapping[S, Mapping[S, frozenset[M]]]

_R, _RM = AgentRunStatus, RunMove
_ENDS_A_RUN = {_R.FAILED: frozenset({_RM.FINISH}), _R.CANCELLED: frozenset({_RM.FINISH})}
RUN_TRANSITIONS: Table[AgentRunStatus, RunMove] = {
    _R.PENDING: {_R.RUNNING: frozenset({_RM.SEND}), **_ENDS_A_RUN},
    _R.RUNNING: {
        _R.RUNNING: frozenset({_RM.SEND}),
        _R.WAITING_INPUT: frozenset({_RM.PLAN}),
        _R.WAITING_APPROVAL: frozenset({_RM.HOLD}),
        _R.VALIDATING: frozenset({_RM.VALIDATE}),
        _R.COMPLETED: frozenset({_RM.FINISH}),
        **_ENDS_A_RUN,
    },
    _R.WAITING_INPUT: {_R.RUNNING: frozenset({_RM.ANSWER}), **_ENDS_A_RUN},
    _R.WAITING_APPROVAL: {_R.RUNNING: frozenset({_RM.APPROVE}), **_ENDS_A_RUN},
    _R.VALIDATING: {
        _R.RUNNING: frozenset({_RM.FIX}),
        _R.COMPLETED: frozenset({_RM.FINISH}),
        **_ENDS_A_RUN,
    },
    _R.COMPLETED: {_R.PENDING: frozenset({_RM.CONTINUE}), _R.COMPLETED: frozenset({_RM.RETRY})},
    _R.FAILED: {_R.PENDING: frozenset({_RM.CONTINUE}), _R.COMPLETED: frozenset({_RM.RETRY})},
    _R.CANCELLED: {},
}

_V, _VM = ValidationStatus, ValidationMove
_STOPS = {
    _V.CANCELLED: frozenset({_VM.CANCEL, _VM.SUPERSEDE}),
    _V.ERROR: frozenset({_VM.ABORT}),
}
VALIDATION_TRANSITIONS: Table[ValidationStatus, ValidationMove] = {
    _V.QUEUED: {_V.RUNNING: frozenset({_VM.BEGIN}), **_STOPS},
    _V.RUNNING: {
        _V.RUNNING: frozenset({_VM.RESTART}),
        _V.PASSED: frozenset({_VM.CONCLUDE}),
        _V.FAILED: frozenset({_VM.CONCLUDE}),
        **_STOPS,
        _V.ERROR: frozenset({_VM.CONCLUDE, _VM.ABORT}),  # the sandbox's or the setup's fault
    },
    _V.PASSED: {},
    _V.FAILED: {},
    _V.CANCELLED: {},
    _V.ERROR: {},
}

_P, _PM = PullRequestState, PullRequestMove
PULL_REQUEST_TRANSITIONS: Table[PullRequestState, PullRequestMove] = {
    _P.OPEN: {
        _P.OPEN: frozenset({_PM.PUSH}),
        _P.CLOSED: frozenset({_PM.CLOSE}),
        _P.MERGED: frozenset({_PM.MERGE}),
    },
    _P.CLOSED: {_P.OPEN: frozenset({_PM.REOPEN})},
    _P.MERGED: {},
}


@dataclass(frozen=True, slots=True)
class Lifecycle(Generic[S, M]):
    entity: str
    initial: S  # what a new row starts in
    transitions: Table[S, M]

    def check(self, current: S, new: S, *, by: M, ident: int | None = None) -> S:
        """`new`, if the table lets `by` take the entity there from `current`; otherwise raise
        `InvalidTransition` naming the entity (with `ident`), both states and what is allowed
        from `current`."""
        if by in self.transitions.get(current, {}).get(new, frozenset()):
            return new
        entity = self.entity if ident is None else f"{self.entity} {ident}"
        raise InvalidTransition(entity, current, new, by, self.allowed_from(current))

    def allowed_from(self, current: S) -> str:
        """'running (fix), completed (finish)', or 'nothing: it is final'."""
        moves = [
            f"{target} ({', '.join(sorted(by))})"
            for target, by in self.transitions.get(current, {}).items()
        ]
        return ", ".join(moves) if moves else "nothing: it is final"


RUNS: Lifecycle[AgentRunStatus, RunMove] = Lifecycle(
    "agent run", AgentRunStatus.PENDING, RUN_TRANSITIONS
)
VALIDATIONS: Lifecycle[ValidationStatus, ValidationMove] = Lifecycle(
    "validation", ValidationStatus.QUEUED, VALIDATION_TRANSITIONS
)
PULL_REQUESTS: Lifecycle[PullRequestState, PullRequestMove] = Lifecycle(
    "pull request", PullRequestState.OPEN, PULL_REQUEST_TRANSITIONS
)


def check_run_transition(
    current: AgentRunStatus | str, new: AgentRunStatus, *, by: RunMove, ident: int | None = None
) -> AgentRunStatus:
    """The run's next status, or `InvalidTransition`. `current` may be the stored string."""
    return RUNS.check(AgentRunStatus(current), new, by=by, ident=ident)


def check_validation_transition(
    current: ValidationStatus | str,
    new: ValidationStatus,
    *,
    by: ValidationMove,
    ident: int | None = None,
) -> ValidationStatus:
    """The validation's next status, or `InvalidTransition`."""
    return VALIDATIONS.check(ValidationStatus(current), new, by=by, ident=ident)


def check_pull_request_transition(
    current: PullRequestState | str,
    new: PullRequestState,
    *,
    by: PullRequestMove,
    ident: int | None = None,
) -> PullRequestState:
    """The pull request's next state, or `InvalidTransition`."""
    return PULL_REQUESTS.check(PullRequestState(current), new, by=by, ident=ident)
