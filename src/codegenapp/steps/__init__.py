"""The validation pipeline's steps, one module each, and what they share.

Every step is `async def run(ctx: StepContext, log: StepLog) -> StepResult`. Steps run in one
attempt, in `PIPELINE` order, driven by `pipeline.py`; they must be safe to run again from the
start on a fresh work area (an attempt restarts whole after a crash).
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from codegenapp.domain.masking import Masker
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.domain.states import CheckName, CheckStatus, StepStatus, ValidationKind
from codegenapp.drivers.evaluator import Evaluator, Judge
from codegenapp.drivers.forge import Forge
from codegenapp.drivers.sandbox import Sandbox, SandboxHandle, ServiceHandle


@dataclass(frozen=True, slots=True)
class StepResult:
    status: StepStatus
    summary: str
    checks: Mapping[CheckName, CheckStatus] = field(default_factory=dict)
    failed_check: CheckName | None = None
    exit_code: int | None = None
    health_answer: str | None = None
    infrastructure_error: bool = False  # our side failed, not the pull request's code
    output: str | None = None  # the failed command's own output (masked), when one failed


@dataclass(slots=True)
class AttemptState:
    """What one step leaves for the next within an attempt."""

    handle: SandboxHandle | None = None
    service: ServiceHandle | None = None


@dataclass(frozen=True, slots=True)
class BaseScreenshots:
    """The baseline whose page screenshots a pull request's are compared with (web_eval's
    before/after), and how it is named to a person: "main at abc1234"."""

    validation_id: int
    label: str


@dataclass(slots=True)
class StepContext:
    validation_id: int
    kind: ValidationKind  # a baseline's code is the project's own: its downloads are cached
    project_id: int
    repository: str
    head_sha: str
    settings: ProjectSettings
    forge: Forge
    sandbox: Sandbox
    secrets: Mapping[str, str]  # the project's, opened: for the sandbox's environment only
    masker: Masker
    deadline: float  # time.monotonic() by which the whole attempt must end
    state: AttemptState = field(default_factory=AttemptState)
    evaluator: Evaluator | None = None  # the browser that evaluates the preview (web_eval)
    artifacts_root: Path | None = None  # where validations keep their evidence
    judge: Judge | None = None  # the AI judge of web_eval, if this server has one
    # What the validation's agent run was asked, and the plan a person confirmed: what the AI
    # judge judges against, and where web_eval finds the plan's acceptance checks. None: no
    # agent run (a pull request from elsewhere, a baseline).
    goal: str | None = None
    plan: str | None = None
    # A pull request's base for web_eval's before/after: the latest finished baseline under
    # the same settings. None: a baseline itself, no web_eval, or none finished yet.
    base_screenshots: BaseScreenshots | None = None

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def require_handle(self) -> SandboxHandle:
        if self.state.handle is None:
            raise RuntimeError("the snapshot step did not create a sandbox")
        return self.state.handle
