"""Secret masking for every log we store, stream or hand to an agent.

A secret leaks in more than one spelling: raw, base64 (HTTP basic auth, k8s manifests) and
URL-encoded (connection strings). All three are replaced.
"""

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

MASK = "***"
_MIN_SECRET_LENGTH = 4
_SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE|CREDENTIAL)", re.I)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    """Remove colour and cursor escape sequences, which mean nothing to a reader of stored text."""
    return _ANSI.sub("", text)


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential."""
    return bool(_SECRET_NAME.search(name))


def _spellings(secret: str) -> set[str]:
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), base64.b64encode(raw).decode()}
    # Inside a longer encoded value a secret starts at one of three byte alignments. For each,
    # keep the base64 groups made only of the secret's own bytes: those appear verbatim.
    for shift in (0, 1, 2):
        encoded = base64.b64encode(b"\x00" * shift + raw).decode()
        first_group = 1 if shift else 0
        last_group = (shift + len(raw)) // 3
        core = encoded[4 * first_group : 4 * last_group]
        if len(core) >= 8:
            forms.add(core)
    return {form for form in forms if len(form) >= _MIN_SECRET_LENGTH}


@dataclass(frozen=True, slots=True)
class Masker:
    """Replaces every known secret, in each of its spellings, with `***`."""

    pattern: re.Pattern[str] | None

    @classmethod
    def for_secrets(cls, secrets: Iterable[str]) -> "Masker":
        forms: set[str] = set()
        for secret in secrets:
            if len(secret) >= _MIN_SECRET_LENGTH:
                forms |= _spellings(secret)
        if not forms:
            return cls(pattern=None)
        # Longest first, so a secret is never half-replaced by one of its own substrings.
        ordered = sorted(forms, key=len, reverse=True)
        return cls(pattern=re.compile("|".join(re.escape(form) for form in ordered)))

    @classmethod
    def for_environment(cls, env: Mapping[str, str], extra: Iterable[str] = ()) -> "Masker":
        """A masker for the values of credential-named variables, plus `extra` secrets."""
        values = [value for name, value in env.items() if looks_secret(name)]
        return cls.for_secrets([*values, *extra])

    def mask(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(MASK, text)
