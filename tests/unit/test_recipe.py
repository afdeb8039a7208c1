"""The scripted agent's recipe: what parses, and how each mistake is named."""

import re

import pytest

from codegenapp.domain.project_settings import MAX_RECIPE_CHARS
from codegenapp.drivers.agent import recipe as recipe_module
from codegenapp.drivers.agent.recipe import FileWrite, TurnKind, parse_recipe
from codegenapp.errors import AgentConfigInvalid

ACCEPTED = "accepted: reply, plan, files, delete, message, title, progress, fail"


def refusal(text: str) -> str:
    with pytest.raises(AgentConfigInvalid) as caught:
        parse_recipe(text)
    assert caught.value.field == "agent.recipe"
    return caught.value.message


def test_the_documented_example_parses_into_its_four_turns() -> None:
    doc = recipe_module.__doc__ or ""
    example = re.search(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert example is not None

    recipe = parse_recipe(example.group(1))

    kinds = [turn.kind for turn in recipe.turns]
    assert kinds == [TurnKind.PLAN, TurnKind.FILES, TurnKind.REPLY, TurnKind.FAIL]
    files = recipe.turns[1]
    assert files.files == (FileWrite("app.py", "...\n"),)
    assert files.delete == ("old.py",)
    assert files.message == "Add /health"
    assert files.title == "Add a health endpoint"
    assert files.text == "Opened a pull request"
    assert recipe.turns[3].text == "why the agent gives up"


def test_a_bare_list_of_turns_is_accepted() -> None:
    recipe = parse_recipe("- reply: hello\n- plan: do it\n")

    assert [t.kind for t in recipe.turns] == [TurnKind.REPLY, TurnKind.PLAN]
    assert recipe.turns[0].text == "hello"


def test_progress_messages_are_accepted_on_any_turn() -> None:
    recipe = parse_recipe("- reply: hi\n  progress: [reading, thinking]\n")

    assert recipe.turns[0].progress == ("reading", "thinking")


def test_an_unknown_key_names_the_file_the_turn_and_what_is_accepted() -> None:
    message = refusal("turns:\n  - plan: p\n  - fils:\n      a.py: x\n")

    assert message == f"turn 2: unknown key 'fils' ({ACCEPTED})"


def test_a_turn_with_two_kinds_is_refused() -> None:
    message = refusal("- reply: a\n  plan: b\n")

    assert message == "turn 1: needs exactly one of: reply, plan, files, fail " + (
        "(found: reply, plan)"
    )


def test_a_turn_with_no_kind_is_refused() -> None:
    assert "turn 1: needs exactly one of" in refusal("- progress: [x]\n")


def test_commit_keys_are_refused_without_files() -> None:
    message = refusal("- reply: ok\n  message: commit\n")

    assert message == "turn 1: key 'message' is only accepted with 'files'"


def test_a_files_turn_may_carry_a_reply() -> None:
    recipe = parse_recipe("- files: {a.txt: hi}\n  reply: done\n")

    assert recipe.turns[0].kind is TurnKind.FILES
    assert recipe.turns[0].text == "done"


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/etc/passwd", "must be relative"),
        ("../outside", "must not go up with '..'"),
        ("a/../b", "normalised"),
        ("./a", "normalised"),
        ("a//b", "normalised"),
        ("dir/", "normalised"),
        (".git/config", "inside '.git'"),
        ("sub/.GIT/hooks/x", "inside '.git'"),
        ("a\\b", "backslashes"),
    ],
)
def test_paths_that_leave_the_tree_are_refused(path: str, problem: str) -> None:
    message = refusal(f"- files: {{'{path}': x}}\n")

    assert message.startswith("turn 1: key 'files': path ")
    assert problem in message


def test_deleting_outside_the_tree_is_refused_under_its_key() -> None:
    message = refusal("- files: {a: x}\n- files: {b: y}\n  delete: [../c]\n")

    assert message.startswith("turn 2: key 'delete': path '../c'")


def test_content_that_is_not_text_is_refused() -> None:
    assert "the content of 'n.txt' must be text" in refusal("- files: {n.txt: 3}\n")


def test_a_path_both_written_and_deleted_is_refused() -> None:
    assert "'a' is both written and deleted" in refusal("- files: {a: x}\n  delete: [a]\n")


def test_a_files_turn_that_changes_nothing_is_refused() -> None:
    assert "changes nothing" in refusal("- files: {}\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "must be a non-empty list of turns"),
        ("turns: []\n", "must be a non-empty list of turns"),
        ("turns: [reply: x]\nextra: 1\n", "unknown top-level key 'extra' (accepted: turns)"),
        ("- [unclosed\n", "is not valid YAML"),
        ("- just text\n", "turn 1: must be a mapping"),
        ("- reply: ''\n", "key 'reply' must be non-empty text"),
        ("- reply: x\n  progress: nope\n", "key 'progress' must be a list of text"),
    ],
)
def test_malformed_recipes_are_refused_with_what_is_wrong(text: str, expected: str) -> None:
    message = refusal(text)

    assert expected in message


def test_a_yaml_error_is_one_line_that_says_where() -> None:
    message = refusal("- reply: x\n  plan: [unclosed\n")

    assert "\n" not in message
    assert re.search(r"is not valid YAML: .* \(line \d+, column \d+\)$", message)


def test_a_recipe_over_the_size_cap_is_refused_before_it_is_parsed() -> None:
    message = refusal("- reply: x\n" + "#" * MAX_RECIPE_CHARS)

    assert message == f"the recipe: is longer than {MAX_RECIPE_CHARS} characters"
