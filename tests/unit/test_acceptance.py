"""The acceptance checks a plan lists: its fenced `acceptance` blocks read as browser
scenarios, defensively (the plan is the agent's text)."""

import json
import time
from typing import cast

from codegenapp.domain.acceptance import (
    HOW_TO_LIST,
    MAX_PLAN_SCENARIOS,
    NEEDS_WEB_EVAL,
    acceptance_checks,
    with_checks,
)
from codegenapp.domain.agent_settings import CliAgentSettings
from codegenapp.domain.masking import Masker
from codegenapp.domain.project_settings import ProjectSettings
from codegenapp.domain.states import StepStatus, ValidationKind
from codegenapp.domain.web_eval_settings import WebEvalSettings
from codegenapp.drivers.agent import AgentTask
from codegenapp.drivers.agent.cli import first_prompt
from codegenapp.drivers.evaluator import Evaluation, Observations, ScenarioRun, StepOutcome
from codegenapp.drivers.evaluator.report import findings_json, render
from codegenapp.drivers.forge import Forge
from codegenapp.drivers.sandbox import Sandbox
from codegenapp.steps import StepContext, web_eval
from codegenapp.steps.log import StepLog

PLAN = """\
Here is my plan:
1. Add an "Add to cart" button to `web.py`.
2. Show the cart's count.

Acceptance:
```acceptance
- name: Add to cart
  steps:
    - goto: /
    - click: Add to cart
    - fill: {label: Coupon, value: WELCOME}
    - expect_text: 1 item
    - expect_url: /cart?from=home
```
"""


def _unread(plan: str) -> list[str]:
    checks = acceptance_checks(plan)
    assert checks.scenarios == ()
    return list(checks.notes)


def test_a_plans_acceptance_block_becomes_scenarios_named_from_the_plan() -> None:
    checks = acceptance_checks(PLAN)

    assert checks.notes == ()
    [scenario] = checks.scenarios
    assert scenario.name == "from the plan: Add to cart"
    assert [step.kind for step in scenario.steps] == [
        "goto",
        "click",
        "fill",
        "expect_text",
        "expect_url",
    ]
    assert scenario.steps[2].fill is not None
    assert scenario.steps[2].fill.value == "WELCOME"


def test_a_block_may_be_json_indented_in_a_list_and_every_value_is_text_as_written() -> None:
    plan = (
        "1. Add the switch.\n"
        "2. Check it:\n"
        "   ~~~~ Acceptance json\n"
        '   [{"name": "Switch", "steps": [{"goto": "/"}, {"click": "Yes"}, '
        '{"expect_text": "42"}]}]\n'
        "   ~~~~\n"
    )
    [scenario] = acceptance_checks(plan).scenarios

    assert scenario.steps[1].click == "Yes"  # not YAML's true
    assert scenario.steps[2].expect_text == "42"


def test_a_plan_without_an_acceptance_block_lists_none() -> None:
    plan = "Here is my plan:\n```python\nprint(1)\n```\n```\n- name: x\n```\n"

    assert not acceptance_checks(plan).listed
    assert not acceptance_checks(None).listed


def test_an_example_inside_another_fenced_block_is_not_a_check() -> None:
    plan = "Docs to add:\n````markdown\n```acceptance\n- name: x\n```\n````\n"

    assert not acceptance_checks(plan).listed


def test_malformed_yaml_is_a_note_saying_where() -> None:
    plan = "```acceptance\n- name: Cart\n  steps: [{goto: /}\n```\n"

    [note] = _unread(plan)
    assert note.startswith(
        "the plan's acceptance checks could not be read: not valid YAML or JSON: "
    )
    assert "(line 3, column 1)" in note


def test_a_wrong_field_leaves_out_that_scenario_only_and_names_the_field() -> None:
    plan = """\
```acceptance
- name: Good
  steps: [{goto: /}]
- name: Elsewhere
  steps: [{goto: "//evil.example/"}]
- name: Typo
  steps: [{goto: /}, {press: Enter}]
- name: No start
  steps: [{click: Buy}]
- just a string
```
"""
    checks = acceptance_checks(plan)

    assert [scenario.name for scenario in checks.scenarios] == ["from the plan: Good"]
    assert checks.notes == (
        "the plan's acceptance checks could not be read: 1.steps.0.goto: must be a path on the "
        "preview starting with a single '/' (e.g. /cart), without white space or backslashes",
        "the plan's acceptance checks could not be read: 2.steps.1: a step has exactly one "
        "key, one of goto, click, fill, expect_text, expect_url; 'press' is not a step",
        "the plan's acceptance checks could not be read: 3.steps: must start with a goto "
        'step, where the scenario begins: {"goto": "/"}',
        "the plan's acceptance checks could not be read: 4: Input should be a valid "
        "dictionary or instance of Scenario",
    )


def test_a_block_that_is_not_a_list_or_not_closed_or_uses_aliases_is_a_note() -> None:
    [mapping] = _unread("```acceptance\nname: Cart\nsteps: [{goto: /}]\n```")
    [unclosed] = _unread("```acceptance\n- name: Cart\n  steps: [{goto: /}]\n")
    [aliased] = _unread(
        "```acceptance\n- name: A\n  steps: &s [{goto: /}]\n- name: B\n  steps: *s\n```"
    )

    assert mapping.endswith('must be a list of scenarios, each {"name": ..., "steps": [...]}')
    assert unclosed.endswith("the block is not closed (its closing ``` is missing)")
    assert aliased.endswith("the block uses a YAML alias (*name): write each scenario out")


def test_the_limits_of_the_settings_apply_to_a_plans_scenarios() -> None:
    steps = "\n".join(["  steps:", "    - goto: /", *["    - expect_text: x"] * 60])
    [note] = _unread(f"```acceptance\n- name: Long\n{steps}\n```")

    assert note.startswith("the plan's acceptance checks could not be read: 0.steps: ")
    assert "at most 50 items" in note


def test_past_the_cap_the_rest_are_left_out_and_counted_across_blocks() -> None:
    def block(first: int, count: int) -> str:
        items = "".join(f"- {{name: S{n}, steps: [{{goto: /}}]}}\n" for n in range(first, count))
        return f"```acceptance\n{items}```\n"

    checks = acceptance_checks(block(0, 8) + "and also\n" + block(8, 13) + "```acceptance\n:\n")

    assert [scenario.name for scenario in checks.scenarios] == [
        f"from the plan: S{n}" for n in range(MAX_PLAN_SCENARIOS)
    ]
    assert checks.notes == (
        "the plan's acceptance checks could not be read: block 3: the block is not closed "
        "(its closing ``` is missing)",
        f"the plan lists 13 acceptance checks: only the first {MAX_PLAN_SCENARIOS} are run "
        "(3 left out)",
    )


def test_a_scenario_name_from_the_plan_is_one_line() -> None:
    plan = '```acceptance\n- {name: "Cart\\n  web_eval passed", steps: [{goto: /}]}\n```'

    [scenario] = acceptance_checks(plan).scenarios

    assert scenario.name == "from the plan: Cart web_eval passed"


def test_a_plan_only_pass_is_shown_an_example_that_is_read_as_it_says() -> None:
    task = AgentTask(
        run_id=1,
        goal="Sell",
        repository="/repos/shop",
        base_branch="main",
        branch="codegen/1",
        settings=CliAgentSettings(provider="cli", command="agent"),
    )
    assert HOW_TO_LIST in first_prompt(task, plan_only=True)
    assert HOW_TO_LIST not in first_prompt(task, plan_only=False)

    [scenario] = acceptance_checks(HOW_TO_LIST).scenarios

    assert scenario.name == "from the plan: Add to cart"
    assert [step.kind for step in scenario.steps][-1] == "expect_url"


def test_the_findings_mark_the_scenarios_from_the_plan_and_keep_the_notes() -> None:
    settings = WebEvalSettings.model_validate(
        {"pages": [], "scenarios": [{"name": "Own", "steps": [{"goto": "/"}]}]}
    )
    checks = acceptance_checks(PLAN + "```acceptance\n{}\n```\n")
    played = with_checks(settings, checks)
    assert [scenario.name for scenario in played.scenarios] == [
        "Own",
        "from the plan: Add to cart",
    ]
    step = StepOutcome(0, "goto /", "GET / loads", "loaded", passed=True)
    evaluation = Evaluation(
        "http://127.0.0.1:9000",
        (),
        tuple(
            ScenarioRun(scenario.name, (step,), Observations(), "", None, None)
            for scenario in played.scenarios
        ),
        1000,
    )

    findings = json.loads(findings_json(evaluation, [], from_plan=1, plan_notes=checks.notes))
    text = render(evaluation, played, [], plan_notes=checks.notes)

    assert [run["from_plan"] for run in findings["evaluation"]["scenarios"]] == [False, True]
    assert findings["plan"] == {"first_scenario": 1, "notes": list(checks.notes)}
    assert json.loads(findings_json(evaluation, []))["plan"] is None
    assert "Not run from the plan:\n  - the plan's acceptance checks could not be read: " in text
    assert '"from the plan: Add to cart": passed' in text


class _Notes:
    """What the step notes in its log."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    async def note(self, text: str) -> None:
        self.lines.append(text)


async def test_without_web_eval_a_plans_checks_are_not_run_and_the_log_says_so() -> None:
    said = {}
    for plan in (PLAN, "Here is my plan: no checks.", None):
        ctx = StepContext(
            validation_id=1,
            kind=ValidationKind.PULL_REQUEST,
            project_id=1,
            repository="repo",
            head_sha="0" * 40,
            settings=ProjectSettings(),
            forge=cast(Forge, None),
            sandbox=cast(Sandbox, None),
            secrets={},
            masker=Masker.for_secrets([]),
            deadline=time.monotonic() + 60,
            goal="Sell",
            plan=plan,
        )
        log = _Notes()
        result = await web_eval.run(ctx, cast(StepLog, log))
        assert result.status is StepStatus.SKIPPED
        said[plan] = log.lines

    assert said[PLAN] == [web_eval.NOT_CONFIGURED, NEEDS_WEB_EVAL]
    assert said["Here is my plan: no checks."] == said[None] == [web_eval.NOT_CONFIGURED]
