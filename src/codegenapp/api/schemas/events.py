"""Event shape: what the activity feed lists and the WebSocket sends."""

from datetime import datetime

from pydantic import BaseModel, JsonValue

from codegenapp.db.tables import EventRow
from codegenapp.domain.events import EventType


class EventRead(BaseModel):
    id: int
    type: EventType
    project_id: int | None
    data: dict[str, JsonValue]
    ts: datetime

    @classmethod
    def of(cls, row: EventRow) -> "EventRead":
        return cls(
            id=row.id, type=EventType(row.type), project_id=row.project_id, data=row.data, ts=row.ts
        )
