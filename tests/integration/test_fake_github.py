"""The fake GitHub rejects what GitHub rejects: bad credentials, stale merges, conflicts, personal
tokens on check runs; and it serves ETags, git over HTTP and signed webhooks as GitHub does."""

import asyncio
import hmac
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.fakes.github import FakeGitHub, signature
from tests.fakes.github.git import clean_env

REPO = "acme/app"
SECRET = "webhook-secret"
JSON = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


@dataclass
class Receiver:
    """A webhook endpoint on loopback that records what arrives."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    hook = Receiver(f"http://127.0.0.1:{sock.getsockname()[1]}/webhook")

    async def take(request: Request) -> Response:
        hook.received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    app = Starlette(routes=[Route("/webhook", take, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    yield hook
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture
async def github(tmp_path: Path) -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tmp_path) as fake:
        await fake.create_repository(REPO, files={"app.py": "print('hello')\n"})
        yield fake


def client(github: FakeGitHub, token: str | None = None) -> httpx.AsyncClient:
    headers = JSON | ({"Authorization": f"Bearer {token}"} if token else {})
    return httpx.AsyncClient(base_url=github.api_url, headers=headers, timeout=10)


async def feature_pull(github: FakeGitHub, api: httpx.AsyncClient) -> dict[str, object]:
    await github.push(REPO, "feature", {"app.py": "print('feature')\n"}, "Change the greeting")
    answer = await api.post(
        f"/repos/{REPO}/pulls", json={"title": "Greeting", "head": "feature", "base": "main"}
    )
    assert answer.status_code == 201, answer.text
    pull: dict[str, object] = answer.json()
    return pull


async def git(*args: str, cwd: Path) -> tuple[int, str]:
    env = clean_env({"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com"})
    env |= {"GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
    process = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_a_missing_or_unknown_token_is_refused_with_bad_credentials(
    github: FakeGitHub,
) -> None:
    async with client(github) as anonymous, client(github, "ghp_forged") as forged:
        for api in (anonymous, forged):
            answer = await api.get(f"/repos/{REPO}")
            assert answer.status_code == 401
            assert answer.json() == {
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest",
            }
    async with client(github, github.personal_token("acme")) as owner:
        repo = await owner.get(f"/repos/{REPO}")
        assert repo.status_code == 200
        assert repo.json()["clone_url"] == f"{github.git_url_base}/{REPO}.git"
        assert repo.json()["permissions"]["push"] is True
        assert repo.headers["X-RateLimit-Resource"] == "core"
        assert (await owner.get("/repos/acme/missing")).json()["message"] == "Not Found"
    async with client(github, github.personal_token("stranger")) as stranger:
        assert (await stranger.get(f"/repos/{REPO}")).status_code == 404


async def test_an_app_jwt_buys_installation_tokens_and_bad_jwts_are_refused(
    github: FakeGitHub,
) -> None:
    async with client(github, github.app.jwt()) as app:
        installation = (await app.get(f"/repos/{REPO}/installation")).json()
        answer = await app.post(f"/app/installations/{installation['id']}/access_tokens")
        assert answer.status_code == 201
        assert answer.json()["token"].startswith("ghs_")
        token = answer.json()["token"]
        assert (await app.get(f"/repos/{REPO}")).status_code == 403
    async with client(github, github.app.jwt(lifetime=3600)) as greedy:
        refused = await greedy.get(f"/repos/{REPO}/installation")
        assert refused.status_code == 401
        assert "too far in the future" in refused.json()["message"]
    async with client(github, github.app.jwt(iss="999")) as impostor:
        refused = await impostor.get(f"/repos/{REPO}/installation")
        assert refused.json()["message"] == "A JSON web token could not be decoded"
    async with client(github, token) as installation_client:
        assert (await installation_client.get(f"/repos/{REPO}")).status_code == 200
        assert (await installation_client.get(f"/repos/{REPO}/installation")).status_code == 401
        github.expire_installation_tokens()
        assert (await installation_client.get(f"/repos/{REPO}")).status_code == 401


async def test_only_an_installation_token_may_write_check_runs(github: FakeGitHub) -> None:
    sha = await github.branch_sha(REPO, "main")
    run = {"name": "ci", "head_sha": sha, "status": "in_progress"}
    async with client(github, github.personal_token("acme")) as person:
        refused = await person.post(f"/repos/{REPO}/check-runs", json=run)
        assert refused.status_code == 403
        assert refused.json()["message"] == "Resource not accessible by personal access token"
    async with client(github, github.installation_token(REPO)) as app:
        no_conclusion = await app.post(
            f"/repos/{REPO}/check-runs", json=run | {"status": "completed"}
        )
        assert no_conclusion.status_code == 422
        huge = {"title": "t", "summary": "x" * 65536}
        too_long = await app.post(f"/repos/{REPO}/check-runs", json=run | {"output": huge})
        assert too_long.status_code == 422
        created = (await app.post(f"/repos/{REPO}/check-runs", json=run)).json()
        done = await app.patch(
            f"/repos/{REPO}/check-runs/{created['id']}", json={"conclusion": "success"}
        )
        assert done.json()["status"] == "completed"
        listed = (await app.get(f"/repos/{REPO}/commits/main/check-runs")).json()
        assert listed["total_count"] == 1
    assert [r.conclusion for r in github.check_runs(REPO)] == ["success"]


async def test_creating_a_pull_request_is_validated_as_on_github(github: FakeGitHub) -> None:
    async with client(github, github.personal_token("acme")) as api:
        no_title = await api.post(f"/repos/{REPO}/pulls", json={"head": "main", "base": "main"})
        assert no_title.status_code == 422
        assert no_title.json()["errors"][0] == {
            "resource": "PullRequest",
            "field": "title",
            "code": "missing_field",
        }
        bad_json = await api.post(f"/repos/{REPO}/pulls", content=b"{not json")
        assert (bad_json.status_code, bad_json.json()["message"]) == (400, "Problems parsing JSON")
        wrong_type = await api.post(
            f"/repos/{REPO}/pulls", json={"title": 1, "head": "x", "base": "main"}
        )
        assert wrong_type.status_code == 422
        same = {"title": "t", "head": "main", "base": "main"}
        nothing = (await api.post(f"/repos/{REPO}/pulls", json=same)).json()
        assert nothing["errors"][0]["message"] == "No commits between main and main"
        await feature_pull(github, api)
        again = {"title": "t", "head": "acme:feature", "base": "main"}
        duplicate = (await api.post(f"/repos/{REPO}/pulls", json=again)).json()
        assert (
            duplicate["errors"][0]["message"] == "A pull request already exists for acme:feature."
        )


async def test_merging_answers_409_for_a_stale_sha_and_405_for_a_conflict(
    github: FakeGitHub,
) -> None:
    async with client(github, github.installation_token(REPO)) as api:
        pull = await feature_pull(github, api)
        merge_url = f"/repos/{REPO}/pulls/{pull['number']}/merge"
        stale = await api.put(merge_url, json={"sha": "0" * 40})
        assert stale.status_code == 409
        assert (
            stale.json()["message"] == "Head branch was modified. Review and try the merge again."
        )
        assert (await api.put(merge_url, json={"merge_method": "octopus"})).status_code == 422
        github.set_mergeable(REPO, 1, False)
        conflicted = await api.put(merge_url, json={})
        assert (conflicted.status_code, conflicted.json()["message"]) == (
            405,
            "Pull Request is not mergeable",
        )
        github.set_mergeable(REPO, 1, True)
        head = github.pull_request(REPO, 1).head_sha
        merged = await api.put(merge_url, json={"sha": head, "merge_method": "squash"})
        assert merged.json()["merged"] is True
        assert await github.branch_sha(REPO, "main") == merged.json()["sha"]
        after = (await api.get(f"/repos/{REPO}/pulls/1")).json()
        assert (after["state"], after["merged"]) == ("closed", True)
        assert (await api.put(merge_url, json={})).status_code == 405


async def test_a_real_conflict_shows_as_unmergeable_after_a_first_null(github: FakeGitHub) -> None:
    async with client(github, github.installation_token(REPO)) as api:
        await feature_pull(github, api)
        await github.push(REPO, "main", {"app.py": "print('main')\n"}, "Change it on main too")
        first = (await api.get(f"/repos/{REPO}/pulls/1")).json()
        second = (await api.get(f"/repos/{REPO}/pulls/1")).json()
        assert (first["mergeable"], second["mergeable"]) == (None, False)
        assert second["mergeable_state"] == "dirty"
        assert (await api.put(f"/repos/{REPO}/pulls/1/merge", json={})).status_code == 405


async def test_a_conditional_request_that_finds_nothing_new_costs_nothing(
    github: FakeGitHub,
) -> None:
    async with client(github, github.personal_token("acme")) as api:
        await feature_pull(github, api)
        await github.push(REPO, "other", {"other.txt": "x\n"}, "Other")
        await github.open_pull_request(REPO, "other", "main", "Other", "acme")
        first = await api.get(f"/repos/{REPO}/pulls", params={"per_page": 1})
        assert 'rel="next"' in first.headers["Link"]
        again = await api.get(
            f"/repos/{REPO}/pulls",
            params={"per_page": 1},
            headers={"If-None-Match": first.headers["ETag"]},
        )
        assert (again.status_code, again.content) == (304, b"")
        assert again.headers["X-RateLimit-Remaining"] == first.headers["X-RateLimit-Remaining"]
        assert github.requests[-1].if_none_match == first.headers["ETag"]
        github.close_pull_request(REPO, 2)
        changed = await api.get(
            f"/repos/{REPO}/pulls",
            params={"per_page": 1},
            headers={"If-None-Match": first.headers["ETag"]},
        )
        assert changed.status_code == 200


async def test_git_over_http_needs_a_token_and_a_push_moves_the_pull_request(
    github: FakeGitHub, receiver: Receiver, tmp_path: Path
) -> None:
    github.subscribe(receiver.url, SECRET, events=("pull_request",))
    anonymous = f"{github.git_url_base}/{REPO}.git"
    code, out = await git("clone", anonymous, "refused", cwd=tmp_path)
    assert code != 0
    async with client(github, github.installation_token(REPO)) as api:
        await feature_pull(github, api)
    url = github.clone_url(REPO, github.installation_token(REPO))
    code, out = await git("clone", "--branch", "feature", url, "work", cwd=tmp_path)
    assert code == 0, out
    work = tmp_path / "work"
    (work / "app.py").write_text("print('pushed over http')\n")
    await git("commit", "-am", "Push over HTTP", cwd=work)
    code, out = await git("push", "origin", "feature", cwd=work)
    assert code == 0, out
    _, sha = await git("rev-parse", "HEAD", cwd=work)
    assert github.pull_request(REPO, 1).head_sha == sha.strip()
    await github.deliveries_sent()
    actions = [d.action for d in github.deliveries if d.event == "pull_request"]
    assert actions == ["opened", "synchronize"]
    assert github.deliveries[-1].payload["after"] == sha.strip()


async def test_a_webhook_arrives_signed_and_a_lost_one_can_be_redelivered(
    github: FakeGitHub, receiver: Receiver
) -> None:
    github.subscribe(receiver.url, SECRET)
    await github.push(REPO, "feature", {"app.py": "x = 1\n"}, "Feature")
    github.lose_next_delivery()
    pull = await github.open_pull_request(REPO, "feature", "main", "Feature", "acme")
    await github.deliveries_sent()
    events = [h["x-github-event"] for h, _ in receiver.received]
    assert events == ["ping", "push"]
    lost = github.deliveries[-1]
    assert (lost.event, lost.action, lost.lost) == ("pull_request", "opened", True)
    github.redeliver(lost.guid)
    await github.deliveries_sent()
    headers, body = receiver.received[-1]
    assert headers["x-github-delivery"] == lost.guid
    assert hmac.compare_digest(headers["x-hub-signature-256"], signature(SECRET, body))
    assert headers["user-agent"].startswith("GitHub-Hookshot/")
    payload = json.loads(body)
    assert payload["pull_request"]["head"]["sha"] == pull.head_sha
    assert payload["installation"]["id"] == github.repository(REPO).installation_id


async def test_injected_faults_and_rate_limits_answer_as_github_does(github: FakeGitHub) -> None:
    async with client(github, github.personal_token("acme")) as api:
        github.fail_next(1, status=502)
        assert (await api.get(f"/repos/{REPO}")).status_code == 502
        github.rate_limit_next("secondary", status=429)
        secondary = await api.get(f"/repos/{REPO}")
        assert (secondary.status_code, secondary.headers["Retry-After"]) == (429, "1")
        assert "secondary rate limit" in secondary.json()["message"]
        github.rate_limit_next("primary", reset_in=60)
        for _ in range(2):
            primary = await api.get(f"/repos/{REPO}")
            assert (primary.status_code, primary.headers["X-RateLimit-Remaining"]) == (403, "0")
        assert primary.json()["message"].startswith("API rate limit exceeded for user ID")
