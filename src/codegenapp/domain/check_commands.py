"""What a project's check commands run: the paths they name and the files their tools read
(a Makefile for `make`, a package.json script for `npm test`), so that a fix editing them is
seen as editing the checks themselves."""

import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True, slots=True)
class CommandTargets:
    """What configured check commands run: paths they name, files their tools read."""

    paths: frozenset[str]
    names: frozenset[str]
    scripts: frozenset[str]

    @classmethod
    def of(cls, commands: Iterable[str]) -> "CommandTargets":
        paths: set[str] = set()
        names: set[str] = set()
        scripts: set[str] = set()
        for command in commands:
            words = _words(command)
            paths.update(_path_words(words))
            for segment in _segments(words):
                names.update(name for word in segment for name in _TOOL_FILES.get(word, ()))
                scripts.update(_script_name(segment))
        return cls(frozenset(paths), frozenset(names), frozenset(scripts))


_TOOL_FILES = {
    "make": ("Makefile", "makefile", "GNUmakefile"),
    "tox": ("tox.ini",),
    "nox": ("noxfile.py",),
    "just": ("justfile", "Justfile"),
    "task": ("Taskfile.yml", "Taskfile.yaml"),
    "docker": ("Dockerfile", "docker-compose.yml", "docker-compose.yaml", "compose.yml",
               "compose.yaml"),
    "docker-compose": ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"),
}  # fmt: skip
_SCRIPT_EXTENSIONS = frozenset({
    ".sh", ".bash", ".py", ".js", ".mjs", ".cjs", ".ts", ".ini", ".toml", ".cfg", ".json",
    ".yml", ".yaml", ".mk", ".ps1", ".rb", ".pl",
})  # fmt: skip
_PACKAGE_TOOLS = frozenset({"npm", "yarn", "pnpm", "bun"})
_SHELL_PUNCTUATION = frozenset("();<>|&")
_NOT_SCRIPTS = frozenset({"install", "i", "ci", "add", "exec", "x", "dlx", "npx", "-s", "--silent"})


def _words(command: str) -> list[str]:
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        return list(lexer)
    except ValueError:
        return command.split()


def _segments(words: list[str]) -> Iterator[list[str]]:
    """The simple commands of a shell line, as names: `cd web && ./node_modules/.bin/jest` →
    `cd web`, `jest`."""
    segment: list[str] = []
    for word in words:
        if set(word) <= _SHELL_PUNCTUATION:
            yield segment
            segment = []
        else:
            segment.append(PurePosixPath(word).name)
    yield segment


def _path_words(words: list[str]) -> Iterator[str]:
    for word in words:
        value = word.split("=", 1)[1] if word.startswith("-") and "=" in word else word
        value = value.removeprefix("./")
        if value.startswith(("/", "-", "$")) or "://" in value:
            continue
        if "/" in value or PurePosixPath(value).suffix in _SCRIPT_EXTENSIONS:
            yield value


def _script_name(words: list[str]) -> Iterator[str]:
    """`npm test`, `npm run lint`, `yarn lint`, `pnpm run test:unit` → the package.json script."""
    tool = next((index for index, word in enumerate(words) if word in _PACKAGE_TOOLS), None)
    if tool is None:
        return
    rest = [word for word in words[tool + 1 :] if not word.startswith("-")]
    if rest and rest[0] in {"run", "run-script"}:
        rest = rest[1:]
    elif rest and words[tool] == "npm" and rest[0] not in {"test", "t", "start"}:
        return
    if rest and rest[0] not in _NOT_SCRIPTS:
        yield "test" if rest[0] == "t" else rest[0]
