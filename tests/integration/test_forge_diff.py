"""`Forge.diff` on both forges: what `git diff base...head` prints with git's own defaults,
whatever the repository configures, and never more than the reader asked for. The local forge
reads the repository on disk; the github forge its mirror, fetched from the fake GitHub."""

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.fakes.github import FakeGitHub
from tests.support.projects import git, make_repository

from codegenapp.domain.change_review import changed_paths
from codegenapp.drivers.forge import Forge
from codegenapp.drivers.forge.github import GitHubCredentials, GitHubForge
from codegenapp.drivers.forge.local_git import LocalGitForge
from codegenapp.errors import DiffTooLarge, ForgeError

REPO = "acme/app"
TEST = "def test_total():\n    assert 1 + 1 == 2\n"
SKIPPED = "import pytest\n\n\n@pytest.mark.skip(reason='flaky')\n" + TEST


def _git_diff(repo: Path, base: str, head: str) -> str:
    """git's own text, with the defaults and none of the repository's config."""
    return subprocess.run(
        ["git", "-c", "diff.noprefix=false", "diff", "--no-color", f"{base}...{head}"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def local(tmp_path: Path) -> tuple[Forge, Path, str]:
    """A local repository whose branch `fix` skips a test, and that configures its diffs its
    own way; the forge, the repository and the branch's head."""
    repo = make_repository(tmp_path / "repo", {"app.py": "print(1)\n", "tests/test_app.py": TEST})
    git(repo, "checkout", "-q", "-b", "fix")
    (repo / "tests" / "test_app.py").write_text(SKIPPED)
    (repo / "app.py").write_text("print(2)\n")
    git(repo, "commit", "-qam", "Skip the test")
    git(repo, "checkout", "-q", "main")
    for key, value in [("diff.noprefix", "true"), ("diff.context", "9"), ("color.diff", "always")]:
        git(repo, "config", key, value)
    forge = LocalGitForge([tmp_path], mirror_dir=tmp_path / "mirrors")
    return forge, repo, git(repo, "rev-parse", "fix")


async def test_the_local_forge_prints_the_diff_as_git_does_by_default(
    local: tuple[Forge, Path, str],
) -> None:
    forge, repo, head = local
    diff = await forge.diff(str(repo), "main", head)
    assert diff == _git_diff(repo, "main", head)
    assert "+@pytest.mark.skip(reason='flaky')" in diff
    assert changed_paths(diff) == ("app.py", "tests/test_app.py")
    main = git(repo, "rev-parse", "main")
    assert await forge.diff(str(repo), main, head) == diff  # a commit id names the base too


async def test_a_diff_longer_than_asked_is_refused_whole(local: tuple[Forge, Path, str]) -> None:
    forge, repo, head = local
    size = len((await forge.diff(str(repo), "main", head)).encode())
    assert await forge.diff(str(repo), "main", head, max_bytes=size)
    with pytest.raises(DiffTooLarge) as refused:
        await forge.diff(str(repo), "main", head, max_bytes=size - 1)
    assert refused.value.max_bytes == size - 1
    assert f"longer than {size - 1} bytes" in str(refused.value)


async def test_an_unknown_branch_or_commit_is_a_forge_error(local: tuple[Forge, Path, str]) -> None:
    forge, repo, head = local
    with pytest.raises(ForgeError, match="branch 'trunk' does not exist"):
        await forge.diff(str(repo), "trunk", head)
    with pytest.raises(ForgeError, match="does not exist"):
        await forge.diff(str(repo), "main", "0" * 40)


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(
            REPO, files={"app.py": "print(1)\n", "tests/test_app.py": TEST}
        )
        yield fake


async def test_the_github_forge_reads_the_same_diff_from_its_mirror(
    github: FakeGitHub, tmp_path: Path
) -> None:
    head = await github.push(REPO, "fix", {"tests/test_app.py": SKIPPED}, "Skip the test")
    await github.push(REPO, "main", {"README.md": "moved on\n"}, "Main moves on")
    credentials = GitHubCredentials(token=github.personal_token("acme"))
    forge = GitHubForge(credentials, api_url=github.api_url, mirror_dir=tmp_path / "mirrors")

    diff = await forge.diff(REPO, "main", head)

    bare = github.repository(REPO).git_dir
    assert diff == _git_diff(bare, "main", head)  # main's own commit is no part of the fix
    assert changed_paths(diff) == ("tests/test_app.py",)
    with pytest.raises(DiffTooLarge):
        await forge.diff(REPO, "main", head, max_bytes=100)
    with pytest.raises(ForgeError, match="branch 'trunk' does not exist"):
        await forge.diff(REPO, "trunk", head)
    with pytest.raises(ForgeError, match="does not exist"):
        await forge.diff(REPO, "main", "0" * 40)
