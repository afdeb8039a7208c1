"""Pull requests' lifecycle: open, close, reopen, ready, mergeability, the three merge methods."""

from tests.fakes.github import git
from tests.fakes.github.errors import GitHubError, validation_failed
from tests.fakes.github.forge import Forge, identity
from tests.fakes.github.state import Merge, PullRequest, Repository, User, now

NOT_MERGEABLE = "Pull Request is not mergeable"


async def open_pull_request(
    forge: Forge,
    repo: Repository,
    *,
    head: str,
    base: str,
    title: str,
    author: User,
    body: str | None = None,
    draft: bool = False,
) -> PullRequest:
    """Opens a pull request and sends `opened`; raises 422 as GitHub does for a missing
    branch, no commits between base and head, or an open pull request for the same head."""
    owner_prefix = f"{repo.owner.login}:"
    head_ref = head.removeprefix(owner_prefix)
    base_sha = await git.resolve(repo.git_dir, f"refs/heads/{base}")
    if base_sha is None:
        raise validation_failed("PullRequest", field="base", code="invalid")
    head_sha = (
        None if ":" in head_ref else await git.resolve(repo.git_dir, f"refs/heads/{head_ref}")
    )
    if head_sha is None:
        raise validation_failed("PullRequest", field="head", code="invalid")
    for other in forge.state.repo_pulls(repo):
        if other.state == "open" and other.head_ref == head_ref and other.base_ref == base:
            raise validation_failed(
                "PullRequest",
                code="custom",
                message=f"A pull request already exists for {owner_prefix}{head_ref}.",
            )
    if not await git.commits_between(repo.git_dir, base_sha, head_sha):
        raise validation_failed(
            "PullRequest", code="custom", message=f"No commits between {base} and {head_ref}"
        )
    pr = PullRequest(
        forge.state.new_id(),
        forge.state.next_issue_number(repo),
        repo,
        title,
        body,
        author,
        head_ref,
        head_sha,
        base,
        base_sha,
        draft,
    )
    forge.state.pulls.setdefault(repo.full_name, {})[pr.number] = pr
    forge.emit_pull(pr, "opened", author)
    return pr


def close(forge: Forge, pr: PullRequest, by: User) -> None:
    if pr.state == "closed":
        return
    pr.state, pr.closed_at, pr.updated_at = "closed", now(), now()
    forge.emit_pull(pr, "closed", by)


def reopen(forge: Forge, pr: PullRequest, by: User) -> None:
    """Raises 422 for a merged pull request, which GitHub never reopens."""
    if pr.merged:
        raise validation_failed(
            "PullRequest",
            field="state",
            code="custom",
            message="state cannot be changed. The pull request cannot be reopened because it "
            "has been merged.",
        )
    if pr.state == "open":
        return
    pr.state, pr.closed_at, pr.updated_at, pr.mergeable = "open", None, now(), None
    forge.emit_pull(pr, "reopened", by)


def mark_ready(forge: Forge, pr: PullRequest, by: User) -> None:
    if not pr.draft:
        return
    pr.draft, pr.updated_at = False, now()
    forge.emit_pull(pr, "ready_for_review", by)


async def refresh_mergeable(pr: PullRequest) -> bool:
    """Whether the head merges cleanly into the base tip, as GitHub's background job finds."""
    if pr.conflict_forced:
        pr.mergeable = False
        return False
    base_tip = await git.resolve(pr.repo.git_dir, f"refs/heads/{pr.base_ref}")
    clean = (
        base_tip is not None
        and await git.merged_tree(pr.repo.git_dir, base_tip, pr.head_sha) is not None
    )
    pr.mergeable = clean
    return clean


async def merge(
    forge: Forge,
    pr: PullRequest,
    *,
    method: str,
    sha: str | None,
    title: str | None,
    message: str | None,
    by: User,
) -> str:
    """Merges in the bare repository and returns the new base tip; raises 405 when GitHub
    would refuse (closed, draft, conflict) and 409 when `sha` is not the head any more."""
    repo = pr.repo
    async with forge.lock(repo):
        if pr.state != "open":
            raise GitHubError(405, NOT_MERGEABLE)
        if pr.draft:
            raise GitHubError(405, "Pull Request is still a draft")
        if sha is not None and sha != pr.head_sha:
            raise GitHubError(409, "Head branch was modified. Review and try the merge again.")
        base_tip = await git.resolve(repo.git_dir, f"refs/heads/{pr.base_ref}")
        if base_tip is None or not await refresh_mergeable(pr):
            raise GitHubError(405, NOT_MERGEABLE)
        new_tip = await _merge_commit(forge, pr, base_tip, method, title, message, by)
        try:
            await git.update_ref(repo.git_dir, f"refs/heads/{pr.base_ref}", new_tip, base_tip)
        except git.GitFailed:
            raise GitHubError(
                409, "Base branch was modified. Review and try the merge again."
            ) from None
        moment = now()
        pr.state, pr.merged, pr.merged_at, pr.closed_at, pr.updated_at = (
            "closed",
            True,
            moment,
            moment,
            moment,
        )
        pr.merged_by, pr.merge_commit_sha = by, new_tip
        forge.state.merges.append(Merge(repo.full_name, pr.number, method, new_tip, by.login))
    await forge.ref_updated(repo, f"refs/heads/{pr.base_ref}", base_tip, new_tip, by)
    forge.emit_pull(pr, "closed", by)
    return new_tip


async def _merge_commit(
    forge: Forge,
    pr: PullRequest,
    base_tip: str,
    method: str,
    title: str | None,
    message: str | None,
    by: User,
) -> str:
    git_dir = pr.repo.git_dir
    if method == "rebase":
        rebased = await git.rebase(
            git_dir, onto=base_tip, head=pr.head_sha, committer=git.GITHUB_IDENTITY
        )
        if rebased is None:
            raise GitHubError(405, "This branch can't be rebased")
        return rebased
    tree = await git.merged_tree(git_dir, base_tip, pr.head_sha)
    if tree is None:
        raise GitHubError(405, NOT_MERGEABLE)
    if method == "squash":
        subject = title or f"{pr.title} (#{pr.number})"
        return await git.commit_tree(
            git_dir, tree, [base_tip], f"{subject}\n\n{message or ''}".strip(), identity(by)
        )
    subject = title or f"Merge pull request #{pr.number} from {pr.repo.owner.login}/{pr.head_ref}"
    text = f"{subject}\n\n{message if message is not None else pr.title}".strip()
    return await git.commit_tree(git_dir, tree, [base_tip, pr.head_sha], text, identity(by))
