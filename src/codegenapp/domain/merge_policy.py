"""When a validated pull request may be merged: the rule, stated once."""

from collections.abc import Mapping
from dataclasses import dataclass

from codegenapp.domain.project_settings import ValidationSettings
from codegenapp.domain.states import CheckName, CheckStatus


@dataclass(frozen=True, slots=True)
class MergeDecision:
    allowed: bool
    reason: str


def decide_merge(
    settings: ValidationSettings,
    checks: Mapping[CheckName, CheckStatus],
    *,
    requested: bool = False,
    author: str | None = None,
) -> MergeDecision:
    """Merge only when every check that ran passed and every required check passed.

    A required check that was skipped (its command is not configured) blocks the merge: the
    project asked for evidence that was never produced. `auto_merge` decides only what happens
    without a person: a person's explicit request (`requested`) merges with it off, under the
    same check rules. Without a person, only our own agent runs' pull requests (`author`
    None) and those of `auto_merge_authors` are merged: anyone else's are validated and
    reported, never merged by us on our own.
    """
    failed = [name.value for name, status in checks.items() if status is CheckStatus.FAILED]
    if failed:
        return MergeDecision(False, f"checks failed: {', '.join(failed)}")
    missing = [
        name.value
        for name in settings.required_checks
        if checks.get(name, CheckStatus.SKIPPED) is not CheckStatus.PASSED
    ]
    if missing:
        return MergeDecision(
            False, f"required checks did not run: {', '.join(missing)} (configure their commands)"
        )
    if not settings.auto_merge and not requested:
        return MergeDecision(False, "auto_merge is off for this project")
    allowed = {login.lower() for login in settings.auto_merge_authors}
    if not requested and author is not None and author.lower() not in allowed:
        return MergeDecision(
            False,
            f"pull requests by {author} are validated, not merged automatically "
            "(validation_settings.auto_merge_authors)",
        )
    return MergeDecision(True, "all checks passed")
