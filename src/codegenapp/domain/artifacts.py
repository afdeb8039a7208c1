"""What a validation keeps as evidence (screenshots, findings, page texts, Playwright traces, the
files a failed command pointed to), and how those files may be named: a strict pattern, so that
a name from a request can never be a path."""

import re
from enum import StrEnum

MAX_NAME_LENGTH = 64
# Lower-case words joined by '-', one extension: "page-1.png", "findings.json". No '/', no
# leading dot, no '..': a name is always one plain file in the validation's own directory.
NAME_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*\.(png|json|txt|log|zip)"
_NAME = re.compile(NAME_PATTERN)


class ArtifactKind(StrEnum):
    SCREENSHOT = "screenshot"
    FINDINGS = "findings"
    PAGE_TEXT = "page_text"
    COMMAND_FILE = "command_file"  # a log or report a failed command pointed to
    TRACE = "trace"  # a Playwright trace of a browser context (kept when web_eval failed)


_KINDS = {
    "png": ArtifactKind.SCREENSHOT,
    "json": ArtifactKind.FINDINGS,
    "txt": ArtifactKind.PAGE_TEXT,
    "log": ArtifactKind.COMMAND_FILE,
    "zip": ArtifactKind.TRACE,
}
MEDIA_TYPES = {
    ArtifactKind.SCREENSHOT: "image/png",
    ArtifactKind.FINDINGS: "application/json",
    ArtifactKind.PAGE_TEXT: "text/plain; charset=utf-8",
    ArtifactKind.COMMAND_FILE: "text/plain; charset=utf-8",
    ArtifactKind.TRACE: "application/zip",
}
NAME_RULE = (
    "lower-case letters and digits in words joined by '-', then .png, .json, .txt, .log or .zip; "
    f"at most {MAX_NAME_LENGTH} characters"
)


def artifact_kind(name: str) -> ArtifactKind | None:
    """The kind of the artifact called `name`, or None if no artifact may be called that."""
    found = _NAME.fullmatch(name) if len(name) <= MAX_NAME_LENGTH else None
    return _KINDS[found.group(1)] if found else None


def page_artifact(index: int, extension: str) -> str:
    """The name of what was kept of page `index` (0-based, as in the settings)."""
    return f"page-{index}.{extension}"


def scenario_artifact(index: int, extension: str) -> str:
    return f"scenario-{index}.{extension}"


def command_file_artifact(check: str, number: int) -> str:
    """The name of the `number`th (1-based) file the failed `check` command pointed to."""
    return f"{check}-file-{number}.log"


FINDINGS = "findings.json"
PAGES_TRACE = "trace.zip"
"""The Playwright trace of the context the pages were visited in; a scenario's is
`scenario_artifact(index, "zip")`."""
