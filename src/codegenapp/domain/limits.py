"""The bounds every input is held to: integers the database can store, text it can store.

A NUL byte ends a C string and PostgreSQL refuses it in text; a lone surrogate (`\\ud800`) is
valid JSON but not Unicode, and cannot be encoded to UTF-8 for storage. Both are refused at
the door with a message naming the field, instead of failing later as a server error.

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), STORABLE]

(`STORABLE` goes last: pydantic applies what follows a validator to its output, which would
turn "at most 200 characters" into a vaguer message and skip `strip_whitespace`.)
"""

import re
from typing import Annotated

from pydantic import AfterValidator, Field

MAX_ID = 2**31 - 1
"""Ids live in INTEGER columns (32 bits on PostgreSQL)."""
MAX_EVENT_ID = 2**63 - 1
"""Event ids live in a BIGINT column."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def checked_text(value: str) -> str:
    """Raise `ValueError` for text the database cannot store."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if found := _LONE_SURROGATE.search(value):
        raise ValueError(
            f"must be valid Unicode: it holds a lone surrogate (U+{ord(found.group()):04X})"
        )
    return value


def safe_for_json(value: str) -> str:
    """`value` with lone surrogates replaced, so that it can always be sent back as UTF-8."""
    return _LONE_SURROGATE.sub("\ufffd", value)


STORABLE = AfterValidator(checked_text)
"""The last part of every text field's annotation; give every one a `max_length` too."""

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""An id given in a body."""
