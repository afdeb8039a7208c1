"""Check runs (written only through an installation token) and commit statuses."""

import re
from datetime import datetime

from tests.fakes.github import git
from tests.fakes.github.api import Call, Reply, endpoint
from tests.fakes.github.errors import GitHubError, invalid_request, not_found
from tests.fakes.github.payloads import Json, check_run_json, repo_json, status_json
from tests.fakes.github.state import CheckRun, CommitStatus, Repository, now
from tests.fakes.github.validation import Field, check, text

CONCLUSIONS = (
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
)
CHECK_RUN = [
    Field("name", str),
    Field("head_sha", str),
    Field("details_url", str, nullable=True),
    Field("external_id", str, nullable=True),
    Field("status", str, choices=("queued", "in_progress", "completed")),
    Field("conclusion", str, choices=CONCLUSIONS),
    Field("started_at", str),
    Field("completed_at", str),
    Field("output", dict),
    Field("actions", list),
]
STATUS = [
    Field("state", str, required=True, choices=("pending", "success", "failure", "error")),
    Field("target_url", str, nullable=True),
    Field("description", str, nullable=True, max_length=140),
    Field("context", str),
]
OUTPUT_LIMIT = 65535
SHA = re.compile(r"[0-9a-f]{40}")


def _installation_only(call: Call) -> None:
    if call.caller.kind == "user":
        raise GitHubError(403, "Resource not accessible by personal access token")


async def _commit(repo: Repository, ref: str, *, sha_only: bool) -> str:
    sha = await git.resolve(repo.git_dir, ref) if SHA.fullmatch(ref) or not sha_only else None
    if sha is None:
        raise GitHubError(422, f"No commit found for SHA: {ref}")
    return sha


def _time(body: dict[str, object], name: str) -> datetime | None:
    value = text(body, name)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise invalid_request(f"For 'properties/{name}', {value!r} is not a date-time.") from None


def _output(body: dict[str, object]) -> dict[str, str | None] | None:
    output = body.get("output")
    if not isinstance(output, dict):
        return None
    missing = [
        f'"{name}"' for name in ("title", "summary") if not isinstance(output.get(name), str)
    ]
    if missing:
        verb = "wasn't" if len(missing) == 1 else "weren't"
        raise invalid_request(f"{', '.join(missing)} {verb} supplied.")
    for name in ("summary", "text"):
        value = output.get(name)
        if isinstance(value, str) and len(value) > OUTPUT_LIMIT:
            raise invalid_request(
                f"Only {OUTPUT_LIMIT} characters are allowed; {len(value)} were supplied."
            )
    return {
        name: output.get(name) if isinstance(output.get(name), str) else None
        for name in ("title", "summary", "text")
    }


def _apply(run: CheckRun, body: dict[str, object]) -> None:
    """Applies status and conclusion as GitHub does: a conclusion completes the run, and a
    completed run must have one."""
    status = text(body, "status") or run.status
    conclusion = text(body, "conclusion") or (run.conclusion if status == "completed" else None)
    if conclusion is not None:
        status = "completed"
    if status == "completed" and conclusion is None:
        raise invalid_request('"conclusion" wasn\'t supplied.')
    run.status, run.conclusion = status, conclusion
    run.started_at = _time(body, "started_at") or run.started_at
    run.completed_at = _time(body, "completed_at") or (
        (run.completed_at or now()) if status == "completed" else None
    )
    for name in ("details_url", "external_id"):
        if name in body:
            setattr(run, name, text(body, name))
    output = _output(body)
    if output is not None:
        run.output = output


def _run_json(call: Call, run: CheckRun) -> Json:
    pulls = [
        pr
        for pr in call.forge.state.repo_pulls(run.repo)
        if pr.state == "open" and pr.head_sha == run.head_sha
    ]
    return check_run_json(run, call.forge.urls, call.forge.app, pulls)


async def create_check_run(call: Call) -> Reply:
    _installation_only(call)
    repo = call.repo(write=True)
    body = await call.json()
    check(
        body,
        "CheckRun",
        [Field("name", str, required=True), Field("head_sha", str, required=True), *CHECK_RUN],
    )
    head_sha = await _commit(repo, str(body["head_sha"]), sha_only=True)
    run = CheckRun(
        call.forge.state.new_id(),
        repo,
        str(body["name"]),
        head_sha,
        call.forge.state.check_suite_id(repo, head_sha),
        "queued",
        None,
        now(),
        None,
        None,
        None,
        {"title": None, "summary": None, "text": None},
    )
    _apply(run, body)
    call.forge.state.check_runs[run.id] = run
    return Reply(201, _run_json(call, run))


def _check_run(call: Call, repo: Repository) -> CheckRun:
    run_id = call.param("check_run_id")
    run = call.forge.state.check_runs.get(int(run_id)) if run_id.isdigit() else None
    if run is None or run.repo is not repo:
        raise not_found()
    return run


async def update_check_run(call: Call) -> Reply:
    _installation_only(call)
    repo = call.repo(write=True)
    run = _check_run(call, repo)
    body = await call.json()
    check(body, "CheckRun", CHECK_RUN)
    if "name" in body:
        run.name = str(body["name"])
    _apply(run, body)
    return Reply(200, _run_json(call, run))


async def get_check_run(call: Call) -> Reply:
    repo = call.repo()
    return Reply(200, _run_json(call, _check_run(call, repo)))


async def list_check_runs(call: Call) -> Reply:
    repo = call.repo()
    sha = await _commit(repo, call.param("ref"), sha_only=False)
    query = call.request.query_params
    runs = [r for r in call.forge.state.check_runs.values() if r.repo is repo and r.head_sha == sha]
    if query.get("filter", "latest") == "latest":
        latest: dict[str, CheckRun] = {run.name: run for run in runs}
        runs = list(latest.values())
    runs = [
        r
        for r in reversed(runs)
        if query.get("check_name") in (None, r.name) and query.get("status") in (None, r.status)
    ]
    page, headers = call.page(runs)
    return Reply(
        200, {"total_count": len(runs), "check_runs": [_run_json(call, r) for r in page]}, headers
    )


async def create_status(call: Call) -> Reply:
    repo = call.repo(write=True)
    sha = await _commit(repo, call.param("sha"), sha_only=True)
    body = await call.json()
    check(body, "Status", STATUS)
    status = CommitStatus(
        call.forge.state.new_id(),
        repo,
        sha,
        str(body["state"]),
        text(body, "target_url"),
        text(body, "description"),
        text(body, "context") or "default",
        call.caller.user,
    )
    call.forge.state.statuses.append(status)
    return Reply(201, status_json(status, call.forge.urls))


async def combined_status(call: Call) -> Reply:
    repo = call.repo()
    sha = await _commit(repo, call.param("ref"), sha_only=False)
    latest: dict[str, CommitStatus] = {}
    for status in call.forge.state.statuses:
        if status.repo is repo and status.sha == sha:
            latest[status.context] = status
    states = {s.state for s in latest.values()}
    combined = (
        "failure"
        if states & {"failure", "error"}
        else "pending"
        if not states or "pending" in states
        else "success"
    )
    api = f"{call.forge.urls.api}/repos/{repo.full_name}"
    return Reply(
        200,
        {
            "state": combined,
            "statuses": [status_json(s, call.forge.urls) for s in latest.values()],
            "sha": sha,
            "total_count": len(latest),
            "repository": repo_json(repo, call.forge.urls),
            "commit_url": f"{api}/commits/{sha}",
            "url": f"{api}/commits/{sha}/status",
        },
    )


ROUTES = [
    endpoint("POST", "/repos/{owner}/{repo}/check-runs", create_check_run),
    endpoint("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", get_check_run),
    endpoint("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", update_check_run),
    endpoint("GET", "/repos/{owner}/{repo}/commits/{ref:path}/check-runs", list_check_runs),
    endpoint("POST", "/repos/{owner}/{repo}/statuses/{sha}", create_status),
    endpoint("GET", "/repos/{owner}/{repo}/commits/{ref:path}/status", combined_status),
]
