"""The local git forge against real repositories on disk: pull requests, merges, snapshots."""

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from codegenapp.drivers import git as git_runner
from codegenapp.drivers.forge import ChangeState, CommitState, Forge
from codegenapp.drivers.forge.local_git import LocalGitForge
from codegenapp.drivers.forge.mirror import Mirror
from codegenapp.errors import ForgeError, MergeRefused, RepositoryInvalid

GIT_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Person",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test Person",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def make_repo(path: Path) -> Path:
    """A non-bare repository with `main` checked out and one commit."""
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    (path / "README.md").write_text("hello\n")
    git(path, "add", "README.md")
    git(path, "commit", "--quiet", "-m", "Initial commit")
    return path


def commit_on(repo: Path, branch: str, files: dict[str, str], message: str = "change") -> str:
    """Commit `files` on `branch` (created from main if new), then check `main` out again."""
    exists = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        cwd=repo,
        env=GIT_ENV,
        capture_output=True,
    )
    git(repo, "switch", "--quiet", *([] if exists.returncode == 0 else ["-c"]), branch)
    for name, content in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(content)
        git(repo, "add", name)
    git(repo, "commit", "--quiet", "-m", message)
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "--quiet", "main")
    return sha


def tip(repo: Path, branch: str) -> str:
    return git(repo, "rev-parse", f"refs/heads/{branch}")


def commit_count(repo: Path, ref: str) -> int:
    return int(git(repo, "rev-list", "--count", ref))


@pytest.fixture
def forge(tmp_path: Path) -> LocalGitForge:
    return LocalGitForge([tmp_path], mirror_dir=tmp_path / "mirrors")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project")


async def open_pr(forge: LocalGitForge, repo: Path, branch: str = "feature") -> int:
    change = await forge.open_change_request(
        str(repo), head_branch=branch, base_branch="main", title="A change", body="Because."
    )
    return change.number


def test_the_local_git_forge_is_a_forge(tmp_path: Path) -> None:
    # mypy checks the Protocol here
    forge: Forge = LocalGitForge([tmp_path], mirror_dir=tmp_path / "mirrors")

    assert forge.name == "local_git"


# --- check_repository ---------------------------------------------------------------------


async def test_a_repository_with_its_branch_passes_the_check(
    forge: LocalGitForge, repo: Path
) -> None:
    await forge.check_repository(str(repo), default_branch="main")


async def test_a_missing_path_is_an_invalid_repository(
    forge: LocalGitForge, tmp_path: Path
) -> None:
    with pytest.raises(RepositoryInvalid) as caught:
        await forge.check_repository(str(tmp_path / "nowhere"), default_branch="main")

    assert caught.value.field == "repository"
    assert "does not exist" in caught.value.message


async def test_a_relative_path_is_an_invalid_repository(forge: LocalGitForge) -> None:
    with pytest.raises(RepositoryInvalid) as caught:
        await forge.check_repository("project", default_branch="main")

    assert caught.value.field == "repository"
    assert "not an absolute path" in caught.value.message


async def test_a_plain_directory_is_not_a_git_repository_even_inside_one(
    forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    (repo / "sub").mkdir()
    plain = tmp_path / "plain"
    plain.mkdir()

    for path in (plain, repo / "sub"):
        with pytest.raises(RepositoryInvalid) as caught:
            await forge.check_repository(str(path), default_branch="main")
        assert caught.value.field == "repository"
        assert caught.value.message == f"{path} is not a git repository"


async def test_a_missing_branch_is_named_without_listing_the_branches_there_are(
    forge: LocalGitForge, repo: Path
) -> None:
    commit_on(repo, "develop", {"a.txt": "a\n"})

    with pytest.raises(RepositoryInvalid) as caught:
        await forge.check_repository(str(repo), default_branch="trunk")

    assert caught.value.field == "default_branch"
    assert caught.value.message == f"{repo} has no branch 'trunk'"


async def test_a_path_outside_the_roots_gets_one_answer_whether_it_exists_or_not(
    repo: Path, tmp_path: Path
) -> None:
    confined = LocalGitForge([tmp_path / "allowed"], mirror_dir=tmp_path / "mirrors")
    answers = []
    for path in (repo, tmp_path / "nowhere", Path("/etc/shadow"), Path("/dev/zero")):
        with pytest.raises(RepositoryInvalid) as caught:
            await confined.check_repository(str(path), default_branch="main")
        answers.append((caught.value.field, caught.value.message.removeprefix(f"{path} ")))

    assert len(set(answers)) == 1
    field, message = answers[0]
    assert field == "repository"
    assert message.startswith("must be a git repository under one of the server's repository")
    assert str(tmp_path / "allowed") in message


async def test_a_link_or_gitdir_file_that_leads_outside_the_roots_is_refused(
    repo: Path, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "link").symlink_to(repo)
    (allowed / "worktree").mkdir()
    (allowed / "worktree" / ".git").write_text(f"gitdir: {repo / '.git'}\n")
    confined = LocalGitForge([allowed], mirror_dir=tmp_path / "mirrors")

    for path in (allowed / "link", allowed / "worktree"):
        with pytest.raises(RepositoryInvalid, match="under one of the server's repository roots"):
            await confined.check_repository(str(path), default_branch="main")


async def test_an_overlong_path_is_an_invalid_repository_not_a_crash(
    forge: LocalGitForge, tmp_path: Path
) -> None:
    with pytest.raises(RepositoryInvalid) as caught:
        await forge.check_repository(str(tmp_path / ("x" * 4096)), default_branch="main")

    assert caught.value.field == "repository"


# --- pull requests ------------------------------------------------------------------------


async def test_opening_a_pull_request_twice_returns_the_same_one(
    forge: LocalGitForge, repo: Path
) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})

    first = await forge.open_change_request(
        str(repo), head_branch="feature", base_branch="main", title="Add a", body="Body"
    )
    again = await forge.open_change_request(
        str(repo), head_branch="feature", base_branch="main", title="Other", body="Other"
    )

    assert first == again
    assert first.number == 1
    assert first.url == f"file://{repo}#pull-1"
    assert (first.title, first.head_sha, first.state) == ("Add a", head, ChangeState.OPEN)
    stored = json.loads((repo / ".git/codegenapp/pulls/1.json").read_text())
    assert stored["head_branch"] == "feature"
    assert stored["state"] == "open"


async def test_pull_requests_for_different_branches_get_their_own_numbers(
    forge: LocalGitForge, repo: Path
) -> None:
    for branch in ("one", "two", "three"):
        commit_on(repo, branch, {f"{branch}.txt": "x\n"})

    numbers = await asyncio.gather(*(open_pr(forge, repo, b) for b in ("one", "two", "three")))

    assert sorted(numbers) == [1, 2, 3]
    listed = await forge.list_open_change_requests(str(repo))
    assert [c.number for c in listed] == [1, 2, 3]


async def test_an_open_pull_requests_head_follows_its_branch(
    forge: LocalGitForge, repo: Path
) -> None:
    commit_on(repo, "feature", {"a.txt": "a\n"})
    number = await open_pr(forge, repo)

    newer = commit_on(repo, "feature", {"a.txt": "b\n"})
    change = await forge.get_change_request(str(repo), number)

    assert change is not None
    assert change.head_sha == newer


async def test_a_pull_request_for_a_missing_branch_is_refused(
    forge: LocalGitForge, repo: Path
) -> None:
    with pytest.raises(ForgeError, match="branch 'ghost' does not exist"):
        await open_pr(forge, repo, "ghost")

    assert not (repo / ".git/codegenapp/pulls").exists()


async def test_an_unknown_pull_request_reads_as_none(forge: LocalGitForge, repo: Path) -> None:
    assert await forge.get_change_request(str(repo), 7) is None


async def test_comments_and_statuses_are_stored_with_the_pull_request(
    forge: LocalGitForge, repo: Path
) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})
    number = await open_pr(forge, repo)

    await forge.comment(str(repo), number, "Looks good")
    await forge.set_commit_status(
        str(repo), head, context="tests", state=CommitState.PENDING, description="running"
    )
    await forge.set_commit_status(
        str(repo), head, context="tests", state=CommitState.SUCCESS, description="42 passed"
    )

    stored = json.loads((repo / ".git/codegenapp/pulls/1.json").read_text())
    assert [c["body"] for c in stored["comments"]] == ["Looks good"]
    status = stored["statuses"][head]["tests"]
    assert (status["state"], status["description"]) == ("success", "42 passed")


async def test_a_status_on_a_commit_no_pull_request_holds_is_refused(
    forge: LocalGitForge, repo: Path
) -> None:
    with pytest.raises(ForgeError, match="belongs to no pull request"):
        await forge.set_commit_status(
            str(repo), tip(repo, "main"), context="t", state=CommitState.ERROR, description=""
        )


# --- merge --------------------------------------------------------------------------------


async def test_a_merge_makes_one_merge_commit_on_the_base_containing_the_head(
    forge: LocalGitForge, repo: Path
) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})
    old_base = commit_on(repo, "main", {"b.txt": "b\n"})
    number = await open_pr(forge, repo)

    result = await forge.merge(str(repo), number, expected_head_sha=head, message="Merge #1")

    assert not result.already_merged
    assert tip(repo, "main") == result.merge_sha
    assert git(repo, "rev-list", "--parents", "-n1", result.merge_sha).split()[1:] == [
        old_base,
        head,
    ]
    assert git(repo, "log", "-1", "--format=%s|%an|%cn", result.merge_sha) == (
        "Merge #1|CodegenApp|CodegenApp"
    )
    assert git(repo, "show", f"{result.merge_sha}:a.txt") == "a"
    change = await forge.get_change_request(str(repo), number)
    assert change is not None
    assert (change.state, change.merge_sha, change.head_sha) == (
        ChangeState.MERGED,
        result.merge_sha,
        head,
    )
    assert await forge.list_open_change_requests(str(repo)) == []


async def test_merging_twice_makes_one_merge_commit(forge: LocalGitForge, repo: Path) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})
    number = await open_pr(forge, repo)

    first = await forge.merge(str(repo), number, expected_head_sha=head, message="m")
    second = await forge.merge(str(repo), number, expected_head_sha=head, message="m")

    assert second.merge_sha == first.merge_sha
    assert second.already_merged
    assert tip(repo, "main") == first.merge_sha
    assert git(repo, "rev-list", "--merges", "--count", "main") == "1"


async def test_a_merged_pull_request_refuses_a_merge_at_another_head(
    forge: LocalGitForge, repo: Path
) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})
    number = await open_pr(forge, repo)
    await forge.merge(str(repo), number, expected_head_sha=head, message="m")
    merged = tip(repo, "main")

    with pytest.raises(MergeRefused, match=f"was merged at {head}, not at the expected head"):
        await forge.merge(str(repo), number, expected_head_sha="f" * 40, message="m")

    assert tip(repo, "main") == merged


async def test_concurrent_merges_of_one_pull_request_make_one_merge_commit(
    forge: LocalGitForge, repo: Path
) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})
    number = await open_pr(forge, repo)

    results = await asyncio.gather(
        *(forge.merge(str(repo), number, expected_head_sha=head, message="m") for _ in range(4))
    )

    assert len({r.merge_sha for r in results}) == 1
    assert sorted(r.already_merged for r in results) == [False, True, True, True]
    assert git(repo, "rev-list", "--merges", "--count", "main") == "1"


async def test_a_merged_pull_request_keeps_the_head_it_was_merged_at(
    forge: LocalGitForge, repo: Path
) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})
    number = await open_pr(forge, repo)
    await forge.merge(str(repo), number, expected_head_sha=head, message="m")

    commit_on(repo, "feature", {"a.txt": "later\n"})
    change = await forge.get_change_request(str(repo), number)

    assert change is not None
    assert change.head_sha == head


async def test_a_merge_is_refused_when_the_head_moved_and_nothing_changes(
    forge: LocalGitForge, repo: Path
) -> None:
    validated = commit_on(repo, "feature", {"a.txt": "a\n"})
    number = await open_pr(forge, repo)
    moved = commit_on(repo, "feature", {"a.txt": "unvalidated\n"})
    base = tip(repo, "main")

    with pytest.raises(MergeRefused) as caught:
        await forge.merge(str(repo), number, expected_head_sha=validated, message="m")

    assert f"expected {validated}, found {moved}" in str(caught.value)
    assert tip(repo, "main") == base
    change = await forge.get_change_request(str(repo), number)
    assert change is not None
    assert change.state is ChangeState.OPEN


async def test_a_conflicting_merge_is_refused_naming_the_paths(
    forge: LocalGitForge, repo: Path
) -> None:
    head = commit_on(repo, "feature", {"README.md": "theirs\n", "same.txt": "x\n"})
    commit_on(repo, "main", {"README.md": "ours\n"})
    base = tip(repo, "main")
    number = await open_pr(forge, repo)

    with pytest.raises(MergeRefused, match=r"conflicts with 'main' in: README\.md$"):
        await forge.merge(str(repo), number, expected_head_sha=head, message="m")

    assert tip(repo, "main") == base
    assert git(repo, "status", "--porcelain") == ""


async def test_a_head_already_in_the_base_after_a_crash_is_recorded_without_a_new_commit(
    forge: LocalGitForge, repo: Path
) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})
    number = await open_pr(forge, repo)
    # What a crash between moving the base and writing the pull request file leaves behind.
    git(repo, "merge", "--quiet", "--no-ff", "-m", "merged before the crash", "feature")
    merged = tip(repo, "main")

    result = await forge.merge(str(repo), number, expected_head_sha=head, message="m")

    assert result.already_merged
    assert result.merge_sha == merged
    assert tip(repo, "main") == merged
    change = await forge.get_change_request(str(repo), number)
    assert change is not None
    assert (change.state, change.merge_sha) == (ChangeState.MERGED, merged)


async def test_a_clean_checked_out_base_follows_the_merge(forge: LocalGitForge, repo: Path) -> None:
    head = commit_on(repo, "feature", {"src/new.py": "print('new')\n"})
    number = await open_pr(forge, repo)

    result = await forge.merge(str(repo), number, expected_head_sha=head, message="m")

    assert git(repo, "rev-parse", "HEAD") == result.merge_sha
    assert (repo / "src/new.py").read_text() == "print('new')\n"
    assert git(repo, "status", "--porcelain") == ""


async def test_the_repositorys_hooks_never_run(forge: LocalGitForge, repo: Path) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})
    number = await open_pr(forge, repo)
    marker = repo.parent / "hook-ran"
    for hook in ("post-merge", "reference-transaction", "post-checkout"):
        script = repo / ".git/hooks" / hook
        script.write_text(f"#!/bin/sh\necho {hook} >> {marker}\n")
        script.chmod(0o755)

    await forge.merge(str(repo), number, expected_head_sha=head, message="m")

    assert (repo / "a.txt").exists()
    assert not marker.exists()


async def test_a_dirty_checked_out_base_refuses_the_merge_and_changes_nothing(
    forge: LocalGitForge, repo: Path
) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})
    number = await open_pr(forge, repo)
    base = tip(repo, "main")
    (repo / "README.md").write_text("work in progress\n")

    with pytest.raises(MergeRefused, match="has local changes"):
        await forge.merge(str(repo), number, expected_head_sha=head, message="m")

    assert tip(repo, "main") == base
    assert (repo / "README.md").read_text() == "work in progress\n"
    assert not (repo / "a.txt").exists()
    change = await forge.get_change_request(str(repo), number)
    assert change is not None
    assert change.state is ChangeState.OPEN


async def test_a_bare_repository_works(forge: LocalGitForge, repo: Path, tmp_path: Path) -> None:
    head = commit_on(repo, "feature", {"a.txt": "a\n"})
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(repo), str(bare))
    await forge.check_repository(str(bare), default_branch="main")

    number = await open_pr(forge, bare)
    result = await forge.merge(str(bare), number, expected_head_sha=head, message="m")

    assert tip(bare, "main") == result.merge_sha
    assert (bare / "codegenapp/pulls/1.json").is_file()
    assert commit_count(bare, "main") == 3


# --- fetch_snapshot -----------------------------------------------------------------------


async def test_a_snapshot_holds_exactly_that_commit_and_nothing_of_the_source(
    forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    first = commit_on(repo, "feature", {"a.txt": "one\n"})
    commit_on(repo, "feature", {"a.txt": "two\n"})
    dest = tmp_path / "snapshot"

    await forge.fetch_snapshot(str(repo), first, dest)

    assert git(dest, "rev-parse", "HEAD") == first
    assert (dest / "a.txt").read_text() == "one\n"
    assert git(dest, "rev-list", "--all", "--count") == "1"
    assert git(dest, "remote") == ""
    assert str(repo) not in (dest / ".git/config").read_text()
    assert not (dest / ".git/objects/info/alternates").exists()
    assert not (dest / ".git/FETCH_HEAD").exists()
    assert git(dest, "status", "--porcelain") == ""


async def test_a_snapshot_of_an_unknown_commit_fails_clearly_and_leaves_nothing(
    forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "snapshot"

    with pytest.raises(ForgeError, match=f"commit {'0' * 40} does not exist in {repo}"):
        await forge.fetch_snapshot(str(repo), "0" * 40, dest)
    with pytest.raises(ForgeError, match="not a full commit id"):
        await forge.fetch_snapshot(str(repo), "HEAD", dest)

    assert not dest.exists()


async def test_a_snapshot_refuses_an_existing_destination(
    forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "taken"
    dest.mkdir()

    with pytest.raises(ForgeError, match="already exists"):
        await forge.fetch_snapshot(str(repo), tip(repo, "main"), dest)


# --- snapshots through the mirror ---------------------------------------------------------


def mirror_of(repo: Path, tmp_path: Path) -> Mirror:
    """The mirror the `forge` fixture keeps for `repo`."""
    return Mirror.of(tmp_path / "mirrors", f"file://{repo.resolve()}")


def record_transfers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the git commands that bring objects into a mirror, in order."""
    transfers: list[str] = []
    real_run = git_runner.run

    async def recording_run(argv: Sequence[str], **options: object) -> git_runner.GitResult:
        transfers.extend(verb for verb in ("clone", "fetch") if verb in argv)
        return await real_run(argv, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(git_runner, "run", recording_run)
    return transfers


async def test_the_mirror_is_cloned_once_and_fetched_again_only_for_a_commit_it_lacks(
    forge: LocalGitForge, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = commit_on(repo, "feature", {"a.txt": "one\n"})
    newer = commit_on(repo, "feature", {"a.txt": "two\n"})
    transfers = record_transfers(monkeypatch)

    await forge.fetch_snapshot(str(repo), newer, tmp_path / "first")
    assert transfers == ["clone"]
    await forge.fetch_snapshot(str(repo), newer, tmp_path / "same-commit")
    await forge.fetch_snapshot(str(repo), older, tmp_path / "older-commit")
    assert transfers == ["clone"]

    newest = commit_on(repo, "feature", {"a.txt": "three\n"})
    await forge.fetch_snapshot(str(repo), newest, tmp_path / "new-commit")
    await forge.fetch_snapshot(str(repo), newest, tmp_path / "new-commit-again")
    assert transfers == ["clone", "fetch"]


async def test_a_commit_made_after_the_mirror_is_found_by_a_refresh(
    forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    await forge.fetch_snapshot(str(repo), tip(repo, "main"), tmp_path / "before")
    later = commit_on(repo, "feature", {"a.txt": "later\n"})

    await forge.fetch_snapshot(str(repo), later, tmp_path / "after")

    assert git(tmp_path / "after", "rev-parse", "HEAD") == later
    assert (tmp_path / "after" / "a.txt").read_text() == "later\n"
    assert git(mirror_of(repo, tmp_path).path, "rev-parse", "refs/heads/feature") == later


async def test_a_commit_no_branch_reaches_is_fetched_by_its_id(
    forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    await forge.fetch_snapshot(str(repo), tip(repo, "main"), tmp_path / "before")
    tree = git(repo, "rev-parse", "main^{tree}")
    unreachable = git(repo, "commit-tree", tree, "-p", "main", "-m", "on no branch")

    await forge.fetch_snapshot(str(repo), unreachable, tmp_path / "unreachable")

    assert git(tmp_path / "unreachable", "rev-parse", "HEAD") == unreachable


async def test_a_snapshot_needs_neither_the_mirror_nor_the_repository_once_moved(
    forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    sha = commit_on(repo, "feature", {"src/a.txt": "a\n"})
    await forge.fetch_snapshot(str(repo), sha, tmp_path / "snapshot")
    moved = tmp_path / "sandbox" / "workspace"
    moved.parent.mkdir()
    (tmp_path / "snapshot").rename(moved)
    shutil.rmtree(tmp_path / "mirrors")
    repo.rename(tmp_path / "gone")

    assert git(moved, "rev-parse", "HEAD") == sha
    assert git(moved, "status", "--porcelain") == ""
    assert git(moved, "log", "--format=%H") == sha
    git(moved, "fsck", "--full", "--no-dangling")
    assert (moved / "src/a.txt").read_text() == "a\n"
    mentions = [
        path
        for path in (moved / ".git").rglob("*")
        if path.is_file() and str(tmp_path).encode() in path.read_bytes()
    ]
    assert mentions == []


def modification_times(root: Path) -> dict[str, int]:
    return {str(path): path.stat().st_mtime_ns for path in [root, *root.rglob("*")]}


async def test_a_snapshot_of_a_mirrored_commit_writes_nothing_into_the_mirror(
    forge: LocalGitForge, repo: Path, tmp_path: Path
) -> None:
    # Work areas may sit on another file system (git cannot rename a temporary file from the
    # mirror into them), and many workers read one mirror at once.
    sha = tip(repo, "main")
    await forge.fetch_snapshot(str(repo), sha, tmp_path / "first")
    mirror = mirror_of(repo, tmp_path)
    before = modification_times(mirror.path)

    await forge.fetch_snapshot(str(repo), sha, tmp_path / "second")

    assert modification_times(mirror.path) == before


async def test_two_snapshots_at_once_share_one_new_mirror(
    forge: LocalGitForge, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature = commit_on(repo, "feature", {"a.txt": "a\n"})
    main = tip(repo, "main")
    transfers = record_transfers(monkeypatch)

    await asyncio.gather(
        forge.fetch_snapshot(str(repo), feature, tmp_path / "one"),
        forge.fetch_snapshot(str(repo), main, tmp_path / "two"),
    )

    assert git(tmp_path / "one", "rev-parse", "HEAD") == feature
    assert git(tmp_path / "two", "rev-parse", "HEAD") == main
    assert transfers == ["clone"]


async def test_a_commit_the_repository_lacks_is_a_forge_error_from_the_mirror_too(
    repo: Path, tmp_path: Path
) -> None:
    mirror = mirror_of(repo, tmp_path)
    missing = "1" * 40

    with pytest.raises(ForgeError, match=f"commit {missing} does not exist in file://{repo}"):
        await mirror.snapshot(missing, tmp_path / "snapshot")

    assert not (tmp_path / "snapshot").exists()
    assert git(mirror.path, "rev-parse", "--is-bare-repository") == "true"


def leave_garbage(mirror: Mirror, tmp_path: Path) -> None:
    mirror.path.mkdir(parents=True)
    (mirror.path / "HEAD").write_text("not a ref\n")


def leave_an_interrupted_clone(mirror: Mirror, tmp_path: Path) -> None:
    (mirror.partial / "objects" / "pack").mkdir(parents=True)
    (mirror.partial / "objects" / "pack" / "tmp_pack_cut_short").write_bytes(b"PACK\0\0")


def leave_a_mirror_of_another_repository(mirror: Mirror, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other")
    mirror.path.parent.mkdir(parents=True)
    git(tmp_path, "clone", "--quiet", "--mirror", f"file://{other}", str(mirror.path))


@pytest.mark.parametrize(
    "leftover", [leave_garbage, leave_an_interrupted_clone, leave_a_mirror_of_another_repository]
)
async def test_a_mirror_that_is_not_whole_is_rebuilt(
    forge: LocalGitForge, repo: Path, tmp_path: Path, leftover: Callable[[Mirror, Path], None]
) -> None:
    mirror = mirror_of(repo, tmp_path)
    leftover(mirror, tmp_path)
    sha = commit_on(repo, "feature", {"a.txt": "a\n"})

    await forge.fetch_snapshot(str(repo), sha, tmp_path / "snapshot")

    assert git(tmp_path / "snapshot", "rev-parse", "HEAD") == sha
    assert git(mirror.path, "config", "remote.origin.url") == f"file://{repo.resolve()}"
    assert git(mirror.path, "rev-parse", "refs/heads/feature") == sha
    assert not mirror.partial.exists()


# --- the git runner -----------------------------------------------------------------------


async def test_git_that_outlives_its_timeout_is_killed_with_a_clear_error(
    repo: Path, tmp_path: Path
) -> None:
    endless = tmp_path / "endless-input"
    endless.touch()
    hang = ["-c", f"alias.hang=!tail -f {endless}", "hang"]

    with pytest.raises(ForgeError, match=r"did not finish within 0\.2 s"):
        await git_runner.run(hang, cwd=repo, timeout=0.2)

    left = subprocess.run(["pgrep", "-f", str(endless)], capture_output=True, text=True)
    assert left.stdout == ""


async def test_a_failing_git_command_carries_gits_message(repo: Path) -> None:
    with pytest.raises(ForgeError, match=r"git rev-parse --verify nowhere failed \(exit 128\)"):
        await git_runner.run(["rev-parse", "--verify", "nowhere"], cwd=repo)
