"""The Codegen bot's seat on the fake GitHub: it clones over git smart HTTP, commits, pushes a
branch and opens the pull request through the REST API, as Codegen's GitHub App does."""

import base64
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.fakes.github import FakeGitHub
from tests.fakes.github.git import Identity, run

BOT_LOGIN = "codegen-sh[bot]"
BOT = Identity(BOT_LOGIN, f"131295404+{BOT_LOGIN}@users.noreply.github.com")
REST_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


@dataclass(frozen=True, slots=True)
class Seat:
    github: FakeGitHub
    token: str  # the bot's token on the fake GitHub

    @classmethod
    def on(cls, github: FakeGitHub) -> "Seat":
        github.state.user(BOT_LOGIN, type="Bot")
        return cls(github, github.personal_token(BOT_LOGIN))

    def grant(self, full_name: str) -> str:
        """Lets the bot push to `full_name` (as installing Codegen's App does); returns the
        repository's default branch."""
        repository = self.github.repository(full_name)
        repository.collaborators.add(BOT_LOGIN)
        return repository.default_branch

    async def push(
        self,
        scratch: Path,
        full_name: str,
        *,
        branch: str,
        base: str,
        files: Mapping[str, str | None],
        message: str,
    ) -> str:
        """Commits `files` onto `branch` (started from `base` when it does not exist yet) in a
        clone under `scratch`, pushes it and returns the new head sha."""
        # The token travels in a header, never in the URL: "[bot]" is no URL userinfo.
        basic = base64.b64encode(f"x-access-token:{self.token}".encode()).decode()
        auth = ("-c", f"http.extraHeader=Authorization: Basic {basic}")
        url = f"{self.github.git_url_base}/{full_name}.git"
        start = branch if await self.github.branch_sha(full_name, branch) else base
        work = scratch / "clone"
        scratch.mkdir(parents=True, exist_ok=True)
        try:
            await run(None, *auth, "clone", "--quiet", "--branch", start, url, str(work))
            for path, content in files.items():
                target = work / path
                if content is None:
                    target.unlink()
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content)
            await run(None, "add", "--all", cwd=work)
            await run(None, "commit", "--quiet", "-m", message, cwd=work, env=BOT.env())
            push = ("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
            await run(None, *auth, *push, cwd=work)
            return (await run(None, "rev-parse", "HEAD", cwd=work))[1].decode().strip()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    async def open_pull_request(
        self, full_name: str, *, head: str, base: str, title: str, body: str
    ) -> dict[str, object]:
        """The pull request GitHub created (its REST JSON); raises if it refused."""
        headers = REST_HEADERS | {"Authorization": f"token {self.token}"}
        async with httpx.AsyncClient(
            base_url=self.github.api_url, headers=headers, timeout=30
        ) as client:
            answer = await client.post(
                f"/repos/{full_name}/pulls",
                json={"title": title, "head": head, "base": base, "body": body},
            )
        if answer.status_code != 201:
            raise RuntimeError(
                f"GitHub refused the pull request: {answer.status_code} {answer.text}"
            )
        created: dict[str, object] = answer.json()
        return created
