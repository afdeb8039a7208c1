"""What is read from an agent's pull request before its head is validated: the findings that
bend the gate (a person approves those first) and how far the change strayed from the plan a
person confirmed (flagged, never held).

The gate is read from the diff since what a person last looked at: the base branch at first,
the head a person approved once one was. So a change approved once is not asked about again at
every later head of the same pull request, while anything the agent bends after it is. The
plan is held against the whole pull request (`git diff base...head`).
"""

import codecs
from dataclasses import dataclass

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from codegenapp.domain.events import JsonValue
from codegenapp.domain.gate_integrity import IntegrityFinding, integrity_findings
from codegenapp.domain.plans import PlanDrift, paths_named, plan_drift

MAX_FINDINGS_KEPT = 50
"""A held change keeps (and shows) at most this many findings; the rest are counted."""
MAX_UNNAMED_KEPT = 100
"""A plan drift keeps at most this many of the paths its plan did not name."""
CHECK_COMMANDS: tuple[str, ...] = ()
"""The check commands whose scripts count as the gate (`integrity_findings`). None yet: the
deploy and build commands run the application itself (`python3 app.py` would make every honest
edit of app.py a finding), and the test projects of this repository's suites have the agent
edit the very script their test command runs (docs/adr/0013)."""


@dataclass(frozen=True, slots=True)
class HeadReview:
    """One head of an agent's pull request, read for bent gates since `since`."""

    head_sha: str
    since: str
    """What the diff was read against: the base branch, or the head a person approved last."""
    findings: tuple[IntegrityFinding, ...]
    unchecked: str | None = None
    """Why the diff could not be read for findings (too large, unreadable): such a head is
    held as a whole, since nothing in it was checked."""

    @property
    def holds(self) -> bool:
        """Whether this head waits for a person before it is validated."""
        return bool(self.findings) or self.unchecked is not None


def gate_review(diff: str, *, head_sha: str, since: str) -> HeadReview:
    """Read `diff` (`git diff since...head` text) for bent gates. Pure. A diff that does not
    parse is held as unchecked rather than raising: it is the agent's text."""
    try:
        findings = integrity_findings(diff, check_commands=CHECK_COMMANDS)
    except ValueError as error:
        return unchecked(head_sha, since, f"its diff could not be read ({error})")
    return HeadReview(head_sha, since, findings)


def unchecked(head_sha: str, since: str, why: str) -> HeadReview:
    """A head whose diff was not read (`why`): held for a person as a whole."""
    return HeadReview(head_sha, since, (), why)


def drift_from_plan(diff: str, confirmed_plan: str) -> PlanDrift | None:
    """How the whole pull request's `diff` keeps to `confirmed_plan`; None if it does not
    parse (the gate holds such a head already)."""
    try:
        changed = changed_paths(diff)
    except ValueError:
        return None
    return plan_drift(paths_named(confirmed_plan), changed)


def changed_paths(diff: str) -> tuple[str, ...]:
    """Every path the diff changes, in diff order: the new path, or the old one of a deleted
    file. Raise `ValueError` for text that is not a unified diff."""
    try:
        files = list(PatchSet(diff))
    except (UnidiffParseError, UnicodeError) as error:
        raise ValueError(f"not a unified diff as git prints it: {error}") from None
    if not files and diff.strip():
        raise ValueError("not a unified diff as git prints it: it names no changed file")
    paths = []
    for patched in files:
        side = patched.target_file if patched.target_file != "/dev/null" else patched.source_file
        paths.append(_unquoted(side).split("/", 1)[-1])  # without git's `a/` or `b/`
    return tuple(dict.fromkeys(path for path in paths if path))


def _unquoted(path: str) -> str:
    """Git quotes a path with unusual bytes C-style: `"b/t\\303\\251st.py"`."""
    if len(path) < 2 or path[0] != '"' or path[-1] != '"':
        return path
    return codecs.escape_decode(path[1:-1].encode())[0].decode("utf-8", "replace")


def finding_json(finding: IntegrityFinding) -> dict[str, JsonValue]:
    return {
        "kind": finding.kind.value,
        "path": _storable(finding.path),
        "hunk": _storable(finding.hunk),
    }


def drift_json(drift: PlanDrift) -> dict[str, JsonValue]:
    unnamed: list[JsonValue] = [_storable(path) for path in drift.unnamed[:MAX_UNNAMED_KEPT]]
    return {"unnamed": unnamed, "changed": drift.changed, "strays": drift.strays}


def _storable(text: str) -> str:
    # A NUL cannot be stored in PostgreSQL text; the diff was decoded with replacement already.
    return text.replace("\x00", "\ufffd")
