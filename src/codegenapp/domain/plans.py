"""Whether an agent's reply is a plan, which paths it names, and whether a fix kept to them."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

PLAN_SCORE = 2
"""`reads_as_plan` needs at least this score (see there)."""
DONE_PENALTY = 2
"""What a report of work already done ("I've fixed…") takes off the score: it outweighs a plan
phrase and a list, as a summary of finished work often has both."""
MAX_UNNAMED_SHARE = 0.5
"""A fix strays when more than this share of its changed files went unnamed by its plan…"""
MIN_STRAY_FILES = 3
"""…and at least this many of them did: one or two helper files are how plans meet code."""

_FLAGS = re.IGNORECASE | re.MULTILINE
PLAN_SIGNS = tuple(
    re.compile(pattern, _FLAGS)
    for pattern in (
        r"^\W*(?:implementation\s+|proposed\s+|action\s+)?(?:plan|approach)\b\W*$|\bplan\s*:"
        r"|\b(?:implementation|proposed|my|the|action|following)\s+plan\b"
        r"|\bI(?:\s+plan|\s+propose|'d\s+propose)\s+to\b",
        r"\bhere(?:'s|\s+is)\s+(?:my|the|a)\s+(?:plan|approach|proposal)\b"
        r"|\bhere(?:'s|\s+is)\s+what\s+I(?:'d|\s+would|'ll|\s+will|\s+propose|\s+plan)\b",
        r"\bproposed\s+(?:changes?|approach|solution|fix)\b|\bthe\s+following\s+(?:changes|edits)\b",
        r"\bstep\s*1\b",
        r"\bfiles?\s+to\s+(?:change|modify|create|update|add|edit|touch)\b"
        r"|\b(?:we|I)(?:'ll|\s+will)?\s+need\s+to\s+(?:modify|change|update|edit|add|create)\b",
        r"\b(?:shall|should|can)\s+I\s+(?:proceed|go\s+ahead|start|begin)\b"
        r"|\bwould\s+you\s+like\s+me\s+to\s+(?:proceed|go\s+ahead|start|implement|make)\b"
        r"|\b(?:proceed|go\s+ahead)\s+with\s+(?:this|the|these)\b|\bok(?:ay)?\s+to\s+proceed\b"
        r"|\bonce\s+you\s+(?:confirm|approve)\b|\bbefore\s+I\s+(?:start|begin|make|implement)\b",
        r"\bI(?:'ll|\s+will|'m\s+going\s+to|\s+am\s+going\s+to)\s+(?!need\b)",
        r"\bfirst(?:ly)?\b[\s\S]{0,2000}?\b(?:then|next|after\s+that|finally)\b",
    )
)
"""Kinds of plan phrase: a plan heading or "I plan to", "here's my plan", proposed changes,
"Step 1", files to change, asking to proceed, "I will", "first… then…"."""
# Work already done is reported, not planned: "I've fixed…", "I updated…".
_DONE = re.compile(
    r"\bI(?:'ve|\s+have)?\s+(?:fixed|changed|updated|added|implemented|created|removed"
    r"|refactored|pushed|committed|renamed)\b",
    re.IGNORECASE,
)
_NUMBERED = re.compile(r"^\s*(?:#+\s*|\*\*)?(?:\d+[.)]|step\s+\d+\s*[:.)-])\s*\S", _FLAGS)
_BULLET = re.compile(r"^\s*(?:[-*•]\s+|[☐□]\s*)\S", re.MULTILINE)


def reads_as_plan(text: str) -> bool:
    """True when a completed reply that opened no pull request reads as a plan awaiting a
    person's word, rather than an answer or an explanation.

    Score: 1 for each kind of `PLAN_SIGNS` found, 1 for a list (two or more numbered or
    bulleted items), minus `DONE_PENALTY` when it reports work done ("I've fixed", "I updated").
    A plan scores at least `PLAN_SCORE`, so a list alone is never one, nor is one phrase
    ("I will need the logs").
    """
    signs = sum(1 for sign in PLAN_SIGNS if sign.search(text))
    steps = len(_NUMBERED.findall(text)) + len(_BULLET.findall(text)) >= 2
    done = _DONE.search(text) is not None
    return signs + steps - DONE_PENALTY * done >= PLAN_SCORE


_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S*|\bwww\.\S+", re.IGNORECASE)
_BACKTICKED = re.compile(r"`([^`\n]+)`")
_TOKEN_SEPARATORS = re.compile(r"[\s()\[\]{}<>,;\"'`|=]+")
_LOCATION = re.compile(r"(?::\d+)+$|::.*$|#L\d.*$")
_PATH_CHARACTERS = re.compile(r"[\w./@+~-]+")
_EXTENSIONS = frozenset({
    "py", "pyi", "ipynb", "js", "jsx", "ts", "tsx", "mjs", "cjs", "mts", "cts", "go", "rs",
    "java", "kt", "kts", "scala", "rb", "php", "c", "h", "cc", "cpp", "hpp", "cs", "swift",
    "md", "mdx", "rst", "txt", "json", "jsonc", "yaml", "yml", "toml", "ini", "cfg", "conf",
    "env", "lock", "xml", "html", "htm", "css", "scss", "sass", "less", "sql", "sh", "bash",
    "zsh", "ps1", "bat", "vue", "svelte", "graphql", "gql", "proto", "tf", "hcl", "lua", "ex",
    "exs", "erl", "dart", "gradle", "properties", "csv", "tsv", "mk", "cmake", "nix", "zig",
})  # fmt: skip
_FILE_NAMES = frozenset({
    "Makefile", "Dockerfile", "Containerfile", "Jenkinsfile", "Procfile", "Gemfile", "Rakefile",
    "Justfile", "justfile", "Vagrantfile", "LICENSE", "CODEOWNERS", ".gitignore",
    ".dockerignore", ".env", ".editorconfig", ".npmrc", ".nvmrc", ".prettierrc", ".eslintrc",
})  # fmt: skip
# Names of tools that read like file names in prose.
_NOT_FILES = frozenset(
    {"node.js", "vue.js", "next.js", "nuxt.js", "express.js", "react.js", "d3.js", "chart.js"}
)


def paths_named(plan: str) -> frozenset[str]:
    """The file paths and directories that `plan` names, as written (`./` and `:line`
    dropped; a directory keeps its trailing `/`).

    Backticked: anything path-like (`src/utils`, `.env`, `Makefile`). In prose: a token with a
    `/` and an extension or a trailing `/` (`src/cart.py`, `docs/`), or a bare file name with a
    known extension (`cart.py`, `README.md`). URLs are not paths.
    """
    text = _URL.sub(" ", plan)
    found = {path for span in _BACKTICKED.findall(text) if (path := _path(span, quoted=True))}
    found.update(path for token in _TOKEN_SEPARATORS.split(text) if (path := _path(token)))
    return frozenset(found)


def _path(token: str, *, quoted: bool = False) -> str | None:
    path = _LOCATION.sub("", token.strip().strip("*").rstrip(".:!?")).removeprefix("./")
    if not _PATH_CHARACTERS.fullmatch(path) or path.startswith("-") or set(path) <= {".", "/"}:
        return None
    name = PurePosixPath(path).name
    suffix = PurePosixPath(path).suffix.removeprefix(".").lower()
    if path.lower() in _NOT_FILES:
        return None
    if name in _FILE_NAMES or path.endswith("/"):
        return path
    if "/" in path:
        sensible = suffix[:1].isalpha() and not PurePosixPath(path).stem.isdigit()
        return path if quoted or sensible else None
    if suffix in _EXTENSIONS or (quoted and name.startswith(".") and name[1:].isalpha()):
        return path
    return None


@dataclass(frozen=True, slots=True)
class PlanDrift:
    unnamed: tuple[str, ...]
    """Changed paths the plan did not name, in the order given."""
    changed: int
    """How many distinct paths changed."""
    strays: bool
    """The fix went its own way (`strays_from_plan`)."""


# Stems that name no one file: sharing one says nothing about which module a plan meant.
_GENERIC_STEMS = frozenset({
    "__init__", "index", "main", "mod", "lib", "utils", "util", "helpers", "types", "config",
    "settings", "conftest", "setup", "readme", "app", "test", "tests", "spec", "models",
    "views", "constants", "common", "package",
})  # fmt: skip
_TEST_AFFIXES = re.compile(r"^tests?_|(?:_tests?|_spec|Tests?|IT|Spec)$")


def plan_drift(named: frozenset[str], changed: Iterable[str]) -> PlanDrift:
    """Which of the `changed` paths `named` (from `paths_named`) does not cover.

    A changed path is covered when it equals a named path, sits under a named directory, or
    shares its file's stem with a named file, test affixes aside (`src/cart.py` covers
    `tests/test_cart.py`, `web/cart.test.ts`, `CartTest.java`); generic stems (`index`,
    `__init__`, `utils`…) cover only by path.
    """
    paths = list(dict.fromkeys(path.removeprefix("./") for path in changed if path))
    stems = {_stem(name) for name in named if PurePosixPath(name).suffix} - _GENERIC_STEMS
    unnamed = tuple(path for path in paths if not _covered(path, named, stems))
    return PlanDrift(
        unnamed=unnamed,
        changed=len(paths),
        strays=strays_from_plan(unnamed=len(unnamed), changed=len(paths)),
    )


def strays_from_plan(*, unnamed: int, changed: int) -> bool:
    """More than `MAX_UNNAMED_SHARE` of the changed files unnamed, and at least
    `MIN_STRAY_FILES` of them."""
    return unnamed >= MIN_STRAY_FILES and unnamed > changed * MAX_UNNAMED_SHARE


def _covered(path: str, named: frozenset[str], stems: set[str]) -> bool:
    for name in named:
        place = name.rstrip("/")
        if path == place or path.startswith(place + "/") or _inside(path, absolute=place):
            return True
    return _stem(path) in stems


def _inside(path: str, *, absolute: str) -> bool:
    """`src/cart.py` is `/workspace/shop/src/cart.py`, and inside `/workspace/shop/src/`."""
    parts = path.split("/")
    return absolute.startswith("/") and any(
        absolute.endswith("/" + "/".join(parts[:length])) for length in range(1, len(parts) + 1)
    )


def _stem(path: str) -> str:
    """`tests/test_cart.py`, `web/cart.test.ts`, `CartTest.java` → `cart`."""
    name = PurePosixPath(path).name
    stem = name if name.startswith(".") else name.split(".")[0]
    return _TEST_AFFIXES.sub("", stem).lower() or stem.lower()
