"""The fake agent at work on one turn: it asks the test's behaviour, then does what the answer
says (reply, or commit, push and open a pull request for real on the fake GitHub) and leaves a
trace in the run's logs, as Codegen's agent does."""

import asyncio
import re
from typing import TYPE_CHECKING

from tests.fakes.codegen.behaviour import Change, Failure, Reply, Turn, answer
from tests.fakes.codegen.state import PullRequestLink, Run, TurnRecord

if TYPE_CHECKING:
    from tests.fakes.codegen.core import Codegen


async def take_turn(
    codegen: "Codegen", run: Run, turn: TurnRecord, *, after: "asyncio.Task[None] | None"
) -> None:
    if after is not None:
        await asyncio.wait({after})  # one message at a time, in the order they came
    try:
        if turn.outcome is None:  # else it was stopped (banned) before it began
            await _answer_turn(codegen, run, turn)
    finally:
        await codegen.traffic.notify()


async def _answer_turn(codegen: "Codegen", run: Run, turn: TurnRecord) -> None:
    try:
        view = Turn(
            run_id=run.id,
            number=turn.number,
            prompt=turn.prompt,
            repository=run.repository.full_name if run.repository else None,
            branch=run.branch,
            model=run.model,
            metadata=run.metadata,
        )
        reply = await answer(codegen.behaviour, view)
        if turn.outcome is not None:  # stopped (banned) while it thought: no effects
            return
        status, result = await _act(codegen, run, turn, reply)
    except Exception as error:
        codegen.problems.append(f"run {run.id}, turn {turn.number}: {error!r}")
        codegen.log(run, "ERROR", observation=f"{type(error).__name__}: {error}")
        status, result = "ERROR", f"The agent failed: {error}"
    codegen.finish(run, turn, status, result)


async def _act(
    codegen: "Codegen", run: Run, turn: TurnRecord, reply: Reply | Change | Failure
) -> tuple[str, str]:
    if isinstance(reply, Reply):
        codegen.log(run, "FINAL_ANSWER", observation=reply.text)
        return reply.status, reply.text
    if isinstance(reply, Failure):
        codegen.log(run, "ERROR", observation=reply.result)
        return reply.status, reply.result
    return await _change(codegen, run, turn, reply)


async def _change(
    codegen: "Codegen", run: Run, turn: TurnRecord, change: Change
) -> tuple[str, str]:
    repository = run.repository
    if repository is None:
        raise RuntimeError("the run has no repository to change")
    title = change.title or change.message.splitlines()[0]
    branch = run.branch or change.branch or f"codegen-bot/{_slug(title)}-{run.id}"
    base = change.base or repository.default_branch
    codegen.log(run, "PLAN_EVALUATION", thought=f"I will change {len(change.files)} file(s).")
    sha = await codegen.seat.push(
        codegen.root / "work" / f"run-{run.id}-turn-{turn.number}",
        repository.full_name,
        branch=branch,
        base=base,
        files=change.files,
        message=change.message,
    )
    for path, content in change.files.items():
        codegen.log(
            run,
            "ACTION",
            tool_name="file_write" if content is not None else "delete_file",
            tool_input={"filepath": path},
            tool_output={"status": "success"},
        )
    codegen.log(
        run, "ACTION", tool_name="git_push", tool_input={"branch": branch}, tool_output={"sha": sha}
    )
    codegen.record_push(run, branch)
    opened = next((pr for pr in run.pull_requests if pr.head_branch_name == branch), None)
    if opened is None:
        created = await codegen.seat.open_pull_request(
            repository.full_name, head=branch, base=base, title=title, body=change.body
        )
        opened = PullRequestLink(
            id=codegen.state.new_id(),
            title=title,
            url=str(created["html_url"]),
            number=int(str(created["number"])),
            head_branch_name=branch,
        )
        codegen.record_pull_request(run, opened)
        codegen.log(
            run,
            "ACTION",
            tool_name="create_pr",
            tool_input={"title": title, "head": branch, "base": base},
            tool_output={"url": opened.url, "number": opened.number},
        )
        result = change.result or f"I opened a pull request: {opened.url}"
    else:
        result = change.result or f"I pushed {sha[:7]} to {branch}: {opened.url}"
    codegen.log(run, "FINAL_ANSWER", observation=result)
    return "COMPLETE", result


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "change"
