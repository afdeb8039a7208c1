"""What in a pull request's diff makes a fix not a normal attempt: its tests or its gate bent.

A fix loop can be "won" without fixing anything: delete the failing test, skip it, drop its
assertions, or edit what the gate runs. `integrity_findings` reads the diff exactly as
`git diff base...head` prints it and names every such change, with the hunk that shows it.
A finding is a reason for a person to look, not proof of bad faith.
"""

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from itertools import takewhile
from pathlib import PurePosixPath

from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk, PatchedFile, PatchSet

from codegenapp.domain.check_commands import CommandTargets

MAX_HUNK_CHARS = 2000
"""A finding quotes at most this much of its hunk: enough to show, small enough to store."""

CI_CONFIG_PATTERNS = (
    ".github/workflows/*", ".github/actions/*", ".gitlab-ci.yml", ".gitlab-ci.yaml",
    ".gitlab/ci/*", ".circleci/*", "Jenkinsfile", "*/Jenkinsfile", "azure-pipelines.yml",
    "azure-pipelines.yaml", ".azure-pipelines/*", ".travis.yml", ".buildkite/*",
    "buildkite.yml", "buildkite.yaml", ".buildkite.yml", "bitbucket-pipelines.yml",
    ".drone.yml", ".woodpecker.yml", ".woodpecker/*", "appveyor.yml", ".appveyor.yml", ".ci/*",
)  # fmt: skip
"""Paths (fnmatch, where `*` crosses `/`) of CI configuration, any provider."""

PRODUCT_CONFIG_PATTERNS = (
    "codegenapp.yml", "codegenapp.yaml", "codegenapp.json", ".codegenapp.yml",
    ".codegenapp.yaml", ".codegenapp.json", ".codegenapp/*", "Dockerfile.codegenapp",
    "codegenapp.Dockerfile", "Dockerfile.sandbox", "sandbox.Dockerfile",
)  # fmt: skip
"""Our own sandbox and deployment configuration, should a repository commit it.

The server keeps a project's settings itself and reads none of these today; the names are
reserved so that a committed copy, or a later in-repository configuration, is never the agent's
to change. A Dockerfile that the configured build or deploy command builds is caught through
`check_commands` instead (`docker build` names `Dockerfile`).
"""

TEST_CONFIG_NAMES = (
    "pytest.ini", ".coveragerc", "jest.config.*", "vitest.config.*", "vitest.workspace.*",
    ".mocharc*", "karma.conf.*", "playwright.config.*", "cypress.config.*", "ava.config.*",
    ".nycrc*", "codecov.yml", ".codecov.yml", "nextest.toml",
)  # fmt: skip
"""File names (fnmatch, anywhere in the tree) that hold nothing but test-runner configuration:
any change to them is a finding."""

# Files that hold test-runner configuration among other things: only the lines under these
# keys count. `test` is no key in pyproject.toml: optional-dependency groups are named so.
_PYTHON_KEYS = frozenset({
    "addopts", "testpaths", "python_files", "python_classes", "python_functions",
    "norecursedirs", "xfail_strict", "filterwarnings", "omit", "exclude_lines", "exclude_also",
    "fail_under", "fail-under", "commands",
})  # fmt: skip
_PACKAGE_KEYS = frozenset({
    "test", "testmatch", "testregex", "testpathignorepatterns", "modulepathignorepatterns",
    "coveragepathignorepatterns", "coveragethreshold", "branches", "functions", "lines",
    "statements",
})  # fmt: skip
GATE_KEYS = {
    "pyproject.toml": _PYTHON_KEYS,
    "setup.cfg": _PYTHON_KEYS,
    "tox.ini": _PYTHON_KEYS,
    "package.json": _PACKAGE_KEYS,
    "Cargo.toml": frozenset({"test", "harness"}),
    "pom.xml": frozenset({"skiptests", "maven.test.skip", "testfailureignore", "failifnotests"}),
    "build.gradle": frozenset({"ignorefailures"}),
    "build.gradle.kts": frozenset({"ignorefailures"}),
}
"""File name → the (lower-case) keys whose lines are test-runner configuration there."""

_THRESHOLD_KEYS = frozenset(
    {"fail_under", "fail-under", "branches", "functions", "lines", "statements"}
)
_RUNNER_OPTION = re.compile(
    r"--(?:ignore|ignore-glob|deselect|cov-fail-under|continue-on-collection-errors)\b"
    r"|(?:^|[\s\"'\[,])-(?:p\s*no:|[km](?=[\s\"',]))"
)
_KEY = re.compile(
    r"^\s*(?:\"(?P<json>[^\"]+)\"\s*:|<(?P<xml>[\w.-]+)>|(?P<ini>[A-Za-z_][\w.-]*)\s*[=:])"
)
_SECTION = re.compile(r"^\s*\[+(?P<name>[^\]]+)\]+\s*$")
_GATE_SECTION = re.compile(r"pytest|coverage|testenv|tox")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


class IntegrityKind(StrEnum):
    TEST_FILE_DELETED = "test_file_deleted"
    """Deleted, or renamed to a path no test runner collects."""
    TEST_FILE_EMPTIED = "test_file_emptied"
    TESTS_SKIPPED = "tests_skipped"
    """A skip, xfail, ignore, focus (`.only`) or exclusion was added."""
    ASSERTIONS_REMOVED = "assertions_removed"
    CI_CONFIG_CHANGED = "ci_config_changed"
    TEST_CONFIG_CHANGED = "test_config_changed"
    PRODUCT_CONFIG_CHANGED = "product_config_changed"
    CHECK_SCRIPT_CHANGED = "check_script_changed"
    """A file that a configured check command runs (its script, Makefile, config file)."""


@dataclass(frozen=True, slots=True)
class IntegrityFinding:
    kind: IntegrityKind
    path: str
    hunk: str
    """The offending hunk (or git's header for a change without one), at most
    `MAX_HUNK_CHARS` characters and a note of how much was cut."""


@dataclass(frozen=True, slots=True)
class _Language:
    comments: tuple[str, ...]
    skips: re.Pattern[str]
    assertions: re.Pattern[str]
    directives: re.Pattern[str] = re.compile(r"(?!)")
    """Skips written as comments (Go's build constraints), looked for on comment lines too."""


_PYTHON = _Language(
    comments=("#",),
    skips=re.compile(
        r"pytest\.mark\.(?:skip|skipif|xfail)\b|\bpytest\.(?:skip|xfail|importorskip)\s*\("
        r"|@(?:unittest\.)?(?:skip|skipIf|skipUnless|expectedFailure)\b|\bunittest\.skip"
        r"|\.skipTest\s*\(|\braise\s+(?:unittest\.)?SkipTest\b|^\s*collect_ignore(?:_glob)?\b"
        r"|^\s*__test__\s*=\s*False|\bdef\s+pytest_(?:collection_modifyitems|ignore_collect)\b"
    ),
    assertions=re.compile(r"^\s*assert\w*\b|\.assert\w*\s*\(|\bpytest\.(?:raises|warns|fail)\b"),
)
_JAVASCRIPT = _Language(
    comments=("//", "/*", "*"),
    skips=re.compile(
        r"\b(?:describe|it|test|context|suite|specify)(?:\.\w+)*\."
        r"(?:skip|only|skipIf|runIf|todo|fixme)\b|(?<![\w.$])[xf](?:it|describe|test|context)\s*\("
        r"|\bthis\.skip\s*\("
    ),
    assertions=re.compile(r"\bexpect\w*\s*\(|\bassert(?:\.\w+)*\s*\(|\.should\b"),
)
_GO = _Language(
    comments=("//", "/*", "*"),
    skips=re.compile(r"\b\w+\.Skip(?:f|Now)?\s*\("),
    assertions=re.compile(
        r"\b\w+\.(?:Error|Errorf|Fatal|Fatalf|Fail|FailNow)\s*\(|\b(?:assert|require)\.\w+\s*\("
    ),
    directives=re.compile(r"^\s*//\s*(?:go:build|\+build)\b"),
)
_RUST = _Language(
    comments=("//", "/*", "*"),
    skips=re.compile(r"#\[\s*ignore\b"),
    assertions=re.compile(r"\b(?:debug_)?assert(?:_eq|_ne|_matches)?!|#\[\s*should_panic\b"),
)
_JVM = _Language(
    comments=("//", "/*", "*"),
    skips=re.compile(r"@(?:Disabled|Ignore)\b|\bassume(?:True|False|That)\s*\("),
    assertions=re.compile(r"\bassert\w*\s*\(|^\s*assert\b|\bverify\s*\(|\bfail\s*\("),
)
_LANGUAGES = {
    ".py": _PYTHON, ".go": _GO, ".rs": _RUST, ".java": _JVM, ".kt": _JVM,
    **dict.fromkeys((".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts"), _JAVASCRIPT),
}  # fmt: skip

_TEST_DIRS = frozenset({"test", "tests", "__tests__", "spec", "specs", "e2e"})
_TEST_NAME = re.compile(
    r"test_.*\.py|.*_test\.py|conftest\.py|tests\.py|.*\.(?:test|spec)\.[cm]?[jt]sx?"
    r"|.*_test\.go|.*_test\.rs|tests\.rs|(?:Test.*|.*(?:Test|Tests|IT|TestCase))\.(?:java|kt)"
)
_TRIVIAL = re.compile(
    r"\s*(?:#(?!\[).*|//.*|/?\*.*|pass|\.\.\.|(?:\"\"\"|''').*|(?:import|use|package)\s.*"
    r"|from\s+\S+\s+import\s.*|['\"]use strict['\"];?)?\s*"
)


def is_test_file(path: str) -> bool:
    """True for a Python, JS/TS, Go, Rust, Java or Kotlin source file that is a test by its
    conventional name (`test_x.py`, `x.test.ts`, `x_test.go`, `XTest.java`…) or directory
    (`tests/`, `test/`, `__tests__/`, `spec/`, `e2e/`, so `src/test/java/` too)."""
    p = PurePosixPath(path)
    if p.suffix not in _LANGUAGES:
        return False
    return bool(_TEST_NAME.fullmatch(p.name)) or not _TEST_DIRS.isdisjoint(p.parts[:-1])


def integrity_findings(
    diff: str, *, check_commands: Iterable[str] = ()
) -> tuple[IntegrityFinding, ...]:
    """The findings that make the change in `diff` not a normal attempt at a fix, in diff order.

    `diff` is `git diff base...head` output (renames, deletions, binary files and mode changes
    included; default `a/`/`b/` prefixes). `check_commands` are the project's configured
    build/test/security/deploy commands: a changed file that they run is a finding too. Empty
    for an honest fix. Pure and deterministic. Raises `ValueError` when `diff` is not a
    unified diff.
    """
    try:
        files = list(PatchSet(diff))
    except (UnidiffParseError, UnicodeError) as error:
        raise ValueError(f"not a unified diff as git prints it: {error}") from None
    if not files and diff.strip():
        raise ValueError("not a unified diff as git prints it: it names no changed file")
    targets = CommandTargets.of(check_commands)
    elsewhere = Counter(line for pf in files for line in _assertion_lines(pf, added=True))
    found: list[IntegrityFinding] = []
    for pf in files:
        found.extend(_test_file_findings(pf, elsewhere))
        found.extend(_config_findings(pf, targets))
    return tuple(dict.fromkeys(found))


def _old_path(pf: PatchedFile) -> str | None:
    return None if pf.source_file == "/dev/null" else _unquote(pf.source_file)[2:]


def _new_path(pf: PatchedFile) -> str | None:
    return None if pf.target_file == "/dev/null" else _unquote(pf.target_file)[2:]


def _unquote(path: str) -> str:
    """Git quotes a path with unusual bytes C-style: `"a/t\\303\\251st.py"`."""
    if len(path) < 2 or path[0] != '"' or path[-1] != '"':
        return path
    raw = _C_ESCAPE.sub(_unescape, path[1:-1].encode())
    return raw.decode("utf-8", "replace")


_C_ESCAPE = re.compile(rb"\\([0-7]{3}|.)")
_C_CHARACTERS = {b"a": b"\a", b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t",
                 b"v": b"\v"}  # fmt: skip


def _unescape(match: re.Match[bytes]) -> bytes:
    code = match[1]
    return bytes([int(code, 8)]) if len(code) == 3 else _C_CHARACTERS.get(code, code)


def _bounded(text: str) -> str:
    if len(text) <= MAX_HUNK_CHARS:
        return text
    return f"{text[:MAX_HUNK_CHARS]}\n… ({len(text) - MAX_HUNK_CHARS} more characters)"


def _finding(kind: IntegrityKind, path: str, text: str) -> IntegrityFinding:
    return IntegrityFinding(kind=kind, path=path, hunk=_bounded(text))


def _whole(pf: PatchedFile) -> str:
    """The file's hunks, or git's header lines (rename, mode, binary) when it has none."""
    return "".join(str(hunk) for hunk in pf) or str(pf.patch_info or "")


def _language(path: str | None) -> _Language | None:
    return None if path is None else _LANGUAGES.get(PurePosixPath(path).suffix)


def _test_file_findings(pf: PatchedFile, elsewhere: Counter[str]) -> Iterator[IntegrityFinding]:
    old, new = _old_path(pf), _new_path(pf)
    if old is not None and is_test_file(old):
        if new is None or not is_test_file(new):
            yield _finding(IntegrityKind.TEST_FILE_DELETED, old, _whole(pf))
            return
        if _emptied(pf):
            yield _finding(IntegrityKind.TEST_FILE_EMPTIED, new, _whole(pf))
            return
    language = _language(new)
    # Rust keeps unit tests inline (`#[cfg(test)] mod tests`), so any .rs file may skip one.
    if new is None or language is None or not (is_test_file(new) or language is _RUST):
        return
    for hunk in pf:
        if _adds_skip(hunk, language):
            yield _finding(IntegrityKind.TESTS_SKIPPED, new, str(hunk))
    if old is not None and is_test_file(new) and _assertions_lost(pf, elsewhere):
        lost = (hunk for hunk in pf if any(_is_assertion(line.value, language)
                                           for line in hunk if line.is_removed))  # fmt: skip
        yield _finding(IntegrityKind.ASSERTIONS_REMOVED, new, "".join(map(str, lost)))


def _emptied(pf: PatchedFile) -> bool:
    """The whole new file is in view and holds no code (blank, comments, imports, `pass`).

    The one hunk starts at line 1 and ends with fewer than git's 3 lines of trailing context,
    so no unchanged line of the file lies outside it.
    """
    if len(pf) != 1:
        return False
    hunk = pf[0]
    if hunk.target_length == 0:
        return True
    trailing = sum(1 for _ in takewhile(lambda line: line.is_context, reversed(hunk)))
    return (
        hunk.source_start <= 1
        and hunk.target_start <= 1
        and trailing < 3
        and hunk.removed > 0
        and all(_TRIVIAL.fullmatch(line.value.rstrip("\r\n")) for line in hunk.target_lines())
    )


def _is_code(text: str, language: _Language) -> bool:
    return not text.strip().startswith(language.comments)


def _is_skip(text: str, language: _Language) -> bool:
    return bool(language.directives.search(text)) or (
        _is_code(text, language) and bool(language.skips.search(text))
    )


def _is_assertion(text: str, language: _Language) -> bool:
    return _is_code(text, language) and bool(language.assertions.search(text))


def _adds_skip(hunk: Hunk, language: _Language) -> bool:
    """An added skip line that is not merely an unchanged one moved within the hunk."""
    moved = Counter(line.value.strip() for line in hunk if line.is_removed)
    for line in hunk:
        if line.is_added and _is_skip(line.value, language):
            text = line.value.strip()
            if moved[text] == 0:
                return True
            moved[text] -= 1
    return False


def _assertion_lines(pf: PatchedFile, *, added: bool) -> list[str]:
    path = _new_path(pf) if added else _old_path(pf)
    language = _language(path)
    if path is None or language is None or not is_test_file(path):
        return []
    return [
        line.value.strip()
        for hunk in pf
        for line in hunk
        if (line.is_added if added else line.is_removed) and _is_assertion(line.value, language)
    ]


def _assertions_lost(pf: PatchedFile, elsewhere: Counter[str]) -> bool:
    """More assertion lines removed than added, not counting those that reappear word for
    word in another test file (a test moved, not dropped)."""
    removed = Counter(_assertion_lines(pf, added=False))
    added = Counter(_assertion_lines(pf, added=True))
    lost = removed.total() - added.total()
    if lost <= 0:
        return False
    moved = (removed - added) & (elsewhere - added)
    return lost - moved.total() > 0


def _matches(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatchcase(path, pattern) for pattern in patterns)


def _config_findings(pf: PatchedFile, targets: CommandTargets) -> Iterator[IntegrityFinding]:
    for path in dict.fromkeys(p for p in (_new_path(pf), _old_path(pf)) if p is not None):
        name = PurePosixPath(path).name
        if _matches(path, CI_CONFIG_PATTERNS):
            yield _finding(IntegrityKind.CI_CONFIG_CHANGED, path, _whole(pf))
        elif _matches(path, PRODUCT_CONFIG_PATTERNS):
            yield _finding(IntegrityKind.PRODUCT_CONFIG_CHANGED, path, _whole(pf))
        elif _matches(name, TEST_CONFIG_NAMES):
            yield _finding(IntegrityKind.TEST_CONFIG_CHANGED, path, _whole(pf))
        elif name in GATE_KEYS:
            keys = GATE_KEYS[name] | (targets.scripts if name == "package.json" else set())
            for hunk in pf:
                if _weakens(hunk, keys):
                    yield _finding(IntegrityKind.TEST_CONFIG_CHANGED, path, str(hunk))
        elif not is_test_file(path) and (path in targets.paths or name in targets.names):
            yield _finding(IntegrityKind.CHECK_SCRIPT_CHANGED, path, _whole(pf))


def _weakens(hunk: Hunk, keys: frozenset[str]) -> bool:
    """A changed line in a test-runner section in view, under a gate key or naming a runner
    option; coverage thresholds count only when lowered or removed."""
    lowered_from: dict[str, float] = {}
    raised_to: dict[str, float] = {}
    in_gate_section = False
    key = _key(hunk.section_header)  # git names the line above the hunk: `testpaths = [`
    for line in hunk:
        text = line.value.rstrip("\r\n")
        if section := _SECTION.match(text):
            in_gate_section, key = bool(_GATE_SECTION.search(section["name"])), None
        elif found := _key(text):
            key = found
        if line.is_context:
            continue
        if key in keys and key in _THRESHOLD_KEYS and (number := _NUMBER.search(text)):
            (lowered_from if line.is_removed else raised_to)[key] = float(number.group())
        elif in_gate_section or _is_gate_key(key, keys) or _RUNNER_OPTION.search(text):
            return True
    return any(value > raised_to.get(name, -1.0) for name, value in lowered_from.items())


def _key(text: str) -> str | None:
    found = _KEY.match(text)
    return None if found is None else (found["json"] or found["xml"] or found["ini"]).lower()


def _is_gate_key(key: str | None, keys: frozenset[str]) -> bool:
    """`test:unit` is a `test` script too."""
    return key is not None and (key in keys or key.split(":")[0] in keys)
