"""The fake agent's "AI": what a test plugs in to answer each turn of a run.

A behaviour is any callable taking the `Turn` and returning (or awaiting) an answer: a `Reply`
(a reply or a plan, as `result` text), a `Change` (files to commit on the run's branch, and a
pull request opened the first time), or a `Failure` (the run ends in a failed status).
`Script` answers turn after turn from a list, and counts as left over what it was never asked.
"""

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Turn:
    """What the agent is asked: turn 1 is the run's prompt, each resume adds one."""

    run_id: int
    number: int
    prompt: str
    repository: str | None  # the GitHub full name the run works in
    branch: str | None  # the branch the run pushed to before, if any
    model: str | None
    metadata: Mapping[str, object] | None


@dataclass(frozen=True, slots=True)
class Reply:
    """Answer in words (a reply, or a plan to confirm); `status` is the final status shown."""

    text: str
    status: str = "COMPLETE"


@dataclass(frozen=True, slots=True)
class Change:
    """Commit `files` (None deletes one) as the Codegen bot and push them to the run's branch;
    the first change of a run opens a pull request titled `title` against `base` (the
    repository's default branch unless named). `result` defaults to a sentence naming the PR."""

    files: Mapping[str, str | None]
    message: str
    title: str = ""
    body: str = ""
    result: str | None = None
    branch: str | None = None
    base: str | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """The turn ends in `status` (ERROR unless named) with `result` saying why."""

    result: str
    status: str = "ERROR"


Answer = Reply | Change | Failure
Behaviour = Callable[[Turn], Answer | Awaitable[Answer]]


@runtime_checkable
class HasLeftovers(Protocol):
    def leftovers(self) -> list[str]: ...


async def answer(behaviour: Behaviour, turn: Turn) -> Answer:
    result = behaviour(turn)
    if inspect.isawaitable(result):
        result = await result
    if not isinstance(result, Reply | Change | Failure):
        raise TypeError(f"a behaviour must answer Reply, Change or Failure, not {result!r}")
    return result


def echo(turn: Turn) -> Answer:
    """The default behaviour: a reply that repeats the prompt."""
    return Reply(f"You asked: {turn.prompt}")


class Script:
    """Answers each turn with its next step, in order. A step is an answer, or a function of the
    `Turn` returning one (to check the prompt on the way). Asked once more than it has steps, it
    raises, so the run errs and the fake fails the test; steps never asked are left over."""

    def __init__(self, *steps: Answer | Callable[[Turn], Answer]) -> None:
        self._steps = list(steps)
        self.turns: list[Turn] = []

    def __call__(self, turn: Turn) -> Answer:
        self.turns.append(turn)
        if not self._steps:
            raise AssertionError(f"the script has no step left for {turn.prompt!r}")
        step = self._steps.pop(0)
        return step(turn) if callable(step) else step

    def leftovers(self) -> list[str]:
        return [f"script step never asked: {step!r}" for step in self._steps]
