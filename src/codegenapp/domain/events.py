"""Event names and the record every state change leaves behind.

The brief's six types come first; the rest are what the dashboard needs to tell the story.
An event row is written in the same transaction as the change it describes and published
after commit; log lines are the one exception (`validation_log`): they are streamed live,
stored with their step, and carry no id.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from codegenapp.domain.ids import EventId, ProjectId

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
JsonObject = dict[str, JsonValue]


class EventType(StrEnum):
    AGENT_RUN_STARTED = "agent_run_started"
    AGENT_RUN_PROGRESS = "agent_run_progress"
    AGENT_RUN_COMPLETED = "agent_run_completed"
    VALIDATION_STARTED = "validation_started"
    VALIDATION_PROGRESS = "validation_progress"
    VALIDATION_COMPLETED = "validation_completed"
    # Beyond the brief's six:
    AGENT_RUN_PLAN_READY = "agent_run_plan_ready"
    AGENT_RUN_FIX_REQUESTED = "agent_run_fix_requested"
    # The agent's pull request bends the gate: it waits for a person (data: the head, the
    # findings' kinds and paths; the hunks are on the run), and the person's approval.
    AGENT_RUN_CHANGE_HELD = "agent_run_change_held"
    AGENT_RUN_CHANGE_APPROVED = "agent_run_change_approved"
    # The pull request changes files the confirmed plan did not name (flagged, not held).
    AGENT_RUN_PLAN_STRAYED = "agent_run_plan_strayed"
    VALIDATION_QUEUED = "validation_queued"
    VALIDATION_LOG = "validation_log"
    PULL_REQUEST_OPENED = "pull_request_opened"
    PULL_REQUEST_UPDATED = "pull_request_updated"
    PULL_REQUEST_MERGED = "pull_request_merged"
    MERGE_BLOCKED = "merge_blocked"
    PROJECT_CREATED = "project_created"
    PROJECT_UPDATED = "project_updated"
    PROJECT_DELETED = "project_deleted"
    # Their data names the secret, never its value.
    PROJECT_SECRET_SET = "project_secret_set"  # noqa: S105 - an event name
    PROJECT_SECRET_DELETED = "project_secret_deleted"  # noqa: S105 - an event name
    WEBHOOK_PROCESSED = "webhook_processed"  # what became of a forge's delivery


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as clients receive it: `{"id", "type", "project_id", "data", "ts"}`."""

    id: EventId | None
    type: EventType
    project_id: ProjectId | None
    data: Mapping[str, JsonValue]
    ts: datetime

    def to_message(self) -> JsonObject:
        return {
            "id": self.id,
            "type": self.type.value,
            "project_id": self.project_id,
            "data": dict(self.data),
            "ts": self.ts.isoformat(),
        }
