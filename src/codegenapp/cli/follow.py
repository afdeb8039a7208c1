"""The live view of one agent run, until it ends: the agent's progress, its plan (answered at a
prompt on a terminal), each validation attempt's steps as they pass or fail, the failing step's
log tail, the merge.

The run's history comes first, then the project's live events from the last one shown
(`stream.py`), of which the view keeps the run's. With `--json`, each of the run's events is one
line of JSON, and the run as it ended the last line.
"""

import sys
from typing import cast

import typer
from rich.console import Console
from rich.status import Status
from rich.text import Text

from codegenapp.cli.client import Client
from codegenapp.cli.describe import describe
from codegenapp.cli.errors import BadInput, Failed
from codegenapp.cli.output import console, print_json_line, sha
from codegenapp.cli.shapes import Event, Project, Run, Validation
from codegenapp.cli.stream import EventStream, run_history
from codegenapp.domain.states import AgentRunStatus

LOG_TAIL_LINES = 12
# Steps that talk to the deployed service: when one fails, the service's own output (kept in
# the deploy step's log) usually says why.
SERVICE_STEPS = frozenset({"health_check", "web_eval"})
PULL_REQUEST_EVENTS = frozenset(
    {"pull_request_opened", "pull_request_updated", "pull_request_merged"}
)


def exit_code(run: Run) -> int:
    """0 for a completed run, 1 for a failed or cancelled one."""
    return 0 if run["status"] == AgentRunStatus.COMPLETED else 1


def get_run(client: Client, run_id: int) -> Run:
    return cast(Run, client.get(f"/api/v1/agent-runs/{run_id}"))


class RunView:
    """Says what happens to one run, as lines for people or JSON lines for scripts."""

    def __init__(self, client: Client, run: Run, *, as_json: bool, out: Console) -> None:
        self.client, self.run, self.as_json, self.out = client, run, as_json, out
        self.pr_number = run["pull_request"]["number"] if run["pull_request"] else None
        # The run's status as of the last event shown: what the view asks about and stops on
        # is what it has shown, never a state whose events it has not printed yet.
        self.run_status = run["status"]
        self.prs_shown: set[int] = set()
        self.status: Status | None = None
        if out.is_terminal and not as_json:
            self.status = out.status("waiting for the run…", spinner="dots")

    def belongs(self, event: Event) -> bool:
        """Whether a project's event is this run's. Pull request events name only the pull
        request: it is the run's if its number is the run's pull request's."""
        data = event["data"]
        if data.get("agent_run_id") == self.run["id"]:
            return True
        if (
            event["type"] not in PULL_REQUEST_EVENTS
            or event["project_id"] != self.run["project_id"]
        ):
            return False
        if self.pr_number is None or data.get("number") != self.pr_number:
            self.refresh()
        return self.pr_number is not None and data.get("number") == self.pr_number

    def refresh(self) -> Run:
        self.run = get_run(self.client, self.run["id"])
        if self.run["pull_request"]:
            self.pr_number = self.run["pull_request"]["number"]
        return self.run

    def header(self) -> None:
        if self.as_json:
            return
        run = self.run
        agent = run["agent"]
        who = f"{agent['driver']}{'' if agent['is_ai'] else ' (not AI)'}" if agent["driver"] else ""
        project = cast(Project, self.client.get(f"/api/v1/projects/{run['project_id']}"))
        line = Text(f"Agent run {run['id']}", style="bold")
        line.append(f" · project {project['name']}" + (f" · {who}" if who else ""))
        self.out.print(line)
        self.out.print(Text(f"goal: {run['goal']}"))

    def note(self, message: str) -> None:
        self.say(message, "dim")

    def say(self, message: str, style: str = "") -> None:
        """A line of the view's own (not an event): on stderr under --json."""
        if self.as_json:
            print(message, file=sys.stderr, flush=True)
        else:
            self.out.print(Text(message, style=style))

    def working(self, what: str) -> None:
        if self.status is not None:
            self.status.update(Text(what))
            self.status.start()

    def pause(self) -> None:
        if self.status is not None:
            self.status.stop()

    @property
    def over(self) -> bool:
        return AgentRunStatus(self.run_status).is_final

    def show(self, event: Event) -> None:
        status = event["data"].get("status")
        if event["type"].startswith("agent_run_") and isinstance(status, str):
            self.run_status = status
        if self.as_json:
            print_json_line(event)
            return
        data = event["data"]
        kind = event["type"]
        text = describe(kind, data)
        if kind == "validation_progress" and data.get("step_status") == "running":
            self.working(f"validation {data.get('validation_id')}: {data.get('step')} running…")
            return
        if kind == "agent_run_progress":
            self.working("the agent is working…")
        if kind in PULL_REQUEST_EVENTS:
            self.prs_shown.add(cast(int, data.get("number")))
        if kind == "validation_started" and data.get("pr_number") not in self.prs_shown:
            self.pull_request()
        if text is not None:
            self.out.print(text)
        if kind == "agent_run_plan_ready":
            self.out.print(Text(_indent(str(data.get("plan") or "")), style="cyan"))
        if kind == "validation_completed" and data.get("status") in ("failed", "error"):
            self.log_tail(cast(int, data["validation_id"]))

    def pull_request(self) -> None:
        """The run's pull request, when its opening was not seen (it was another run's event
        until the run recorded it)."""
        pr = self.refresh()["pull_request"]
        if pr is not None:
            self.prs_shown.add(pr["number"])
            self.out.print(
                Text(f"Pull request #{pr['number']} at {sha(pr['head_sha'])}: {pr['url']}")
            )

    def log_tail(self, validation_id: int) -> None:
        """The end of the failed step's log, then the end of the error context the agent was
        sent (its condensed logs say why, the crashed service's output included); without one
        (the fault was not the code's), for a failed health check or browser evaluation, the
        end of the deploy log, where the service writes."""
        validation = cast(Validation, self.client.get(f"/api/v1/validations/{validation_id}"))
        step = validation["failed_step"]
        if step is None:
            return
        logs = f"/api/v1/validations/{validation_id}/steps"
        self._tail(f"last lines of {step}'s log:", self.client.text(f"{logs}/{step}/log"))
        if validation["error_context"]:
            self._tail("the end of what the agent was sent:", validation["error_context"])
        elif step in SERVICE_STEPS:
            self._tail(
                "the service's last output (deploy log):", self.client.text(f"{logs}/deploy/log")
            )
        self.out.print(
            Text(
                f"  whole log: codegenapp validations log {validation_id} --step {step}",
                style="dim",
            )
        )

    def _tail(self, title: str, text: str) -> None:
        # The error context fences its logs for the agent: the fences mean nothing here.
        lines = [line for line in text.rstrip().splitlines() if not line.startswith("```")]
        if lines:
            self.out.print(Text(f"  {title}", style="dim"))
            for line in lines[-LOG_TAIL_LINES:]:
                self.out.print(Text(f"  │ {line}", style="dim"))

    def ended(self, run: Run) -> None:
        self.pause()
        if self.as_json:
            print_json_line(run)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.rstrip().splitlines())


def follow_run(
    client: Client,
    run_id: int,
    *,
    as_json: bool,
    interactive: bool,
    answered_by: str | None = None,
) -> Run:
    """Show the run from its start until it ends; answer its plan or held change at a prompt
    when `interactive`, else say how to (or, given `answered_by`, who answers instead).
    Returns the run as it ended."""
    view = RunView(client, get_run(client, run_id), as_json=as_json, out=console())
    view.header()
    last = 0
    try:
        for event in run_history(client, run_id):
            view.show(event)
            last = cast(int, event["id"])
        if not view.over:
            ask(view, interactive=interactive, answered_by=answered_by)
            stream = EventStream(
                client, project_id=view.run["project_id"], since=last, say=view.note
            )
            view.working("waiting for the run…")
            for event in stream:
                if not view.belongs(event):
                    continue
                view.show(event)
                if view.over:
                    break
                if event["type"] in ("agent_run_plan_ready", "agent_run_change_held"):
                    ask(view, interactive=interactive, answered_by=answered_by)
    except KeyboardInterrupt:
        view.pause()
        view.say(f"Stopped following; agent run {run_id} goes on: codegenapp runs follow {run_id}")
        raise typer.Exit(130) from None
    finally:
        view.pause()  # the spinner gives the terminal its cursor back, whatever happened
    run = view.refresh()
    view.ended(run)
    return run


def ask(view: RunView, *, interactive: bool, answered_by: str | None = None) -> None:
    """When the run waits for a person: ask at the prompt, or say which command answers."""
    run_id = view.run["id"]
    runs = f"/api/v1/agent-runs/{run_id}"
    waiting = view.run_status in (AgentRunStatus.WAITING_INPUT, AgentRunStatus.WAITING_APPROVAL)
    if waiting and answered_by is not None and not interactive:
        view.say(answered_by, "bold")
        return
    if view.run_status == AgentRunStatus.WAITING_INPUT:
        if not interactive:
            view.say(
                f"The plan waits for your answer: codegenapp plan confirm {run_id}  |  "
                f'codegenapp plan modify {run_id} "…"  |  codegenapp runs cancel {run_id}',
                "bold",
            )
            return
        view.pause()
        choice = choose("Confirm, modify or cancel? [c/m/x]", "cmx")
        if choice == "m":
            text = typer.prompt("What should change in the plan?")
            _answer(view, f"{runs}/plan-response", {"action": "modify", "text": text})
        elif choice == "c":
            _answer(view, f"{runs}/plan-response", {"action": "confirm"})
        else:
            _answer(view, f"{runs}/cancel", None)
    elif view.run_status == AgentRunStatus.WAITING_APPROVAL:
        if not interactive:
            view.say(
                f"The change waits for your approval: codegenapp approve {run_id}  |  "
                f"codegenapp runs cancel {run_id}",
                "bold",
            )
            return
        view.pause()
        choice = choose("Approve the change, or cancel the run? [a/x]", "ax")
        _answer(view, f"{runs}/{'approve-change' if choice == 'a' else 'cancel'}", None)


def choose(question: str, letters: str) -> str:
    """One of `letters`, asked again until the answer is one."""
    while True:
        answer = str(typer.prompt(question)).strip().lower()[:1]
        if answer and answer in letters:
            return answer


def _answer(view: RunView, path: str, body: object) -> None:
    """Send a person's answer; one the run no longer takes (answered elsewhere meanwhile) is
    said, and the view goes on."""
    try:
        view.client.post(path, body)
    except (Failed, BadInput) as refused:
        view.say(f"Not taken: {refused}", "yellow")
