"""The merge rule."""

import pytest

from codegenapp.domain.merge_policy import decide_merge
from codegenapp.domain.project_settings import ValidationSettings
from codegenapp.domain.states import CheckName, CheckStatus

PASS, FAIL, SKIP = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.SKIPPED


def test_all_required_checks_passing_allows_the_merge() -> None:
    settings = ValidationSettings(required_checks=[CheckName.BUILD, CheckName.TEST])
    decision = decide_merge(settings, {CheckName.BUILD: PASS, CheckName.TEST: PASS})
    assert decision.allowed


def test_a_skipped_required_check_blocks_the_merge() -> None:
    settings = ValidationSettings(required_checks=[CheckName.SECURITY])
    decision = decide_merge(settings, {CheckName.BUILD: PASS, CheckName.SECURITY: SKIP})
    assert not decision.allowed
    assert "security" in decision.reason


def test_any_failed_check_blocks_even_when_not_required() -> None:
    decision = decide_merge(ValidationSettings(), {CheckName.WEB_EVAL: FAIL})
    assert not decision.allowed


def test_auto_merge_off_blocks_a_green_validation() -> None:
    decision = decide_merge(ValidationSettings(auto_merge=False), {CheckName.BUILD: PASS})
    assert (decision.allowed, decision.reason) == (False, "auto_merge is off for this project")


def test_a_persons_request_merges_with_auto_merge_off_but_not_past_a_required_check() -> None:
    settings = ValidationSettings(auto_merge=False, required_checks=[CheckName.TEST])
    assert decide_merge(settings, {CheckName.TEST: PASS}, requested=True).allowed
    refused = decide_merge(settings, {CheckName.TEST: SKIP}, requested=True)
    assert not refused.allowed
    assert "test" in refused.reason


def test_only_our_runs_and_allowed_authors_are_merged_without_a_person() -> None:
    settings = ValidationSettings(auto_merge_authors=["Trusted", "dependabot[bot]"])
    green = {CheckName.BUILD: PASS}
    assert decide_merge(settings, green, author=None).allowed  # our own agent run's
    assert decide_merge(settings, green, author="trusted").allowed  # logins ignore case
    assert decide_merge(settings, green, author="dependabot[bot]").allowed
    outsider = decide_merge(settings, green, author="outsider")
    assert not outsider.allowed
    assert "outsider" in outsider.reason
    assert "auto_merge_authors" in outsider.reason
    assert decide_merge(settings, green, author="outsider", requested=True).allowed


def test_an_author_that_is_not_a_login_is_refused_in_the_settings() -> None:
    with pytest.raises(ValueError, match="auto_merge_authors"):
        ValidationSettings(auto_merge_authors=["not a login"])
