"""Reading an agent's head before it is validated: what holds it for a person, what a person's
approval covers, which paths it changed and how they keep to a confirmed plan. Diffs come from
real git."""

import subprocess
from pathlib import Path

import pytest
from tests.support.projects import git, make_repository

from codegenapp.domain.change_review import (
    HeadReview,
    changed_paths,
    drift_from_plan,
    gate_review,
    unchecked,
)
from codegenapp.domain.gate_integrity import IntegrityKind
from codegenapp.domain.reports import PLAN_NOTE_MARKER, plan_note_markdown

TEST = "def test_total():\n    assert 1 + 1 == 2\n\n\ndef test_zero():\n    assert 0 == 0\n"
SKIP = "import pytest\n\n\n@pytest.mark.skip(reason='flaky')\ndef test_total():"


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = make_repository(root, {"cart.py": "A = 1\n", "tests/test_cart.py": TEST})
        git(self.root, "checkout", "-q", "-b", "fix")

    def commit(self, files: dict[str, str]) -> str:
        for name, text in files.items():
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_text(text)
        git(self.root, "add", "-A")
        git(self.root, "commit", "-qm", "change")
        return git(self.root, "rev-parse", "HEAD")

    def diff(self, since: str = "main") -> str:
        # Not `git()`: it strips the output, and with it a blank context line at the end.
        found = subprocess.run(
            ["git", "diff", f"{since}...HEAD"], cwd=self.root, check=True, capture_output=True
        )
        return found.stdout.decode()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def _review(repo: Repo, head: str, since: str = "main") -> HeadReview:
    return gate_review(repo.diff(since), head_sha=head, since=since)


def test_an_honest_change_holds_nothing(repo: Repo) -> None:
    head = repo.commit({"cart.py": "A = 2\n"})
    review = _review(repo, head)
    assert (review.findings, review.unchecked) == ((), None)
    assert not review.holds


def test_a_skip_holds_with_its_hunk(repo: Repo) -> None:
    head = repo.commit({"tests/test_cart.py": TEST.replace("def test_total():", SKIP)})
    review = _review(repo, head)
    [finding] = review.findings
    assert (finding.kind, finding.path) == (IntegrityKind.TESTS_SKIPPED, "tests/test_cart.py")
    assert "+@pytest.mark.skip(reason='flaky')" in finding.hunk
    assert review.holds
    assert review.since == "main"


def test_since_an_approved_head_only_what_came_after_it_holds(repo: Repo) -> None:
    skipped = TEST.replace("def test_total():", SKIP)
    approved = repo.commit({"tests/test_cart.py": skipped})
    honest = repo.commit({"cart.py": "A = 2\n", "tests/test_cart.py": "# note\n\n" + skipped})
    assert _review(repo, honest).holds  # since main: the skip is still in the pull request
    assert not _review(repo, honest, since=approved).holds
    workflow = ".github/workflows/ci.yml"
    bent = repo.commit({workflow: "on: push\n"})
    [finding] = _review(repo, bent, since=approved).findings
    assert (finding.kind, finding.path) == (IntegrityKind.CI_CONFIG_CHANGED, workflow)


def test_a_head_whose_diff_was_not_read_holds_as_a_whole() -> None:
    review = unchecked("a" * 40, "main", "too large")
    assert review.holds
    assert review.findings == ()


def test_text_that_is_no_diff_is_held_as_unread_not_raised() -> None:
    review = gate_review("this is not a diff\n", head_sha="c" * 40, since="main")
    assert review.unchecked is not None
    assert review.holds
    assert drift_from_plan("this is not a diff\n", "Change `cart.py`.") is None


def test_changed_paths_name_new_deleted_renamed_and_quoted_files(repo: Repo) -> None:
    git(repo.root, "mv", "cart.py", "shop.py")
    git(repo.root, "rm", "-q", "tests/test_cart.py")
    repo.commit({"café.py": "x = 1\n", "docs/new.md": "hi\n"})
    assert sorted(changed_paths(repo.diff())) == [
        "café.py",
        "docs/new.md",
        "shop.py",
        "tests/test_cart.py",
    ]


def test_a_change_that_strays_from_its_confirmed_plan_says_which_paths(repo: Repo) -> None:
    plan = "1. Change the total in `cart.py`.\n2. Add a test for it."
    repo.commit(
        {
            "cart.py": "A = 3\n",
            "tests/test_cart.py": TEST + "\n\ndef test_three():\n    assert 3\n",
            "billing/invoice.py": "x = 1\n",
            "billing/tax.py": "y = 1\n",
            "README.md": "shop\n",
        }
    )
    drift = drift_from_plan(repo.diff(), plan)
    assert drift is not None
    assert drift.strays
    assert drift.unnamed == ("README.md", "billing/invoice.py", "billing/tax.py")


def test_the_plan_note_names_the_strays_in_spans_they_cannot_close() -> None:
    note = plan_note_markdown(
        head_sha="d" * 40,
        unnamed=["billing/tax.py", "evil`](https://x.invalid)`.md"],
        changed=3,
        strays=True,
        link=None,
    )
    assert note.startswith(PLAN_NOTE_MARKER)
    assert "strays from its confirmed plan" in note
    assert "- `billing/tax.py`" in note
    assert "- ``evil`](https://x.invalid)`.md``" in note
    again = plan_note_markdown(head_sha="e" * 40, unnamed=[], changed=2, strays=False, link=None)
    assert "keeps to its confirmed plan again" in again
