"""Web evaluation: drives the deployed preview in a headless browser.

Not configured yet: the browser evaluator arrives with its own issue. Until then the step
records, visibly, that it did not evaluate anything; a project that lists `web_eval` in its
required checks is therefore never merged, which is the honest outcome.
"""

from codegenapp.domain.states import CheckName, CheckStatus, StepStatus
from codegenapp.steps import StepContext, StepResult
from codegenapp.steps.log import StepLog

NOT_CONFIGURED = "not configured: no browser evaluator is set up for this project"


async def run(ctx: StepContext, log: StepLog) -> StepResult:
    await log.note(NOT_CONFIGURED)
    return StepResult(StepStatus.SKIPPED, NOT_CONFIGURED, {CheckName.WEB_EVAL: CheckStatus.SKIPPED})
