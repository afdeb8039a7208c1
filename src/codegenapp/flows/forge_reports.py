"""A validation as its forge shows it: the check runs (or commit statuses) on its commit as
it goes, and the pull request's one report comment. Best effort throughout (`reporting`), and
nothing at all for a baseline or a project whose `github_status_updates` is off."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from codegenapp.db.queries import projects, validations
from codegenapp.db.tables import ValidationRow, ValidationStepRow
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.domain.reports import (
    COMMENT_MARKER,
    StepLine,
    ValidationFacts,
    comment_markdown,
    commit_report,
)
from codegenapp.domain.states import Fault, ValidationKind, ValidationStatus
from codegenapp.drivers.forge import Forge
from codegenapp.flows.reporting import best_effort
from codegenapp.flows.runtime import current

_detached: set[asyncio.Task[None]] = set()


@dataclass(frozen=True, slots=True)
class _Target:
    forge: Forge
    repository: str
    validation: ValidationRow
    settings: ProjectSettings
    facts: ValidationFacts


def dashboard_link(project_id: int, agent_run_id: int | None) -> str | None:
    """Where a person sees the validation, when the server knows its public address."""
    public = current().settings.public_url
    if not public:
        return None
    page = f"/projects/{project_id}" + (f"/runs/{agent_run_id}" if agent_run_id else "")
    return public.rstrip("/") + page


def _step_line(step: ValidationStepRow) -> StepLine:
    seconds = None
    if step.started_at is not None and step.finished_at is not None:
        seconds = (step.finished_at - step.started_at).total_seconds()
    return StepLine(step.name, step.status, seconds)


async def _target(validation_id: int, log_tail: str) -> _Target | None:
    runtime = current()
    async with runtime.database.read() as session:
        validation = await validations.require_validation(session, validation_id)
        project = await projects.get_project(session, validation.project_id)
        steps = await validations.list_steps(session, validation_id)
    if project is None or validation.kind != ValidationKind.PULL_REQUEST:
        return None
    settings = projects.settings_of(project)
    if not settings.notification_settings.github_status_updates:
        return None
    facts = ValidationFacts(
        attempt=validation.attempt,
        head_sha=validation.head_sha,
        status=ValidationStatus(validation.status),
        fault=Fault(validation.fault) if validation.fault else None,
        reason=validation.reason or "",
        failed_step=validation.failed_step,
        failed_check=validation.failed_check,
        steps=tuple(_step_line(step) for step in steps),
        checks={name: str(status) for name, status in validation.checks.items()},
        log_tail=log_tail,
        link=dashboard_link(project.id, validation.agent_run_id),
    )
    forge = runtime.drivers.forge(projects.forge_of(project))
    return _Target(forge, project.repository, validation, settings, facts)


async def report_validation(validation_id: int, *, log_tail: str = "") -> None:
    """Show the validation as it is now on its commit (`log_tail`: the failed step's, masked)."""

    async def report() -> None:
        target = await _target(validation_id, log_tail)
        if target is None:
            return
        notification = target.settings.notification_settings
        shown = commit_report(
            target.facts,
            external_id=str(validation_id),
            name=notification.check_run_name,
            required_checks=target.settings.validation_settings.required_checks,
        )
        await target.forge.report(target.repository, target.validation.head_sha, shown)

    await best_effort("report the validation on the forge", report())


def report_in_background(validation_id: int) -> None:
    """Show the validation as it is now on its commit, in a task of its own, so that the
    forge's round trip holds nobody up. Called as it is queued (the check run is there before
    a worker takes it) and as it is stopped (one stopped in the queue never runs, and would
    stay "queued" on the forge forever)."""
    _detach(report_validation(validation_id))


async def drain(timeout: float) -> None:
    """Wait (at most `timeout` seconds) for the reports sent in the background: at shutdown,
    before the database and the runtime they read go away."""
    if _detached:
        await asyncio.wait(set(_detached), timeout=timeout)


def _detach(work: Awaitable[None]) -> None:
    async def run() -> None:
        await work

    task = asyncio.create_task(run())
    _detached.add(task)
    task.add_done_callback(_detached.discard)


async def comment_on_failure(validation_id: int, *, log_tail: str) -> None:
    """A failure of the code or of the settings (not one of ours) is told in the pull
    request's report comment, which each later attempt rewrites."""

    async def comment() -> None:
        target = await _target(validation_id, log_tail)
        if target is None or target.validation.pr_number is None:
            return
        facts = target.facts
        failed = facts.status is ValidationStatus.FAILED or (
            facts.status is ValidationStatus.ERROR and facts.fault is Fault.SETUP
        )
        if failed:
            await target.forge.upsert_comment(
                target.repository,
                target.validation.pr_number,
                marker=COMMENT_MARKER,
                body=comment_markdown(facts),
            )

    await best_effort("comment on the pull request", comment())


async def write_comment(
    forge: Forge, repository: str, number: int, text: str, *, settings: ProjectSettings
) -> None:
    """`text` as the pull request's report comment (after a pass: the merge's outcome)."""
    if not settings.notification_settings.github_status_updates:
        return
    body = f"{COMMENT_MARKER}\n{text}"
    upsert = forge.upsert_comment(repository, number, marker=COMMENT_MARKER, body=body)
    await best_effort("comment on the pull request", upsert)


class Progress:
    """Sends `send` after each step without holding the pipeline up: one send at a time, and
    pokes that arrive meanwhile coalesce into one more (which reads the state as it is then)."""

    def __init__(self, send: Callable[[], Awaitable[None]]) -> None:
        self._send = send
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def poke(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        else:
            self._again = True

    async def _run(self) -> None:
        while True:
            self._again = False
            await self._send()
            if not self._again:
                return

    async def settle(self) -> None:
        """Returns once the sends poked so far are done."""
        if self._task is not None:
            await self._task

    def finish_detached(self) -> None:
        """After a cancellation: settle, then send once more (the closed state), in a task of
        its own so that the cancellation is not held up by the forge."""

        async def finish() -> None:
            await self.settle()
            await self._send()

        _detach(finish())
