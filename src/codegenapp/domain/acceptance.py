"""The acceptance checks a plan lists: browser scenarios in a fenced `acceptance` block, played
on the pull request's preview after the project's own (`web_eval`), named "from the plan: …".

    ```acceptance
    - name: Add to cart
      steps:
        - goto: /
        - click: Add to cart
        - expect_text: 1 item in your cart
    ```

The block holds a YAML (or JSON) list of scenarios in the format of `web_eval.scenarios`,
checked by the same model, with its limits. Every scalar is read as text, as written (`Yes`
stays "Yes"). A plan may hold several blocks; at most `MAX_PLAN_SCENARIOS` scenarios are run,
in order. The plan is the agent's text: what cannot be read becomes a note that says why, and
never stops the rest; a block holds no anchors or aliases (no YAML "billion laughs").
"""

import re
from dataclasses import dataclass

import yaml
from pydantic import ValidationError

from codegenapp.domain.web_eval_settings import Scenario, WebEvalSettings

INFO = "acceptance"
"""The info string (first word) of a fenced block that lists acceptance checks."""
LABEL = "from the plan"
PREFIX = f"{LABEL}: "
"""What each scenario of the plan is named with: "from the plan: Add to cart"."""
MAX_PLAN_SCENARIOS = 10
MAX_BLOCK_CHARS = 20_000
MAX_NOTE_CHARS = 300
UNREADABLE = "the plan's acceptance checks could not be read"
NEEDS_WEB_EVAL = (
    "the plan's acceptance checks need validation_settings.web_eval (and a deployed preview): "
    "they were not run"
)
HOW_TO_LIST = (
    "You may end the plan with acceptance checks that a browser plays on the pull request's "
    "preview when the project has browser evaluation: a fenced block whose info string is "
    "`acceptance`, holding a YAML list of scenarios, e.g.\n"
    "```acceptance\n"
    "- name: Add to cart\n"
    "  steps: [{goto: /}, {click: Add to cart}, {fill: {label: Email, value: a@b.example}}, "
    "{expect_text: 1 item}, {expect_url: /cart}]\n"
    "```\n"
    f"Each starts with a goto; paths are on the preview and start with '/'. At most "
    f"{MAX_PLAN_SCENARIOS} are run; a failing one fails the validation."
)

# An opening fence: any indentation (a block may sit in a list item), 3+ backticks or tildes,
# then its info string (a backtick fence's holds no backtick).
_OPENING = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_LINES = re.compile(r"\r\n|\r|\n")
# Every scalar is text: the step keys and values are all strings.
_TextLoader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


@dataclass(frozen=True, slots=True)
class AcceptanceChecks:
    """What a plan's acceptance blocks hold: the scenarios to run (already named
    "from the plan: …"), and why any could not be run, one sentence each."""

    scenarios: tuple[Scenario, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def listed(self) -> bool:
        """The plan has at least one acceptance block."""
        return bool(self.scenarios or self.notes)


@dataclass(frozen=True, slots=True)
class _Block:
    text: str
    closed: bool


def acceptance_checks(plan: str | None) -> AcceptanceChecks:
    """The acceptance checks of `plan` (none for no plan, or a plan without an acceptance
    block). Never raises for what the plan holds: each block that cannot be read, and each
    scenario that is not valid, is left out with a note naming the field and the problem; past
    `MAX_PLAN_SCENARIOS` the rest are left out with a note saying how many."""
    blocks = _blocks(plan or "")
    scenarios: list[Scenario] = []
    notes: list[str] = []
    listed = 0
    for number, block in enumerate(blocks, 1):
        where = f"block {number}: " if len(blocks) > 1 else ""
        items, problem = _items(block)
        if problem is not None:
            notes.append(_note(f"{UNREADABLE}: {where}{problem}"))
            continue
        for index, item in enumerate(items):
            listed += 1
            if listed > MAX_PLAN_SCENARIOS:
                continue
            scenario = _scenario(item)
            if isinstance(scenario, Scenario):
                scenarios.append(scenario)
            else:
                field, problem = scenario
                notes.append(
                    _note(f"{UNREADABLE}: {where}{'.'.join([str(index), *field])}: {problem}")
                )
    if listed > MAX_PLAN_SCENARIOS:
        dropped = listed - MAX_PLAN_SCENARIOS
        notes.append(
            f"the plan lists {listed} acceptance checks: only the first {MAX_PLAN_SCENARIOS} "
            f"are run ({dropped} left out)"
        )
    return AcceptanceChecks(tuple(scenarios), tuple(notes))


def _blocks(plan: str) -> list[_Block]:
    """The `acceptance` blocks of `plan`, in order; a fence inside another block (an example
    in a ```markdown block) is that block's text, as a Markdown reader sees it."""
    blocks = []
    lines = _LINES.split(plan)
    position = 0
    while position < len(lines):
        opening = _OPENING.match(lines[position])
        position += 1
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        words = opening["info"].split()
        body: list[str] = []
        closed = False
        while position < len(lines):
            line = lines[position]
            position += 1
            stripped = line.strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                closed = True
                break
            body.append(_dedent(line, indent))
        if words and words[0].lower() == INFO:
            blocks.append(_Block("\n".join(body), closed))
    return blocks


def _dedent(line: str, indent: int) -> str:
    """`line` without the opening fence's indentation (as far as it has that much)."""
    spaces = len(line) - len(line.lstrip(" \t"))
    return line[min(spaces, indent) :]


def _items(block: _Block) -> tuple[list[object], str | None]:
    """The block's list of scenarios (not yet checked), or why it has none."""
    if not block.closed:
        return [], "the block is not closed (its closing ``` is missing)"
    if len(block.text) > MAX_BLOCK_CHARS:
        return [], f"the block is longer than {MAX_BLOCK_CHARS} characters"
    try:
        if any(
            isinstance(event, yaml.AliasEvent)
            for event in yaml.parse(block.text, Loader=_TextLoader)
        ):
            return [], "the block uses a YAML alias (*name): write each scenario out"
        document = yaml.load(block.text, Loader=_TextLoader)  # noqa: S506 - text only
    except yaml.YAMLError as error:
        return [], f"not valid YAML or JSON: {_yaml_problem(error)}"
    if not isinstance(document, list):
        return [], 'must be a list of scenarios, each {"name": ..., "steps": [...]}'
    return document, None


def _scenario(item: object) -> Scenario | tuple[list[str], str]:
    """The scenario, named as from the plan; or its first problem's field (["steps", "0",
    "goto"]) and what is wrong there."""
    try:
        scenario = Scenario.model_validate(item)
    except ValidationError as error:
        problems = error.errors()
        first = problems[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        return [str(part) for part in first["loc"]], message + more
    # The name reaches logs line by line: one line, however it was written.
    name = PREFIX + " ".join(scenario.name.split())
    return scenario.model_copy(update={"name": name})


def _yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's message in one line: the problem and where it is in the block."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def _note(text: str) -> str:
    return text if len(text) <= MAX_NOTE_CHARS else text[: MAX_NOTE_CHARS - 1] + "…"


def with_checks(settings: WebEvalSettings, checks: AcceptanceChecks) -> WebEvalSettings:
    """`settings` with the plan's scenarios played after the project's own, under the same
    settings (errors allowed or not, timeout). Not checked again: the project's limit on the
    number of scenarios is for its own."""
    if not checks.scenarios:
        return settings
    return settings.model_copy(update={"scenarios": [*settings.scenarios, *checks.scenarios]})
