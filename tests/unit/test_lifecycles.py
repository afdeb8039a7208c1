"""The life cycles of runs, validations and pull requests, as tables: every listed transition
is accepted, and anything else is refused with a message naming both states."""

from enum import StrEnum
from typing import TypeVar

import pytest

from codegenapp.domain.lifecycles import (
    PULL_REQUEST_TRANSITIONS,
    RUN_TRANSITIONS,
    VALIDATION_TRANSITIONS,
    PullRequestMove,
    RunMove,
    Table,
    ValidationMove,
    check_pull_request_transition,
    check_run_transition,
    check_validation_transition,
)
from codegenapp.domain.states import AgentRunStatus, PullRequestState, ValidationStatus
from codegenapp.errors import Conflict, InvalidTransition

R, V, P = AgentRunStatus, ValidationStatus, PullRequestState
S = TypeVar("S", bound=StrEnum)
M = TypeVar("M", bound=StrEnum)


def _edges(table: Table[S, M]) -> list[tuple[S, S, M]]:
    # Sorted: a frozenset's order differs between processes, and xdist workers must agree.
    return sorted(
        (a, b, m) for a, nexts in table.items() for b, moves in nexts.items() for m in moves
    )


def test_every_state_has_a_row_in_its_table() -> None:
    assert set(RUN_TRANSITIONS) == set(AgentRunStatus)
    assert set(VALIDATION_TRANSITIONS) == set(ValidationStatus)
    assert set(PULL_REQUEST_TRANSITIONS) == set(PullRequestState)


@pytest.mark.parametrize(("current", "new", "by"), _edges(RUN_TRANSITIONS))
def test_every_listed_run_transition_is_accepted(
    current: AgentRunStatus, new: AgentRunStatus, by: RunMove
) -> None:
    assert check_run_transition(current.value, new, by=by) is new


@pytest.mark.parametrize(("current", "new", "by"), _edges(VALIDATION_TRANSITIONS))
def test_every_listed_validation_transition_is_accepted(
    current: ValidationStatus, new: ValidationStatus, by: ValidationMove
) -> None:
    assert check_validation_transition(current.value, new, by=by) is new


@pytest.mark.parametrize(("current", "new", "by"), _edges(PULL_REQUEST_TRANSITIONS))
def test_every_listed_pull_request_transition_is_accepted(
    current: PullRequestState, new: PullRequestState, by: PullRequestMove
) -> None:
    assert check_pull_request_transition(current.value, new, by=by) is new


def test_a_validating_run_cannot_go_back_to_running_except_to_fix() -> None:
    with pytest.raises(InvalidTransition) as refused:
        check_run_transition(R.VALIDATING, R.RUNNING, by=RunMove.SEND, ident=7)
    message = str(refused.value)
    assert "agent run 7 cannot go validating → running by send" in message
    assert "running (fix)" in message
    assert "completed (finish)" in message
    assert check_run_transition(R.VALIDATING, R.RUNNING, by=RunMove.FIX) is R.RUNNING


@pytest.mark.parametrize(
    ("current", "new", "by"),
    [
        (R.FAILED, R.COMPLETED, RunMove.FINISH),  # only a retry completes a failed run
        (R.COMPLETED, R.FAILED, RunMove.FINISH),
        (R.CANCELLED, R.COMPLETED, RunMove.RETRY),  # a cancelled run stays cancelled
        (R.CANCELLED, R.PENDING, RunMove.CONTINUE),
        (R.PENDING, R.COMPLETED, RunMove.FINISH),
        (R.PENDING, R.VALIDATING, RunMove.VALIDATE),
        (R.WAITING_INPUT, R.VALIDATING, RunMove.VALIDATE),
        (R.RUNNING, R.PENDING, RunMove.CONTINUE),
        (R.VALIDATING, R.VALIDATING, RunMove.VALIDATE),
    ],
)
def test_a_run_transition_outside_the_table_is_refused_naming_both_states(
    current: AgentRunStatus, new: AgentRunStatus, by: RunMove
) -> None:
    with pytest.raises(InvalidTransition, match=f"{current} → {new} by {by}"):
        check_run_transition(current, new, by=by)


@pytest.mark.parametrize(
    ("current", "new", "by"),
    [
        (V.PASSED, V.FAILED, ValidationMove.CONCLUDE),
        (V.FAILED, V.RUNNING, ValidationMove.RESTART),
        (V.CANCELLED, V.QUEUED, ValidationMove.BEGIN),
        (V.QUEUED, V.PASSED, ValidationMove.CONCLUDE),  # a verdict needs an attempt
        (V.QUEUED, V.QUEUED, ValidationMove.BEGIN),
        (V.RUNNING, V.CANCELLED, ValidationMove.CONCLUDE),
        (V.ERROR, V.CANCELLED, ValidationMove.SUPERSEDE),
    ],
)
def test_a_validation_transition_outside_the_table_is_refused(
    current: ValidationStatus, new: ValidationStatus, by: ValidationMove
) -> None:
    with pytest.raises(InvalidTransition, match=f"validation cannot go {current} → {new}"):
        check_validation_transition(current, new, by=by)


@pytest.mark.parametrize(
    ("current", "new", "by"),
    [
        (P.MERGED, P.OPEN, PullRequestMove.REOPEN),
        (P.MERGED, P.OPEN, PullRequestMove.PUSH),  # a merged pull request takes no new head
        (P.CLOSED, P.MERGED, PullRequestMove.MERGE),
        (P.CLOSED, P.CLOSED, PullRequestMove.PUSH),
    ],
)
def test_a_pull_request_transition_outside_the_table_is_refused(
    current: PullRequestState, new: PullRequestState, by: PullRequestMove
) -> None:
    with pytest.raises(InvalidTransition, match=f"pull request cannot go {current} → {new}"):
        check_pull_request_transition(current, new, by=by)


def test_a_final_state_says_nothing_may_follow_and_the_refusal_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="from merged it may go: nothing: it is final"):
        check_pull_request_transition(P.MERGED, P.CLOSED, by=PullRequestMove.CLOSE)
