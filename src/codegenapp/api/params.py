"""Path and query parameters, bounded to what the database stores: an id past 32 bits is a
422 naming the parameter, not a database error."""

from typing import Annotated

from fastapi import Header, Path, Query

from codegenapp.domain.limits import MAX_EVENT_ID, MAX_ID

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
EventCursor = Annotated[int, Query(ge=0, le=MAX_EVENT_ID)]
PageLimit = Annotated[int, Query(ge=1, le=200)]
EventLimit = Annotated[int, Query(ge=1, le=1000)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique text (a UUID, say). A retry with the same key and body answers "
        "what the first request made, and starts nothing new; keys are kept for 24 hours.",
    ),
]
