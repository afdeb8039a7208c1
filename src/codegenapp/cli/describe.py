"""One line for each kind of event, as the live view and the activity feed print it."""

from typing import cast

from rich.text import Text

from codegenapp.cli.output import sha

STEP_MARKS = {
    "running": ("…", "cyan"),
    "passed": ("✓", "green"),
    "failed": ("✗", "red"),
    "skipped": ("-", "dim"),
    "cancelled": ("⊘", "yellow"),
}
RUN_STYLES = {"completed": "bold green", "failed": "bold red", "cancelled": "bold yellow"}


def describe(kind: str, data: dict[str, object]) -> Text | None:
    """One line for an event, or None for those the view does not print."""
    if kind == "agent_run_progress":
        return Text(f"  agent  {data.get('message', '')}")
    if kind == "agent_run_plan_ready":
        return Text("The agent proposes a plan:", style="bold")
    if kind == "agent_run_fix_requested":
        return Text(
            f"Sent validation {data.get('validation_id')}'s failure to the agent to fix "
            f"(after attempt {data.get('attempt')})",
            style="yellow",
        )
    if kind == "agent_run_change_held":
        findings = cast(list[dict[str, object]], data.get("findings") or [])
        named = ", ".join(f"{f.get('kind')} {f.get('path')}" for f in findings) or "unread diff"
        return Text(
            f"The change at {sha(cast(str, data.get('head_sha')))} bends the gate: {named}",
            style="bold yellow",
        )
    if kind == "agent_run_change_approved":
        return Text(f"The change at {sha(cast(str, data.get('head_sha')))} is approved")
    if kind == "agent_run_plan_strayed":
        unnamed = cast(list[str], data.get("unnamed") or [])
        return Text(f"The pull request strays from the plan: {', '.join(unnamed)}", style="yellow")
    if kind == "agent_run_completed":
        status = str(data.get("status"))
        return Text(f"Run {status}: {data.get('result')}", style=RUN_STYLES.get(status, "bold"))
    if kind in ("pull_request_opened", "pull_request_updated"):
        verb = "opened" if kind == "pull_request_opened" else "updated"
        return Text(
            f"Pull request #{data.get('number')} {verb} at {sha(cast(str, data.get('head_sha')))}"
            f": {data.get('url')}"
        )
    if kind == "pull_request_merged":
        return Text(
            f"Merged pull request #{data.get('number')} at "
            f"{sha(cast(str, data.get('head_sha')))} (merge commit "
            f"{sha(cast(str, data.get('merge_sha')))})",
            style="bold green",
        )
    if kind == "merge_blocked":
        return Text(f"Not merged: {data.get('reason')}", style="bold yellow")
    if kind == "validation_started":
        return Text(
            f"Validation {data.get('validation_id')} · attempt {data.get('attempt')} · "
            f"pull request #{data.get('pr_number')}",
            style="bold",
        )
    if kind == "validation_progress":
        if data.get("restarted"):
            return Text(f"  validation {data.get('validation_id')} restarted", style="yellow")
        mark, style = STEP_MARKS.get(str(data.get("step_status")), ("?", ""))
        line = Text(f"  {mark} ", style=style)
        line.append(f"{data.get('step', ''):<13}")
        line.append(str(data.get("summary") or ""), style="dim")
        return line
    if kind == "validation_completed":
        status = str(data.get("status"))
        if status == "passed":
            return Text(f"Validation {data.get('validation_id')} passed", style="bold green")
        where = f" at {data.get('failed_step')}" if data.get("failed_step") else ""
        fault = f" (fault: {data.get('fault')})" if data.get("fault") else ""
        return Text(
            f"Validation {data.get('validation_id')} {status}{where}{fault}: {data.get('reason')}",
            style="bold red",
        )
    return None
