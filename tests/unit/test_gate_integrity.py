"""Gate integrity, read from diffs that real git prints for a real repository."""

import subprocess
from pathlib import Path

import pytest
from tests.support.projects import git

from codegenapp.domain.gate_integrity import (
    MAX_HUNK_CHARS,
    IntegrityFinding,
    IntegrityKind,
    integrity_findings,
    is_test_file,
)

Kind = IntegrityKind

PY_TEST = """\
from src.cart import total


def test_total_adds_prices():
    assert total([1, 2]) == 3


def test_total_of_nothing_is_zero():
    assert total([]) == 0
"""
JS_TEST = """\
const { total } = require("./cart");

describe("total", () => {
  it("adds prices", () => {
    expect(total([1, 2])).toBe(3);
  });

  test("of nothing is zero", () => {
    expect(total([])).toBe(0);
  });
});
"""
GO_TEST = """\
package cart

import "testing"

func TestTotal(t *testing.T) {
\tif Total([]int{1, 2}) != 3 {
\t\tt.Fatalf("want 3")
\t}
}
"""
RUST_LIB = """\
pub fn total(prices: &[u32]) -> u32 {
    prices.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_prices() {
        assert_eq!(total(&[1, 2]), 3);
    }
}
"""
JAVA_TEST = """\
package shop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import org.junit.jupiter.api.Test;

class CartTest {
    @Test
    void addsPrices() {
        assertEquals(3, Cart.total(1, 2));
    }
}
"""
PYPROJECT = """\
[project]
name = "shop"
dependencies = ["httpx>=0.27"]

[tool.pytest.ini_options]
addopts = "-ra --strict-markers"
testpaths = [
    "tests",
    "web",
    "go",
    "rust",
    "java",
]

[tool.coverage.report]
fail_under = 90
"""
PACKAGE_JSON = """\
{
  "name": "shop",
  "scripts": {
    "test": "jest",
    "lint": "eslint .",
    "audit": "better-npm-audit audit"
  },
  "devDependencies": {
    "jest": "^29.0.0"
  }
}
"""
PROJECT: dict[str, str | bytes] = {
    "src/cart.py": "def total(prices):\n    return sum(prices)\n",
    "tests/test_cart.py": PY_TEST,
    "web/cart.js": "exports.total = (prices) => prices.reduce((a, b) => a + b, 0);\n",
    "web/cart.test.js": JS_TEST,
    "go/cart/cart.go": "package cart\n\nfunc Total(p []int) int { return len(p) }\n",
    "go/cart/cart_test.go": GO_TEST,
    "rust/src/lib.rs": RUST_LIB,
    "java/src/test/java/shop/CartTest.java": JAVA_TEST,
    "pyproject.toml": PYPROJECT,
    "package.json": PACKAGE_JSON,
    "jest.config.js": "module.exports = { testEnvironment: 'node' };\n",
    ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    "Jenkinsfile": "pipeline { agent any }\n",
    ".codegenapp/sandbox.yml": "image: python:3.12-slim\n",
    "Makefile": "test:\n\tpytest\n",
    "scripts/check.sh": "#!/bin/sh\npytest -q\n",
    "assets/logo.png": bytes(range(256)) * 4,
    "README.md": "# Shop\n",
}


class Repository:
    """A real repository: `PROJECT` committed on `main`, the fix made on branch `fix`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        for path, content in PROJECT.items():
            self.write(path, content)
        (root / "scripts/check.sh").chmod(0o755)
        self._commit("base")
        git(root, "checkout", "-q", "-b", "fix")

    def write(self, path: str, content: str | bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)

    def replace(self, path: str, old: str, new: str) -> None:
        text = (self.root / path).read_text()
        assert old in text, f"{old!r} is not in {path}"
        self.write(path, text.replace(old, new, 1))

    def remove(self, path: str) -> None:
        git(self.root, "rm", "-q", path)

    def move(self, old: str, new: str) -> None:
        (self.root / new).parent.mkdir(parents=True, exist_ok=True)
        git(self.root, "mv", old, new)

    def settle(self) -> None:
        """Make what was written so far part of `main`: the fix starts from there."""
        self._commit("settled")
        git(self.root, "branch", "-qf", "main", "fix")

    def diff(self) -> str:
        """Commit the fix and return `git diff main...fix`, byte for byte as git prints it."""
        self._commit("fix")
        return subprocess.run(
            ["git", "diff", "--no-color", "main...fix"],
            cwd=self.root,
            check=True,
            capture_output=True,
            encoding="utf-8",
        ).stdout

    def _commit(self, message: str) -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "--allow-empty", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository(tmp_path / "shop")


def kinds(findings: tuple[IntegrityFinding, ...]) -> list[tuple[Kind, str]]:
    return [(finding.kind, finding.path) for finding in findings]


def test_an_honest_fix_to_source_with_a_new_test_gives_no_finding(repo: Repository) -> None:
    repo.replace("src/cart.py", "return sum(prices)", "return round(sum(prices), 2)")
    repo.replace("tests/test_cart.py", "== 3\n", "== 3\n    assert total([0.1, 0.2]) == 0.3\n")
    repo.write("tests/test_rounding.py", "def test_rounds():\n    assert round(0.125, 2) == 0.12\n")
    repo.write("web/cart.test.js", JS_TEST.replace("toBe(0);", "toBe(0);\n    expect(1).toBe(1);"))
    repo.write("assets/logo.png", bytes(range(255, -1, -1)) * 4)
    repo.move("README.md", "docs/README.md")
    (repo.root / "src/cart.py").chmod(0o755)
    diff = repo.diff()
    assert "Binary files" in diff
    assert "new mode 100755" in diff
    assert "rename to docs/README.md" in diff
    commands = ["make test", "bash scripts/check.sh", "pytest tests/test_cart.py"]
    assert integrity_findings(diff, check_commands=commands) == ()


def test_a_fix_that_adds_pytest_skip_is_flagged_with_its_hunk(repo: Repository) -> None:
    repo.replace(
        "tests/test_cart.py",
        "def test_total_adds_prices",
        "@pytest.mark.skip(reason='flaky')\ndef test_total_adds_prices",
    )
    findings = integrity_findings(repo.diff())
    assert kinds(findings) == [(Kind.TESTS_SKIPPED, "tests/test_cart.py")]
    assert "+@pytest.mark.skip(reason='flaky')" in findings[0].hunk
    assert findings[0].hunk.startswith("@@ ")


PY, JS = "tests/test_cart.py", "web/cart.test.js"
DEF, EMPTY = "def test_total", "    assert total([])"
SKIPS = [
    (PY, DEF, f"@pytest.mark.skipif(True, reason='x')\n{DEF}"),
    (PY, DEF, f"@pytest.mark.xfail\n{DEF}"),
    (PY, DEF, f"@unittest.skip('broken')\n{DEF}"),
    (PY, EMPTY, f"    self.skipTest('later')\n{EMPTY}"),
    (PY, EMPTY, f"    pytest.skip('later')\n{EMPTY}"),
    (JS, 'it("adds', 'it.skip("adds'),
    (JS, 'describe("total"', 'describe.skip("total"'),
    (JS, 'test("of nothing', 'test.skip("of nothing'),
    (JS, 'it("adds', 'xit("adds'),
    (JS, 'describe("total"', 'xdescribe("total"'),
    (JS, 'it("adds', 'it.only("adds'),
    (JS, 'test("of nothing', 'test.only("of nothing'),
    ("go/cart/cart_test.go", "\tif Total", '\tt.Skip("later")\n\tif Total'),
    ("go/cart/cart_test.go", "package cart\n", "//go:build integration\n\npackage cart\n"),
    ("rust/src/lib.rs", "    #[test]\n", "    #[test]\n    #[ignore]\n"),
    ("java/src/test/java/shop/CartTest.java", "    @Test\n", "    @Test\n    @Disabled\n"),
]


@pytest.mark.parametrize(("path", "old", "new"), SKIPS)
def test_every_way_of_skipping_or_focusing_a_test_is_flagged(
    repo: Repository, path: str, old: str, new: str
) -> None:
    before = (repo.root / path).read_text().splitlines()
    repo.replace(path, old, new)
    added = [line for line in (repo.root / path).read_text().splitlines() if line not in before]
    findings = integrity_findings(repo.diff())
    assert kinds(findings) == [(Kind.TESTS_SKIPPED, path)]
    assert all(f"+{line}" in findings[0].hunk for line in added)


def test_a_conftest_that_stops_collecting_a_test_file_is_a_skip(repo: Repository) -> None:
    repo.write("tests/conftest.py", 'collect_ignore = ["test_cart.py"]\n')
    assert kinds(integrity_findings(repo.diff())) == [(Kind.TESTS_SKIPPED, "tests/conftest.py")]


def test_editing_a_test_that_main_already_skips_is_no_new_skip(repo: Repository) -> None:
    repo.replace("web/cart.test.js", 'it("adds', 'it.skip("adds')
    repo.settle()
    repo.replace("web/cart.test.js", "toBe(3);", "toBe(3);\n    expect(total([2])).toBe(2);")
    assert integrity_findings(repo.diff()) == ()


def test_moving_a_test_that_main_already_skips_is_no_new_skip(repo: Repository) -> None:
    skipped = '  it.skip("adds prices", () => {\n    expect(total([1, 2])).toBe(3);\n  });\n\n'
    repo.replace("web/cart.test.js", 'it("adds', 'it.skip("adds')
    repo.settle()
    repo.replace("web/cart.test.js", skipped, "")
    repo.replace("web/cart.test.js", "});\n});\n", "});\n\n" + skipped.rstrip("\n") + "\n});\n")
    diff = repo.diff()
    assert '+  it.skip("adds prices"' in diff
    assert integrity_findings(diff) == ()


def test_rewording_a_skipped_test_shows_its_skip_again(repo: Repository) -> None:
    repo.replace("web/cart.test.js", 'it("adds', 'it.skip("adds')
    repo.settle()
    repo.replace("web/cart.test.js", 'it.skip("adds prices"', 'it.skip("adds two prices"')
    findings = integrity_findings(repo.diff())
    assert kinds(findings) == [(Kind.TESTS_SKIPPED, "web/cart.test.js")]
    assert '-  it.skip("adds prices"' in findings[0].hunk


def test_a_deleted_test_file_is_flagged_with_what_it_held(repo: Repository) -> None:
    repo.remove("tests/test_cart.py")
    findings = integrity_findings(repo.diff())
    assert kinds(findings) == [(Kind.TEST_FILE_DELETED, "tests/test_cart.py")]
    assert "-    assert total([1, 2]) == 3" in findings[0].hunk


def test_a_deleted_java_or_go_test_is_flagged_too(repo: Repository) -> None:
    repo.remove("java/src/test/java/shop/CartTest.java")
    repo.remove("go/cart/cart_test.go")
    assert kinds(integrity_findings(repo.diff())) == [
        (Kind.TEST_FILE_DELETED, "go/cart/cart_test.go"),
        (Kind.TEST_FILE_DELETED, "java/src/test/java/shop/CartTest.java"),
    ]


def test_a_test_file_renamed_where_no_runner_looks_counts_as_deleted(repo: Repository) -> None:
    repo.move("tests/test_cart.py", "scratch/cart_check.py")
    findings = integrity_findings(repo.diff())
    assert kinds(findings) == [(Kind.TEST_FILE_DELETED, "tests/test_cart.py")]
    assert "rename to scratch/cart_check.py" in findings[0].hunk


def test_a_test_file_renamed_among_the_tests_is_no_finding(repo: Repository) -> None:
    repo.move("tests/test_cart.py", "tests/cart/test_cart.py")
    diff = repo.diff()
    assert "rename from tests/test_cart.py" in diff
    assert integrity_findings(diff) == ()


@pytest.mark.parametrize(
    "content",
    ["", "# the tests moved elsewhere\n", "from src.cart import total\n"],
    ids=["zero-bytes", "a-comment", "its-import-only"],
)
def test_a_test_file_emptied_of_its_tests_is_flagged(repo: Repository, content: str) -> None:
    repo.write("tests/test_cart.py", content)
    findings = integrity_findings(repo.diff())
    assert kinds(findings) == [(Kind.TEST_FILE_EMPTIED, "tests/test_cart.py")]
    assert "-def test_total_adds_prices():" in findings[0].hunk


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("import os\n" + "# The cart.\n" * 5 + PY_TEST, "# The cart.\n" * 5 + PY_TEST),
        ("# tests to come\n", "import pytest\n\n# tests to come\n"),
    ],
    ids=["code-beyond-the-hunk", "was-empty-already"],
)
def test_a_test_file_that_keeps_its_code_or_had_none_is_not_emptied(
    repo: Repository, before: str, after: str
) -> None:
    repo.write("tests/test_cart.py", before)
    repo.settle()
    repo.write("tests/test_cart.py", after)
    diff = repo.diff()
    assert "@@ -1" in diff
    assert integrity_findings(diff) == ()


def test_removing_an_assertion_is_flagged_with_the_hunk_that_lost_it(repo: Repository) -> None:
    repo.replace("tests/test_cart.py", "    assert total([]) == 0\n", "    pass\n")
    findings = integrity_findings(repo.diff())
    assert kinds(findings) == [(Kind.ASSERTIONS_REMOVED, "tests/test_cart.py")]
    assert "-    assert total([]) == 0" in findings[0].hunk


@pytest.mark.parametrize(
    ("path", "check", "comment"),
    [
        ("tests/test_cart.py", "    assert total([]) == 0", "#"),
        ("web/cart.test.js", "    expect(total([])).toBe(0);", "//"),
    ],
)
def test_commenting_an_assertion_out_removes_it(
    repo: Repository, path: str, check: str, comment: str
) -> None:
    repo.replace(path, check, check.replace("    ", f"    {comment} ", 1))
    assert kinds(integrity_findings(repo.diff())) == [(Kind.ASSERTIONS_REMOVED, path)]


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        (JS, '\n  test("of nothing is zero", () => {\n    expect(total([])).toBe(0);\n  });\n', ""),
        ("go/cart/cart_test.go", '\t\tt.Fatalf("want 3")\n', ""),
        ("java/src/test/java/shop/CartTest.java", "        assertEquals(3, Cart.total(1, 2));", ""),
    ],
    ids=["javascript", "go", "java"],
)  # fmt: skip
def test_dropping_a_check_is_flagged_in_every_language(
    repo: Repository, path: str, old: str, new: str
) -> None:
    repo.replace(path, old, new)
    assert kinds(integrity_findings(repo.diff())) == [(Kind.ASSERTIONS_REMOVED, path)]


def test_changing_what_an_assertion_expects_is_no_finding(repo: Repository) -> None:
    repo.replace("tests/test_cart.py", "assert total([1, 2]) == 3", "assert total([1, 2]) == 3.0")
    assert integrity_findings(repo.diff()) == ()


def test_a_test_moved_to_another_file_keeps_its_assertion(repo: Repository) -> None:
    moved = "\n\ndef test_total_of_nothing_is_zero():\n    assert total([]) == 0\n"
    repo.replace("tests/test_cart.py", moved, "\n")
    repo.write("tests/test_empty_cart.py", "from src.cart import total" + moved)
    assert integrity_findings(repo.diff()) == ()


def test_a_test_moved_but_with_a_weaker_assertion_is_flagged(repo: Repository) -> None:
    moved = "\n\ndef test_total_of_nothing_is_zero():\n    assert total([]) == 0\n"
    repo.replace("tests/test_cart.py", moved, "\n")
    repo.write("tests/test_empty_cart.py", "def test_total_of_nothing_is_zero():\n    pass\n")
    assert kinds(integrity_findings(repo.diff())) == [
        (Kind.ASSERTIONS_REMOVED, "tests/test_cart.py")
    ]


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/ci.yml",
        ".github/workflows/nightly.yaml",
        ".gitlab-ci.yml",
        ".circleci/config.yml",
        "Jenkinsfile",
        "azure-pipelines.yml",
        ".travis.yml",
        ".buildkite/pipeline.yml",
    ],
)
def test_any_edit_to_ci_configuration_is_flagged(repo: Repository, path: str) -> None:
    repo.write(path, "steps: []\n")
    findings = integrity_findings(repo.diff())
    assert kinds(findings) == [(Kind.CI_CONFIG_CHANGED, path)]
    assert "+steps: []" in findings[0].hunk


def test_deleting_a_workflow_is_flagged(repo: Repository) -> None:
    repo.remove(".github/workflows/ci.yml")
    assert kinds(integrity_findings(repo.diff())) == [
        (Kind.CI_CONFIG_CHANGED, ".github/workflows/ci.yml")
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"-ra --strict-markers"', '"-ra --strict-markers -k not_adds"'),
        ('    "java",\n', ""),
        ('addopts = "-ra --strict-markers"\n', ""),
        ("fail_under = 90", "fail_under = 60"),
        ("fail_under = 90\n", ""),
        ("[tool.pytest.ini_options]", "[tool.pytest.ini_options_off]"),
        ("_options]\n", '_options]\nempty_parameter_set_mark = "xfail"\n'),
    ],
    ids=[
        "addopts",
        "testpaths-below-the-key",
        "addopts-removed",
        "coverage-lowered",
        "coverage-removed",
        "section-renamed",
        "a-setting-in-the-section",
    ],
)
def test_weakening_pytest_configuration_in_pyproject_is_flagged(
    repo: Repository, old: str, new: str
) -> None:
    repo.replace("pyproject.toml", old, new)
    after = (repo.root / "pyproject.toml").read_text().splitlines()
    changed = [f"-{line}" for line in PYPROJECT.splitlines() if line not in after] + [
        f"+{line}" for line in after if line not in PYPROJECT.splitlines()
    ]
    findings = integrity_findings(repo.diff())
    assert kinds(findings) == [(Kind.TEST_CONFIG_CHANGED, "pyproject.toml")]
    assert changed
    assert all(line in findings[0].hunk for line in changed)


def test_raising_coverage_or_adding_a_dependency_is_no_finding(repo: Repository) -> None:
    repo.replace("pyproject.toml", "fail_under = 90", "fail_under = 95")
    repo.replace("pyproject.toml", '"httpx>=0.27"', '"httpx>=0.27", "attrs"')
    repo.replace("package.json", '"jest": "^29.0.0"', '"jest": "^29.7.0"')
    assert integrity_findings(repo.diff()) == ()


def test_changing_the_test_script_in_package_json_is_flagged(repo: Repository) -> None:
    repo.replace("package.json", '"test": "jest"', '"test": "jest --passWithNoTests || true"')
    findings = integrity_findings(repo.diff())
    assert kinds(findings) == [(Kind.TEST_CONFIG_CHANGED, "package.json")]
    assert '+    "test": "jest --passWithNoTests || true",' in findings[0].hunk


@pytest.mark.parametrize(
    "path", ["jest.config.js", "vitest.config.ts", ".mocharc.yml", "pytest.ini", ".coveragerc"]
)
def test_any_edit_to_a_test_runner_config_file_is_flagged(repo: Repository, path: str) -> None:
    repo.write(path, "# weaker\n")
    assert kinds(integrity_findings(repo.diff())) == [(Kind.TEST_CONFIG_CHANGED, path)]


@pytest.mark.parametrize("path", [".codegenapp/sandbox.yml", "codegenapp.yml"])
def test_our_own_sandbox_configuration_in_the_repository_is_flagged(
    repo: Repository, path: str
) -> None:
    repo.write(path, "network: open\n")
    assert kinds(integrity_findings(repo.diff())) == [(Kind.PRODUCT_CONFIG_CHANGED, path)]


def test_a_script_that_a_check_command_runs_is_flagged_only_with_that_command(
    repo: Repository,
) -> None:
    repo.replace("scripts/check.sh", "pytest -q", "exit 0")
    diff = repo.diff()
    assert integrity_findings(diff) == ()
    findings = integrity_findings(diff, check_commands=["bash ./scripts/check.sh --fast"])
    assert kinds(findings) == [(Kind.CHECK_SCRIPT_CHANGED, "scripts/check.sh")]
    assert "+exit 0" in findings[0].hunk


def test_the_makefile_behind_make_test_is_a_check_script(repo: Repository) -> None:
    repo.replace("Makefile", "\tpytest\n", "\ttrue\n")
    findings = integrity_findings(repo.diff(), check_commands=["CI=1 make test"])
    assert kinds(findings) == [(Kind.CHECK_SCRIPT_CHANGED, "Makefile")]


def test_taking_the_execute_bit_off_a_check_script_is_flagged(repo: Repository) -> None:
    (repo.root / "scripts/check.sh").chmod(0o644)
    findings = integrity_findings(repo.diff(), check_commands=["./scripts/check.sh"])
    assert kinds(findings) == [(Kind.CHECK_SCRIPT_CHANGED, "scripts/check.sh")]
    assert "old mode 100755" in findings[0].hunk


def test_the_package_script_a_check_command_runs_is_guarded_like_test(repo: Repository) -> None:
    repo.replace("package.json", '"lint": "eslint ."', '"lint": "echo ok"')
    diff = repo.diff()
    assert integrity_findings(diff, check_commands=["npm test"]) == ()
    findings = integrity_findings(diff, check_commands=["npm ci && npm run lint"])
    assert kinds(findings) == [(Kind.TEST_CONFIG_CHANGED, "package.json")]


def test_npm_runs_its_own_audit_not_the_package_script_of_that_name(repo: Repository) -> None:
    repo.replace("package.json", "better-npm-audit audit", "true")
    assert integrity_findings(repo.diff(), check_commands=["npm audit --omit=dev"]) == ()


def test_paths_git_quotes_are_reported_as_they_are_named(repo: Repository) -> None:
    repo.write("tests/test_café.py", "def test_x():\n    assert 1\n")
    repo.write("tests/test cart spaces.py", "def test_y():\n    assert 2\n")
    repo.settle()
    repo.remove("tests/test_café.py")
    repo.remove("tests/test cart spaces.py")
    diff = repo.diff()
    assert '"a/tests/test_caf\\303\\251.py"' in diff
    assert sorted(kinds(integrity_findings(diff))) == [
        (Kind.TEST_FILE_DELETED, "tests/test cart spaces.py"),
        (Kind.TEST_FILE_DELETED, "tests/test_café.py"),
    ]


def test_a_finding_quotes_a_bounded_hunk(repo: Repository) -> None:
    big = "".join(f"def test_{n}():\n    assert {n} == {n}\n\n" for n in range(500))
    repo.write("tests/test_big.py", big)
    repo.settle()
    repo.remove("tests/test_big.py")
    (finding,) = integrity_findings(repo.diff())
    assert finding.kind is Kind.TEST_FILE_DELETED
    assert len(finding.hunk) < MAX_HUNK_CHARS + 40
    assert finding.hunk.endswith("more characters)")


def test_text_that_is_not_a_diff_is_refused(repo: Repository) -> None:
    repo.replace("tests/test_cart.py", "== 3", "== 4")
    truncated = repo.diff().rsplit("\n", 3)[0] + "\n"
    with pytest.raises(ValueError, match="not a unified diff"):
        integrity_findings(truncated)
    with pytest.raises(ValueError, match="not a unified diff"):
        integrity_findings("I fixed it, trust me.\n")
    assert integrity_findings("") == ()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/test_cart.py", True),
        ("src/cart_test.py", True),
        ("app/tests.py", True),
        ("conftest.py", True),
        ("web/src/cart.test.tsx", True),
        ("web/src/cart.spec.mjs", True),
        ("web/src/__tests__/cart.js", True),
        ("e2e/checkout.ts", True),
        ("pkg/cart/cart_test.go", True),
        ("crates/cart/tests/total.rs", True),
        ("src/test/java/shop/Cart.java", True),
        ("src/main/java/shop/CartTest.java", True),
        ("src/main/kotlin/shop/CartIT.kt", True),
        ("src/cart.py", False),
        ("src/testing.py", False),
        ("web/src/cart.ts", False),
        ("pkg/cart/cart.go", False),
        ("crates/cart/src/lib.rs", False),
        ("src/main/java/shop/Cart.java", False),
        ("tests/fixtures/logo.png", False),
        ("tests/README.md", False),
    ],
)
def test_test_files_are_known_by_their_conventional_names_and_directories(
    path: str, expected: bool
) -> None:
    assert is_test_file(path) is expected
