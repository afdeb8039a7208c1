"""The github forge against the fake GitHub over HTTP: the real driver, githubkit and git, with
the fake's `api_url` as GITHUB_API_URL; token and App credentials, faults and rate limits."""

import base64
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from tests.fakes.github import FakeGitHub, LoggedRequest

from codegenapp.drivers import git
from codegenapp.drivers.forge import ChangeState, CommitRequest, CommitState, Forge
from codegenapp.drivers.forge import github as github_module
from codegenapp.drivers.forge.github import GitHubCredentials, GitHubForge, github_forge
from codegenapp.errors import ForgeError, MergeRefused, RepositoryInvalid
from codegenapp.settings import Settings

REPO = "acme/app"
PULLS = f"/repos/{REPO}/pulls"


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(REPO, files={"app.py": "print('hello')\n"})
        yield fake


def token_forge(github: FakeGitHub, tmp_path: Path) -> GitHubForge:
    credentials = GitHubCredentials(token=github.personal_token("acme"))
    return GitHubForge(credentials, api_url=github.api_url, mirror_dir=tmp_path / "mirrors")


def app_forge(github: FakeGitHub, tmp_path: Path) -> GitHubForge:
    credentials = GitHubCredentials(app_id=github.app_id, private_key=github.private_key_pem)
    return GitHubForge(credentials, api_url=github.api_url, mirror_dir=tmp_path / "mirrors")


async def feature(github: FakeGitHub, branch: str = "feature", text: str = "feature") -> str:
    return await github.push(REPO, branch, {"app.py": f"print('{text}')\n"}, f"Work on {branch}")


def calls(github: FakeGitHub, method: str, path: str) -> list[LoggedRequest]:
    return [r for r in github.requests if r.method == method and r.path == path]


def secrets_of(github: FakeGitHub) -> list[str]:
    """Every token the fake handed out, raw and as git's Basic credentials."""
    tokens = [*github.app.tokens, *github.personal_tokens]
    basic = [base64.b64encode(f"x-access-token:{t}".encode()).decode() for t in tokens]
    return tokens + basic


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


async def test_a_repository_with_its_branch_passes_the_check_with_a_token_or_the_app(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge: Forge = token_forge(github, tmp_path)
    await forge.check_repository(REPO, default_branch="main")
    await app_forge(github, tmp_path).check_repository(REPO, default_branch="main")
    assert calls(github, "GET", f"/repos/{REPO}/installation")[0].caller == f"app:{github.app_id}"


async def test_the_check_names_the_field_and_the_credentials_that_failed(
    github: FakeGitHub, tmp_path: Path
) -> None:
    await github.create_repository("acme/private", app_installed=False)
    by_token, by_app = token_forge(github, tmp_path), app_forge(github, tmp_path)
    with pytest.raises(RepositoryInvalid) as missing:
        await by_token.check_repository("acme/missing", default_branch="main")
    assert missing.value.field == "repository"
    assert "acme/missing is not reachable with GITHUB_TOKEN" in missing.value.message
    with pytest.raises(RepositoryInvalid) as no_branch:
        await by_token.check_repository(REPO, default_branch="trunk")
    assert (no_branch.value.field, no_branch.value.message) == (
        "default_branch",
        "acme/app has no branch 'trunk'",
    )
    with pytest.raises(RepositoryInvalid) as not_installed:
        await by_app.check_repository("acme/private", default_branch="main")
    assert not_installed.value.field == "repository"
    assert not_installed.value.message.endswith(
        f"with the GitHub App {github.app_id}: is it installed on acme/private?"
    )
    with pytest.raises(RepositoryInvalid) as malformed:
        await by_token.check_repository("https://evil.example/acme/app", default_branch="main")
    assert "OWNER/NAME" in malformed.value.message


async def test_a_snapshot_holds_exactly_the_commit_and_the_token_is_written_nowhere(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = app_forge(github, tmp_path)
    first = await feature(github, text="first")
    await feature(github, text="second")
    dest = tmp_path / "work" / "snapshot"
    await forge.fetch_snapshot(REPO, first, dest)
    assert (dest / "app.py").read_text() == "print('first')\n"
    assert await git.output(["rev-parse", "HEAD"], cwd=dest) == first
    with pytest.raises(ForgeError) as unknown:
        await forge.fetch_snapshot(REPO, "1" * 40, tmp_path / "work" / "unknown")
    assert "1111111111111111111111111111111111111111" in str(unknown.value)
    assert not (tmp_path / "work" / "unknown").exists()
    # The token reached git only through its environment: the mirror's config, the snapshot
    # and the error name it nowhere, in any spelling.
    written = [p.read_bytes() for p in files_under(tmp_path / "mirrors") + files_under(dest)]
    assert github.app.tokens, "the App's installation token was used"
    for secret in secrets_of(github):
        assert all(secret.encode() not in content for content in written)
        assert secret not in str(unknown.value)
    mirror_config = next((tmp_path / "mirrors").glob("*.git")) / "config"
    assert f"url = {github.git_url_base}/{REPO}.git" in mirror_config.read_text()


async def test_opening_a_pull_request_twice_gives_the_same_one_and_reading_it_matches(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    head = await feature(github)
    opened = await forge.open_change_request(
        REPO, head_branch="feature", base_branch="main", title="Greeting", body="Why"
    )
    again = await forge.open_change_request(
        REPO, head_branch="feature", base_branch="main", title="Greeting", body="Why"
    )
    assert again == opened
    assert (opened.number, opened.head_sha, opened.state) == (1, head, ChangeState.OPEN)
    assert opened.url == f"{github.git_url_base}/{REPO}/pull/1"
    assert (opened.head_branch, opened.base_branch, opened.merge_sha) == ("feature", "main", None)
    assert await forge.get_change_request(REPO, 1) == opened
    assert await forge.get_change_request(REPO, 99) is None
    assert len(calls(github, "POST", PULLS)) == 1
    with pytest.raises(ForgeError) as no_branch:
        await forge.open_change_request(
            REPO, head_branch="nowhere", base_branch="main", title="t", body=""
        )
    assert "'nowhere'" in str(no_branch.value)
    assert await forge.branch_head(REPO, "feature") == head
    assert await forge.branch_head(REPO, "nowhere") is None


async def test_an_unchanged_open_pull_request_list_costs_only_304s(
    github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(github_module, "PER_PAGE", 1)  # two pages from two pull requests
    forge = token_forge(github, tmp_path)
    for branch in ("one", "two"):
        await feature(github, branch)
        await github.open_pull_request(REPO, branch, "main", branch.title(), "acme")
    first = await forge.list_open_change_requests(REPO)
    assert [(p.number, p.head_branch) for p in first] == [(1, "one"), (2, "two")]
    second = await forge.list_open_change_requests(REPO)
    assert second == first
    listed = calls(github, "GET", PULLS)
    assert [r.status for r in listed] == [200, 200, 304, 304]
    assert all(r.if_none_match for r in listed[2:])
    moved = await feature(github, "two", text="moved")
    third = await forge.list_open_change_requests(REPO)
    assert [p.head_sha for p in third][1] == moved
    # A push changes every page (each pull request embeds its repository's `pushed_at`).
    assert calls(github, "GET", PULLS)[-1].status == 200


async def test_a_comment_and_a_commit_status_reach_github(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    head = await feature(github)
    pull = await forge.open_change_request(
        REPO, head_branch="feature", base_branch="main", title="t", body=""
    )
    await forge.comment(REPO, pull.number, "Validation failed: see the log")
    await forge.set_commit_status(
        REPO, head, context="codegenapp", state=CommitState.PENDING, description="x" * 500
    )
    await forge.set_commit_status(
        REPO, head, context="codegenapp", state=CommitState.SUCCESS, description="All green"
    )
    assert [c.body for c in github.comments(REPO, 1)] == ["Validation failed: see the log"]
    statuses = github.statuses(REPO, head)
    assert [(s.context, s.state) for s in statuses] == [
        ("codegenapp", "pending"),
        ("codegenapp", "success"),
    ]
    assert len(statuses[0].description or "") == 140


async def test_a_merge_of_the_validated_head_merges_and_a_repeat_reports_already_merged(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    head = await feature(github)
    await github.open_pull_request(REPO, "feature", "main", "Greeting", "acme")
    merged = await forge.merge(
        REPO, 1, expected_head_sha=head, message="Greeting\n\nValidated.", method="squash"
    )
    assert (merged.head_sha, merged.already_merged) == (head, False)
    assert merged.merge_sha == await github.branch_sha(REPO, "main")
    assert [(m.number, m.method, m.sha) for m in github.merges] == [(1, "squash", merged.merge_sha)]
    again = await forge.merge(REPO, 1, expected_head_sha=head, message="Greeting")
    assert (again.merge_sha, again.already_merged) == (merged.merge_sha, True)
    after = await forge.get_change_request(REPO, 1)
    assert after is not None
    assert (after.state, after.merge_sha) == (ChangeState.MERGED, merged.merge_sha)
    assert len(github.merges) == 1


async def test_a_merge_is_refused_when_a_push_moved_the_head(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    validated = await feature(github)
    await github.open_pull_request(REPO, "feature", "main", "Greeting", "acme")
    await feature(github, text="pushed after validation")
    with pytest.raises(MergeRefused) as refused:
        await forge.merge(REPO, 1, expected_head_sha=validated, message="Greeting")
    assert "Head branch was modified" in str(refused.value)
    assert github.merges == []
    assert [r.status for r in calls(github, "PUT", f"{PULLS}/1/merge")] == [409]


async def test_a_merge_is_refused_when_the_change_conflicts(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    head = await feature(github)
    await github.open_pull_request(REPO, "feature", "main", "Greeting", "acme")
    github.set_mergeable(REPO, 1, False)
    with pytest.raises(MergeRefused) as refused:
        await forge.merge(REPO, 1, expected_head_sha=head, message="Greeting")
    assert (
        str(refused.value)
        == "GitHub refused to merge pull request #1: Pull Request is not mergeable"
    )
    assert github.merges == []


async def test_an_app_token_github_refuses_before_its_expiry_is_replaced(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = app_forge(github, tmp_path)
    await forge.check_repository(REPO, default_branch="main")
    github.expire_installation_tokens()
    assert await forge.branch_head(REPO, "main") == await github.branch_sha(REPO, "main")
    token_requests = [r for r in github.requests if r.path.endswith("/access_tokens")]
    assert len(token_requests) == 2
    assert [r.status for r in calls(github, "GET", f"/repos/{REPO}/branches/main")][-2:] == [
        401,
        200,
    ]


async def test_an_app_token_is_reused_until_five_minutes_before_it_expires(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = app_forge(github, tmp_path)
    for _ in range(3):
        await forge.branch_head(REPO, "main")
    assert len([r for r in github.requests if r.path.endswith("/access_tokens")]) == 1
    github.app.token_lifetime = timedelta(minutes=4)
    short_lived = app_forge(github, tmp_path)
    for _ in range(2):
        await short_lived.branch_head(REPO, "main")
    assert len([r for r in github.requests if r.path.endswith("/access_tokens")]) == 3


async def test_a_server_error_is_retried_and_three_in_a_row_fail(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    github.fail_next(1, status=502)
    assert await forge.branch_head(REPO, "main") is not None
    assert [r.status for r in github.requests] == [502, 200]
    github.fail_next(3, status=503)
    with pytest.raises(ForgeError) as failed:
        await forge.branch_head(REPO, "main")
    assert "GitHub answered 503" in str(failed.value)
    assert [r.status for r in github.requests][2:] == [503, 503, 503]


async def test_a_secondary_rate_limit_is_waited_out_as_github_says(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    github.rate_limit_next("secondary", status=429)
    started = time.monotonic()
    assert await forge.branch_head(REPO, "main") is not None
    assert 1.0 <= time.monotonic() - started < 2.5  # Retry-After: 1
    assert [r.status for r in github.requests] == [429, 200]


async def test_a_primary_rate_limit_waits_until_its_reset(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    github.rate_limit_next("primary", reset_in=1.0)
    started = time.monotonic()
    assert await forge.get_change_request(REPO, 1) is None
    assert 1.0 <= time.monotonic() - started < 3.5  # the reset is a whole second, plus 0.5
    assert [r.status for r in github.requests] == [403, 404]


async def test_a_rate_limit_beyond_the_budget_fails_at_once_naming_the_limit(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    github.rate_limit_next("primary", reset_in=600)
    started = time.monotonic()
    with pytest.raises(ForgeError) as limited:
        await forge.branch_head(REPO, "main")
    assert time.monotonic() - started < 1.0
    assert "primary rate limit is spent (with GITHUB_TOKEN)" in str(limited.value)


def test_the_forge_is_built_only_when_github_credentials_are_set(tmp_path: Path) -> None:
    plain = Settings(home=tmp_path)
    assert github_forge(plain, tmp_path / "mirrors") is None
    by_token = Settings(home=tmp_path, github_token=SecretStr("ghp_example"))
    assert isinstance(github_forge(by_token, tmp_path / "mirrors"), GitHubForge)
    key_file = tmp_path / "app.pem"
    key_file.write_text("-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n")
    by_app = Settings(home=tmp_path, github_app_id=7, github_app_private_key_file=key_file)
    assert isinstance(github_forge(by_app, tmp_path / "mirrors"), GitHubForge)
    with pytest.raises(ForgeError, match="GITHUB_APP_PRIVATE_KEY"):
        github_forge(Settings(home=tmp_path, github_app_id=7), tmp_path / "mirrors")
    assert "ghp_example" not in repr(GitHubCredentials(token="ghp_example"))


async def test_a_commit_is_pushed_to_a_new_branch_and_a_replay_finds_it_in_place(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    base = await github.branch_sha(REPO, "main")
    change = CommitRequest(
        branch="codegen/run-1",
        parent=base,
        create=True,
        files=(("notes.md", "notes\n"),),
        deletes=(),
        message="Add notes",
        author="Scripted agent (CodegenApp)",
        date=1_700_000_000,
    )
    pushed = await forge.push_commit(REPO, change)
    assert await github.branch_sha(REPO, "codegen/run-1") == pushed
    assert await forge.push_commit(REPO, change) == pushed  # replayed after a crash: in place
    snapshot = tmp_path / "snapshot"
    await forge.fetch_snapshot(REPO, pushed, snapshot)
    assert (snapshot / "notes.md").read_text() == "notes\n"
    assert (snapshot / "app.py").exists()  # on top of the base, not instead of it
    mirror_files = "".join(p.read_text(errors="ignore") for p in files_under(tmp_path / "mirrors"))
    assert not any(secret in mirror_files for secret in secrets_of(github))


async def test_a_push_onto_a_branch_someone_else_moved_is_refused_and_changes_nothing(
    github: FakeGitHub, tmp_path: Path
) -> None:
    forge = token_forge(github, tmp_path)
    base = await github.branch_sha(REPO, "main")
    theirs = await feature(github, "codegen/run-2", "theirs")  # pushed meanwhile by a person
    change = CommitRequest(
        branch="codegen/run-2",
        parent=base,
        create=False,
        files=(("app.py", "print('ours')\n"),),
        deletes=(),
        message="Ours",
        author="Scripted agent (CodegenApp)",
        date=1_700_000_000,
    )
    with pytest.raises(ForgeError) as refused:
        await forge.push_commit(REPO, change)
    assert "codegen/run-2" in str(refused.value)
    assert not any(secret in str(refused.value) for secret in secrets_of(github))
    assert await github.branch_sha(REPO, "codegen/run-2") == theirs
