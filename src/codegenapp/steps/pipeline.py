"""One validation attempt: the six steps in order, cleanup always, each with a timeout."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from codegenapp.bus import Bus
from codegenapp.db.engine import Database
from codegenapp.db.queries import validations
from codegenapp.domain.error_context import condense_log, failure_signature
from codegenapp.domain.states import CheckName, StepName, StepStatus, ValidationStatus
from codegenapp.errors import CodegenAppError, SandboxError, StepTimedOut
from codegenapp.steps import (
    StepContext,
    StepResult,
    cleanup,
    clone,
    deploy,
    health,
    snapshot,
    web_eval,
)
from codegenapp.steps.log import StepLog

log = logging.getLogger(__name__)

Runner = Callable[[StepContext, StepLog], Awaitable[StepResult]]
RUNNERS: dict[StepName, Runner] = {
    StepName.SNAPSHOT: snapshot.run,
    StepName.CLONE: clone.run,
    StepName.DEPLOY: deploy.run,
    StepName.HEALTH_CHECK: health.run,
    StepName.WEB_EVAL: web_eval.run,
    StepName.CLEANUP: cleanup.run,
}
CHECKED_STEPS = (
    StepName.SNAPSHOT,
    StepName.CLONE,
    StepName.DEPLOY,
    StepName.HEALTH_CHECK,
    StepName.WEB_EVAL,
)
# Seconds; None: bounded only by the attempt's deadline (the project's timeout_minutes).
STEP_TIMEOUTS: dict[StepName, float | None] = {
    StepName.SNAPSHOT: 60,
    StepName.CLONE: 300,
    StepName.DEPLOY: None,
    StepName.HEALTH_CHECK: None,
    StepName.WEB_EVAL: 900,
    StepName.CLEANUP: 120,
}


@dataclass(frozen=True, slots=True)
class AttemptReport:
    status: ValidationStatus
    reason: str
    failed_step: StepName | None = None
    failed_check: CheckName | None = None
    exit_code: int | None = None
    health_answer: str | None = None  # masked
    log_tail: str = ""  # condensed and masked
    log_step: StepName | None = None

    @property
    def signature(self) -> str | None:
        """How it failed, comparable across attempts and with the base branch's."""
        if self.failed_step is None:
            return None
        check = self.failed_check.value if self.failed_check else None
        return failure_signature(self.failed_step.value, check, self.exit_code, self.log_tail)


class Attempt:
    """Runs the pipeline for one validation and records every step as it goes."""

    def __init__(
        self,
        ctx: StepContext,
        *,
        database: Database,
        bus: Bus,
        on_step: Callable[[], None] | None = None,
    ) -> None:
        """`on_step` is told (after the commit) each time a step ended; it must not block."""
        self.ctx, self.database = ctx, database
        self._on_step = on_step
        self.logs = {
            name: StepLog(
                database=database,
                bus=bus,
                masker=ctx.masker,
                validation_id=ctx.validation_id,
                project_id=ctx.project_id,
                step=name,
            )
            for name in RUNNERS
        }
        self._started: set[StepName] = set()

    async def run(self) -> AttemptReport:
        failure: tuple[StepName, StepResult] | None = None
        try:
            await self._record(start=StepName.SNAPSHOT)
            for name, following in zip(
                CHECKED_STEPS, (*CHECKED_STEPS[1:], StepName.CLEANUP), strict=True
            ):
                result = await self._execute(name)
                failed = result.status is StepStatus.FAILED
                # One transaction closes a step and opens the next.
                await self._record(name, result, start=StepName.CLEANUP if failed else following)
                if failed:
                    failure = (name, result)
                    break
        finally:
            # Cleanup runs even when the attempt is cancelled; shielded so that a second
            # cancellation cannot leave processes or a work area behind.
            await asyncio.shield(self._clean_up())
        return self._report(failure)

    async def _clean_up(self) -> None:
        if StepName.CLEANUP not in self._started:
            await self._record(start=StepName.CLEANUP)
        await self._record(StepName.CLEANUP, await self._execute(StepName.CLEANUP))
        for step_log in self.logs.values():
            await step_log.close()

    async def _record(
        self,
        finished: StepName | None = None,
        result: StepResult | None = None,
        *,
        start: StepName | None = None,
    ) -> None:
        """Record the end of step `finished` (its last log lines, its checks, the sandbox it
        left) and the start of step `start`, in one transaction."""
        validation_id = self.ctx.validation_id
        async with self.database.transaction() as session:
            if finished is not None and result is not None:
                await self.logs[finished].flush(session)
                if finished in (StepName.SNAPSHOT, StepName.CLEANUP):
                    # Stored, so that a worker restarting after a crash can destroy what was left.
                    handle = self.ctx.state.handle
                    await validations.record_sandbox(
                        session, validation_id, asdict(handle) if handle else None
                    )
                await validations.finish_step(
                    session,
                    validation_id,
                    finished,
                    status=result.status,
                    summary=result.summary,
                    checks={check.value: status.value for check, status in result.checks.items()},
                )
            if start is not None:
                self._started.add(start)
                await validations.start_step(session, validation_id, start)
        if finished is not None and self._on_step is not None:
            self._on_step()

    async def _execute(self, name: StepName) -> StepResult:
        step_log = self.logs[name]
        limit = STEP_TIMEOUTS[name]
        remaining = self.ctx.remaining()
        if name is not StepName.CLEANUP and remaining <= 0:
            return StepResult(StepStatus.FAILED, "the validation's timeout_minutes ran out")
        timeout = remaining if limit is None else limit
        if name is StepName.CLEANUP:
            timeout = limit or 120
        try:
            async with asyncio.timeout(timeout):
                return await RUNNERS[name](self.ctx, step_log)
        except (TimeoutError, StepTimedOut):
            await step_log.note(f"{name.value} did not finish within {timeout:.0f}s")
            return StepResult(StepStatus.FAILED, f"timed out after {timeout:.0f}s")
        except (SandboxError, CodegenAppError) as error:
            await step_log.note(f"{name.value} could not run: {error}")
            return StepResult(StepStatus.FAILED, str(error), infrastructure_error=True)
        except Exception as error:
            log.exception("step %s of validation %s crashed", name.value, self.ctx.validation_id)
            await step_log.note(f"internal error in {name.value}: {type(error).__name__}: {error}")
            return StepResult(
                StepStatus.FAILED,
                f"internal error: {type(error).__name__}",
                infrastructure_error=True,
            )

    def _report(self, failure: tuple[StepName, StepResult] | None) -> AttemptReport:
        if failure is None:
            return AttemptReport(ValidationStatus.PASSED, "every step passed")
        name, result = failure
        # A failed health check is explained by what the service printed, in the deploy log.
        source = StepName.DEPLOY if name is StepName.HEALTH_CHECK else name
        return AttemptReport(
            ValidationStatus.ERROR if result.infrastructure_error else ValidationStatus.FAILED,
            result.summary,
            failed_step=name,
            failed_check=result.failed_check,
            exit_code=result.exit_code,
            # Masked here, with the masker of this attempt: the report is stored as it is.
            health_answer=self.ctx.masker.mask(result.health_answer)
            if result.health_answer
            else None,
            # A check's own command output when a check failed, else the step's whole log.
            log_tail=condense_log(
                result.output if result.output is not None else self.logs[source].tail(),
                self.ctx.masker,
            ),
            log_step=source,
        )
