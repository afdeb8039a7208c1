"""Strict checks of request bodies, answering as GitHub does (400 for bad JSON, 422 otherwise)."""

import json
from dataclasses import dataclass

from tests.fakes.github.errors import GitHubError, invalid_request, validation_failed

TYPE_NAMES: dict[type, str] = {str: "string", bool: "boolean", int: "integer", dict: "object"}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: type
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    nullable: bool = False


def parse_body(raw: bytes, *, optional: bool = False) -> dict[str, object]:
    """The JSON object in `raw`; raises 400 `Problems parsing JSON` for anything else."""
    if not raw.strip() and optional:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise GitHubError(400, "Problems parsing JSON") from None
    if not isinstance(body, dict):
        raise GitHubError(400, "Problems parsing JSON")
    return body


def check(body: dict[str, object], resource: str, fields: list[Field]) -> None:
    """Raises 422 naming the first field that is missing, of the wrong type or out of range."""
    for spec in fields:
        if spec.name not in body:
            if spec.required:
                raise validation_failed(resource, field=spec.name, code="missing_field")
            continue
        value = body[spec.name]
        if value is None and spec.nullable:
            continue
        # bool is an int in Python, never in JSON schema.
        wrong = not isinstance(value, spec.kind) or (spec.kind is int and isinstance(value, bool))
        if wrong:
            shown = json.dumps(value)
            raise invalid_request(
                f"For 'properties/{spec.name}', {shown} is not {_article(spec.kind)}."
            )
        if spec.choices and value not in spec.choices:
            members = ", ".join(json.dumps(c) for c in spec.choices)
            raise invalid_request(
                f"For 'properties/{spec.name}', {json.dumps(value)} is not a member of [{members}]."
            )
        if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
            raise validation_failed(
                resource,
                field=spec.name,
                code="custom",
                message=f"{spec.name} is too long (maximum is {spec.max_length} characters)",
            )


def _article(kind: type) -> str:
    name = TYPE_NAMES.get(kind, kind.__name__)
    return ("an " if name[0] in "aeiou" else "a ") + name


def text(body: dict[str, object], name: str) -> str | None:
    """A string field already checked by `check`, or None when absent or null."""
    value = body.get(name)
    return value if isinstance(value, str) else None
