"""The scripted agent's recipe: YAML text of turns, parsed and checked into frozen values.

The scripted agent is the demo's and the tests' stand-in for an AI: it replays a recipe, one
turn for each message it receives (the goal, then every answer or fix request).

```yaml
# A list of turns; each start/resume consumes the next one.
turns:
  - plan: |
      1. Add a /health endpoint ...
  - files:                        # commit these to the run's branch and open/update its PR
      app.py: |
        ...
    delete: [old.py]              # optional
    message: "Add /health"        # optional commit message (default: "Scripted change <n>")
    title: "Add a health endpoint"   # optional PR title (default: the goal's first line)
    reply: "Opened a pull request"   # optional text shown as the run's result
  - reply: "Nothing else to do."
  - fail: "why the agent gives up"   # optional: the job ends FAILED with this error
```

Each turn has exactly one of `reply`, `plan`, `files` or `fail`. A `files` turn may also
have `reply`, `message`, `title` and `delete`; any turn may have `progress`, a list of
messages shown while it runs. The text may also be a bare list of turns, without `turns:`.

The recipe is stored with its project (`agent.recipe` is the YAML text itself): the server
never reads a file because a caller named it. Error messages quote only the caller's text.
Paths in `files` and `delete` are relative to the repository root, normalised (no `.`, `..`
or doubled `/`), and never inside `.git`. When the turns run out, the next message fails
the job with "the recipe has no turn left for this message".
"""

import posixpath
from dataclasses import dataclass
from enum import StrEnum

import yaml

from codegenapp.domain.project_settings import MAX_RECIPE_CHARS
from codegenapp.errors import AgentConfigInvalid

FIELD = "agent.recipe"
# libyaml's loader when it is there: the same safe subset, many times faster on big recipes.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
KINDS = ("reply", "plan", "files", "fail")
ACCEPTED_KEYS = ("reply", "plan", "files", "delete", "message", "title", "progress", "fail")
_FILES_ONLY = ("delete", "message", "title")


class TurnKind(StrEnum):
    REPLY = "reply"
    PLAN = "plan"
    FILES = "files"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class FileWrite:
    path: str
    content: str


@dataclass(frozen=True, slots=True)
class Turn:
    """One answer of the agent. `text` is the reply, the plan or the failure, by `kind`;
    a files turn keeps its optional reply in `text` too."""

    kind: TurnKind
    text: str = ""
    files: tuple[FileWrite, ...] = ()
    delete: tuple[str, ...] = ()
    message: str | None = None
    title: str | None = None
    progress: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Recipe:
    turns: tuple[Turn, ...]


def parse_recipe(text: str) -> Recipe:
    """Check recipe text. Raise `AgentConfigInvalid` (field `agent.recipe`) naming the turn
    and the key at fault, and what is accepted."""
    if len(text) > MAX_RECIPE_CHARS:
        raise _invalid("the recipe", f"is longer than {MAX_RECIPE_CHARS} characters")
    try:
        document = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        raise _invalid("the recipe", f"is not valid YAML: {_yaml_problem(error)}") from None
    if isinstance(document, dict):
        extra = sorted(str(key) for key in document if key != "turns")
        if extra:
            raise _invalid("the recipe", f"unknown top-level key {extra[0]!r} (accepted: turns)")
        document = document.get("turns")
    if not isinstance(document, list) or not document:
        raise _invalid(
            "the recipe", "must be a non-empty list of turns, or a mapping with a 'turns' list"
        )
    return Recipe(turns=tuple(_parse_turn(item, f"turn {n}") for n, item in enumerate(document, 1)))


def _yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's message in one line: the problem and where it is."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def _invalid(where: str, message: str) -> AgentConfigInvalid:
    return AgentConfigInvalid(FIELD, f"{where}: {message}")


def _parse_turn(item: object, where: str) -> Turn:
    if not isinstance(item, dict):
        raise _invalid(where, f"must be a mapping with one of: {', '.join(KINDS)}")
    keys = [str(key) for key in item]
    for key in keys:
        if key not in ACCEPTED_KEYS:
            raise _invalid(where, f"unknown key {key!r} (accepted: {', '.join(ACCEPTED_KEYS)})")
    kinds = [key for key in KINDS if key in item]
    if "files" in kinds:
        kinds = [k for k in kinds if k != "reply"]  # a files turn may carry a reply
    if len(kinds) != 1:
        found = f" (found: {', '.join(kinds)})" if kinds else ""
        raise _invalid(where, f"needs exactly one of: {', '.join(KINDS)}{found}")
    kind = TurnKind(kinds[0])
    progress = _text_list(item, "progress", where)
    if kind is not TurnKind.FILES:
        for key in _FILES_ONLY:
            if key in item:
                raise _invalid(where, f"key {key!r} is only accepted with 'files'")
        return Turn(kind=kind, text=_text(item, kind.value, where), progress=progress)
    return _files_turn(item, where, progress)


def _files_turn(item: dict[object, object], where: str, progress: tuple[str, ...]) -> Turn:
    files = item["files"]
    if not isinstance(files, dict):
        raise _invalid(where, "key 'files' must map file paths to their content")
    writes = tuple(
        FileWrite(_path(path, where, "files"), _content(content, path, where))
        for path, content in files.items()
    )
    delete = tuple(_path(path, where, "delete") for path in _text_list(item, "delete", where))
    both = sorted({w.path for w in writes} & set(delete))
    if both:
        raise _invalid(where, f"path {both[0]!r} is both written and deleted")
    if not writes and not delete:
        raise _invalid(
            where, "key 'files' is empty and nothing is deleted: the turn changes nothing"
        )
    return Turn(
        kind=TurnKind.FILES,
        text=_text(item, "reply", where) if "reply" in item else "",
        files=writes,
        delete=delete,
        message=_text(item, "message", where) if "message" in item else None,
        title=_text(item, "title", where) if "title" in item else None,
        progress=progress,
    )


def _text(item: dict[object, object], key: str, where: str) -> str:
    value = item[key]
    if not isinstance(value, str) or not value.strip():
        raise _invalid(where, f"key {key!r} must be non-empty text")
    return value


def _text_list(item: dict[object, object], key: str, where: str) -> tuple[str, ...]:
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(where, f"key {key!r} must be a list of text")
    return tuple(value)


def _content(content: object, path: object, where: str) -> str:
    if not isinstance(content, str):
        raise _invalid(where, f"key 'files': the content of {path!r} must be text")
    return content


def _path(path: object, where: str, key: str) -> str:
    """A path that stays inside the repository's tree: git would refuse the rest anyway, and
    a recipe must never write into `.git`."""
    problem = None
    if not isinstance(path, str) or not path:
        problem = "must be a non-empty text path"
    elif any(ord(ch) < 32 or ch == "\\" for ch in path):
        problem = "must not contain control characters or backslashes"
    elif path.startswith("/"):
        problem = "must be relative to the repository root"
    elif posixpath.normpath(path) != path or path.endswith("/"):
        problem = "must be normalised (no '.', '..', doubled or trailing '/')"
    elif ".." in path.split("/"):
        problem = "must not go up with '..'"
    elif ".git" in (part.lower() for part in path.split("/")):
        problem = "must not be inside '.git'"
    if problem is not None:
        raise _invalid(where, f"key {key!r}: path {path!r} {problem}")
    return str(path)
