"""The one write path of the fake: every change, from a test or over HTTP, goes through here."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from tests.fakes.github import git
from tests.fakes.github.auth import App
from tests.fakes.github.errors import not_found
from tests.fakes.github.payloads import Json, Urls, pull_json, repo_json, user_json
from tests.fakes.github.state import PullRequest, Repository, State, User, now
from tests.fakes.github.webhooks import Webhooks


def identity(user: User) -> git.Identity:
    return git.Identity(user.login, f"{user.id}+{user.login}@users.noreply.github.com")


class Forge:
    """Repositories backed by real bare git repos, their pull requests, the events they cause."""

    def __init__(self, root: Path, urls: Urls) -> None:
        self.root = root
        self.urls = urls
        self.state = State()
        self.app = App(
            app_id=424242,
            slug="codegenapp-fake",
            bot=self.state.user("codegenapp-fake[bot]", type="Bot"),
        )
        self.personal_tokens: dict[str, User] = {}
        self.installations: dict[int, User] = {}
        self.webhooks = Webhooks()
        self._locks: dict[str, asyncio.Lock] = {}
        # What happens on GitHub just before the next merge requests are answered (a person
        # pushing at the wrong moment), in order; each is used once.
        self.before_merge: list[Callable[[], Awaitable[object]]] = []

    # Accounts and repositories

    def personal_token(self, login: str) -> str:
        """A new personal access token for `login` (created on first mention)."""
        token = f"ghp_{login}_{len(self.personal_tokens):04d}".ljust(40, "x")
        self.personal_tokens[token] = self.state.user(login)
        return token

    def installation_for(self, owner: str) -> int:
        """The App's installation on `owner`'s account, created on first use."""
        account = self.state.user(owner)
        for installation_id, installed_on in self.installations.items():
            if installed_on is account:
                return installation_id
        installation_id = self.state.new_id()
        self.installations[installation_id] = account
        return installation_id

    async def create_repository(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        files: Mapping[str, str | bytes] | None = None,
        private: bool = True,
        app_installed: bool = True,
        collaborators: tuple[str, ...] = (),
    ) -> Repository:
        """A repository whose default branch holds one commit with `files` (a README if none)."""
        owner_login, name = full_name.split("/")
        owner = self.state.user(owner_login)
        git_dir = self.root / "repos" / owner_login / f"{name}.git"
        await git.init_bare(git_dir, default_branch)
        repo = Repository(
            self.state.new_id(),
            owner,
            name,
            default_branch,
            git_dir,
            private,
            set(collaborators),
            self.installation_for(owner_login) if app_installed else None,
        )
        self.state.repos[full_name] = repo
        sha = await git.commit_files(
            git_dir,
            parent=None,
            files=files or {"README.md": f"# {name}\n"},
            message="Initial commit",
            author=identity(owner),
        )
        await git.update_ref(git_dir, f"refs/heads/{default_branch}", sha, None)
        return repo

    def repository(self, full_name: str) -> Repository:
        if full_name not in self.state.repos:
            raise not_found()
        return self.state.repos[full_name]

    def lock(self, repo: Repository) -> asyncio.Lock:
        return self._locks.setdefault(repo.full_name, asyncio.Lock())

    async def push(
        self,
        full_name: str,
        branch: str,
        files: Mapping[str, str | bytes | None],
        message: str,
        *,
        author: str | None = None,
        start_from: str | None = None,
    ) -> str:
        """Commits `files` onto `branch` (new branches start at `start_from` or the default
        branch) as `author` would push it; sends the webhooks a push causes; returns the sha."""
        repo = self.repository(full_name)
        pusher = self.state.user(author) if author else repo.owner
        async with self.lock(repo):
            before = await git.resolve(repo.git_dir, f"refs/heads/{branch}")
            parent = before or await git.resolve(repo.git_dir, start_from or repo.default_branch)
            sha = await git.commit_files(
                repo.git_dir, parent=parent, files=files, message=message, author=identity(pusher)
            )
            await git.update_ref(repo.git_dir, f"refs/heads/{branch}", sha, before)
        await self.ref_updated(repo, f"refs/heads/{branch}", before, sha, pusher)
        return sha

    async def ref_updated(
        self, repo: Repository, ref: str, before: str | None, after: str | None, pusher: User
    ) -> None:
        """What GitHub does after a ref moved: a `push` event, then `synchronize` for each open
        pull request whose head moved; mergeability becomes unknown again."""
        repo.pushed_at = now()
        await self._emit_push(repo, ref, before, after, pusher)
        if not ref.startswith("refs/heads/") or after is None:
            return
        branch = ref.removeprefix("refs/heads/")
        for pr in self.state.repo_pulls(repo):
            if pr.state != "open":
                continue
            if pr.base_ref == branch:
                pr.base_sha, pr.mergeable = after, None
            if pr.head_ref == branch and pr.head_sha != after:
                old, pr.head_sha, pr.mergeable, pr.updated_at = pr.head_sha, after, None, now()
                self.emit_pull(pr, "synchronize", pusher, {"before": old, "after": after})

    # Events

    def base_payload(self, repo: Repository, sender: User) -> Json:
        payload: Json = {
            "repository": repo_json(repo, self.urls),
            "sender": user_json(sender, self.urls),
        }
        if repo.installation_id is not None:
            payload["installation"] = {
                "id": repo.installation_id,
                "node_id": f"MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{repo.installation_id}",
            }
        return payload

    def emit_pull(
        self, pr: PullRequest, action: str, sender: User, extra: Json | None = None
    ) -> None:
        comments = sum(
            1
            for c in self.state.comments.values()
            if c.issue_number == pr.number and c.repo is pr.repo
        )
        payload: Json = {
            "action": action,
            "number": pr.number,
            "pull_request": pull_json(pr, self.urls, comments=comments),
            **(extra or {}),
            **self.base_payload(pr.repo, sender),
        }
        self.webhooks.emit("pull_request", payload)

    async def _emit_push(
        self, repo: Repository, ref: str, before: str | None, after: str | None, pusher: User
    ) -> None:
        zero = git.ZERO_SHA
        shas: list[str] = []
        forced = False
        if after is not None:
            if before is not None:
                shas = await git.commits_between(repo.git_dir, before, after)
                forced = not await git.is_ancestor(repo.git_dir, before, after)
            else:
                shas = [after]
        commits = [await self._commit_json(repo, sha) for sha in shas[-20:]]
        compare = f"{(before or zero)[:12]}...{(after or zero)[:12]}"
        payload: Json = {
            "ref": ref,
            "before": before or zero,
            "after": after or zero,
            "created": before is None,
            "deleted": after is None,
            "forced": forced,
            "base_ref": None,
            "compare": f"{self.urls.web}/{repo.full_name}/compare/{compare}",
            "commits": commits,
            "head_commit": commits[-1] if commits else None,
            "pusher": {"name": pusher.login, "email": identity(pusher).email},
            **self.base_payload(repo, pusher),
        }
        self.webhooks.emit("push", payload)

    async def _commit_json(self, repo: Repository, sha: str) -> Json:
        info = await git.describe(repo.git_dir, sha)
        person = {
            "name": info.author.name,
            "email": info.author.email,
            "username": info.author.name,
        }
        return {
            "id": sha,
            "tree_id": await git.tree_of(repo.git_dir, sha),
            "distinct": True,
            "message": info.message,
            "timestamp": info.timestamp,
            "url": f"{self.urls.web}/{repo.full_name}/commit/{sha}",
            "author": person,
            "committer": person,
            "added": info.added,
            "removed": info.removed,
            "modified": info.modified,
        }

    def subscribe(self, url: str, secret: str, *, events: tuple[str, ...] = ("*",)) -> int:
        """Sends the App's webhooks to `url` from now on, first a `ping`; returns the hook id."""
        hook_id = self.state.new_id()
        subscription = self.webhooks.subscribe(hook_id, url, secret, events)
        hook: Json = {
            "type": "App",
            "id": hook_id,
            "name": "web",
            "active": True,
            "events": list(events),
            "config": {"content_type": "json", "insecure_ssl": "0", "url": url},
            "app_id": self.app.app_id,
        }
        payload: Json = {"zen": "Keep it logically awesome.", "hook_id": hook_id, "hook": hook}
        self.webhooks.emit("ping", payload, only=subscription)
        return hook_id
