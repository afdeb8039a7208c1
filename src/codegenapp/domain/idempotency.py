"""Idempotent requests: a caller's key, and a fingerprint of what it asked, to tell a retry
(same key, same body: answer what the first made) from a mistake (same key, another body)."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from codegenapp.domain.events import JsonValue


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    key: str
    fingerprint: str

    @classmethod
    def of(cls, key: str, body: Mapping[str, JsonValue]) -> "IdempotentRequest":
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return cls(key=key, fingerprint=hashlib.sha256(canonical.encode()).hexdigest())
