"""Web evaluation's before/after: which pages the goal mentions, and the records built from a
baseline's screenshots and this validation's (PNGs made here, in a real artifacts root)."""

import io
import json
import time
from pathlib import Path
from typing import cast

import pytest
from PIL import Image

from codegenapp import artifacts
from codegenapp.domain.artifacts import FINDINGS, artifact_kind
from codegenapp.domain.masking import Masker
from codegenapp.domain.project_settings import ProjectSettings, ValidationSettings
from codegenapp.domain.states import ValidationKind
from codegenapp.drivers.evaluator import Evaluation, Observations, PageVisit
from codegenapp.drivers.evaluator.report import findings_json
from codegenapp.drivers.forge import Forge
from codegenapp.drivers.sandbox import Sandbox
from codegenapp.steps import BaseScreenshots, StepContext
from codegenapp.steps.log import StepLog
from codegenapp.steps.web_visual import (
    NO_BASE_YET,
    NO_BASELINES,
    build_changes,
    compare_pages,
    mentioned,
)

BASE, THIS = 7, 8
LABEL = "main at abc1234"


def png(
    colour: tuple[int, int, int], *, band: int = 0, size: tuple[int, int] = (100, 100)
) -> bytes:
    """A `colour` image whose top `band` rows are black."""
    image = Image.new("RGB", size, colour)
    if band:
        image.paste((0, 0, 0), (0, 0, size[0], band))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


WHITE = png((255, 255, 255))


def visit(path: str, index: int, *, screenshot: bool = True) -> PageVisit:
    shot = f"page-{index}.png" if screenshot else None
    return PageVisit(path, 200, 10, Observations(), "", shot, None)


def keep(root: Path, validation_id: int, files: dict[str, bytes]) -> None:
    directory = artifacts.kept_dir(root, validation_id)
    for name, data in files.items():
        (directory / name).write_bytes(data)


def base_findings(*paths: str) -> bytes:
    return json.dumps({"evaluation": {"pages": [{"path": path} for path in paths]}}).encode()


def build(
    root: Path, pages: tuple[PageVisit, ...], wording: str = ""
) -> tuple[list[dict[str, object]] | None, list[str]]:
    evaluation = Evaluation("http://127.0.0.1:9000", pages, (), 100)
    changes, unreadable = build_changes(
        evaluation,
        root=root,
        validation_id=THIS,
        base=BaseScreenshots(BASE, LABEL),
        wording=wording,
    )
    records = (
        None
        if changes is None
        else json.loads(findings_json(evaluation, [], visual_changes=changes))["visual_changes"]
    )
    return records, unreadable


@pytest.mark.parametrize(
    ("path", "wording"),
    [
        ("/cart", "Show the number of items in the Cart"),
        ("/cart", "Fix the cart."),
        ("/shop/cart/", "the shop/cart page is slow"),
        ("/shop/cart", "the cart lists nothing"),
        ("/about?lang=en", "Rewrite ABOUT"),
        ("/", "Make the home page greet visitors"),
        ("/", "a new Homepage"),
        ("/", "the landing hero"),
        ("/", "redesign the front   page"),
        ("/", "index: add a banner"),
    ],
)
def test_a_page_named_in_the_goal_or_plan_is_mentioned(path: str, wording: str) -> None:
    assert mentioned(path, wording)


@pytest.mark.parametrize(
    ("path", "wording"),
    [
        ("/cart", "Show the number of items in the basket"),
        ("/cart", "add a cartoon"),  # a whole word only
        ("/about", "Make the home page greet visitors"),
        ("/", "Fix the cart"),
        ("/", "the homeless shelter list"),
        ("/", ""),  # no goal, no plan: nothing is mentioned
    ],
)
def test_a_page_not_named_is_not_mentioned(path: str, wording: str) -> None:
    assert not mentioned(path, wording)


def test_each_page_is_compared_with_the_bases_and_the_base_screenshot_is_copied_beside_it(
    tmp_path: Path,
) -> None:
    changed = png((30, 90, 200))
    keep(
        tmp_path,
        BASE,
        {FINDINGS: base_findings("/", "/about"), "page-0.png": WHITE, "page-1.png": WHITE},
    )
    keep(tmp_path, THIS, {"page-0.png": png((255, 255, 255), band=2), "page-1.png": changed})

    records, unreadable = build(
        tmp_path, (visit("/", 0), visit("/about", 1)), "Greet on the home page"
    )

    assert unreadable == []
    assert records == [
        {
            "path": "/",
            "changed": 0.02,
            "screenshot": "page-0.png",
            "base_screenshot": "base-page-0.png",
            "base": LABEL,
            "mentioned": True,
            "large": False,
        },
        {
            "path": "/about",
            "changed": 1.0,
            "screenshot": "page-1.png",
            "base_screenshot": "base-page-1.png",
            "base": LABEL,
            "mentioned": False,
            "large": True,
        },
    ]
    kept = artifacts.read_artifact(tmp_path, THIS, "base-page-1.png")
    assert kept is not None
    assert kept[0] == WHITE
    assert artifact_kind("base-page-1.png") == "screenshot"


def test_pages_without_a_matching_screenshot_of_the_base_are_left_out(tmp_path: Path) -> None:
    # The base evaluated /old at index 1 and kept no screenshot of index 2.
    keep(
        tmp_path,
        BASE,
        {FINDINGS: base_findings("/", "/old", "/gone"), "page-0.png": WHITE, "page-1.png": WHITE},
    )
    keep(tmp_path, THIS, {name: WHITE for name in ("page-0.png", "page-1.png", "page-2.png")})
    pages = (
        visit("/", 0),
        visit("/new", 1),
        visit("/gone", 2),
        visit("/later", 3, screenshot=False),
    )

    records, _ = build(tmp_path, pages)

    assert [record["path"] for record in records or []] == ["/"]
    assert not (artifacts.validation_dir(tmp_path, THIS) / "base-page-1.png").exists()


def test_a_baseline_without_findings_has_nothing_to_compare(tmp_path: Path) -> None:
    keep(tmp_path, BASE, {"page-0.png": WHITE})  # it ended before web_eval wrote its findings
    keep(tmp_path, THIS, {"page-0.png": WHITE})
    assert build(tmp_path, (visit("/", 0),)) == (None, [])


def test_a_linked_base_screenshot_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere.png"
    secret.write_bytes(WHITE)
    keep(tmp_path, BASE, {FINDINGS: base_findings("/")})
    (artifacts.validation_dir(tmp_path, BASE) / "page-0.png").symlink_to(secret)
    keep(tmp_path, THIS, {"page-0.png": WHITE})
    assert build(tmp_path, (visit("/", 0),)) == ([], [])


def test_an_unreadable_screenshot_is_said_and_the_others_still_compared(tmp_path: Path) -> None:
    keep(
        tmp_path,
        BASE,
        {FINDINGS: base_findings("/", "/about"), "page-0.png": b"not a png", "page-1.png": WHITE},
    )
    keep(tmp_path, THIS, {"page-0.png": WHITE, "page-1.png": WHITE})

    records, unreadable = build(tmp_path, (visit("/", 0), visit("/about", 1)))

    assert [(record["path"], record["changed"]) for record in records or []] == [("/about", 0.0)]
    [said] = unreadable
    assert said.startswith("page /: its screenshots could not be compared (")


def test_findings_without_a_comparison_say_null() -> None:
    evaluation = Evaluation("http://127.0.0.1:9000", (visit("/", 0),), (), 100)
    assert json.loads(findings_json(evaluation, []))["visual_changes"] is None


class WrittenLog:
    """Stands for a step's log: what the step noted and wrote, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    async def note(self, line: str) -> None:
        self.lines.append(f"[codegenapp] {line}")

    async def write(self, chunk: str) -> None:
        self.lines += chunk.splitlines()


def context(
    root: Path,
    *,
    kind: ValidationKind = ValidationKind.PULL_REQUEST,
    base: BaseScreenshots | None = None,
    validate_base_branch: bool = True,
) -> StepContext:
    return StepContext(
        validation_id=THIS,
        kind=kind,
        project_id=1,
        repository="repo",
        head_sha="0" * 40,
        settings=ProjectSettings(
            validation_settings=ValidationSettings(validate_base_branch=validate_base_branch)
        ),
        forge=cast(Forge, None),
        sandbox=cast(Sandbox, None),
        secrets={},
        masker=Masker.for_secrets([]),
        deadline=time.monotonic() + 600,
        artifacts_root=root,
        goal="Sell shoes on the home page",
        base_screenshots=base,
    )


async def told(ctx: StepContext, pages: tuple[PageVisit, ...]) -> tuple[object, list[str]]:
    log = WrittenLog()
    evaluation = Evaluation("http://127.0.0.1:9000", pages, (), 100)
    changes = await compare_pages(ctx, evaluation, cast(StepLog, log))
    return changes, log.lines


async def test_the_log_tells_each_page_and_a_large_unmentioned_change_at_length(
    tmp_path: Path,
) -> None:
    keep(
        tmp_path,
        BASE,
        {FINDINGS: base_findings("/", "/cart"), "page-0.png": WHITE, "page-1.png": WHITE},
    )
    keep(
        tmp_path,
        THIS,
        {"page-0.png": png((255, 255, 255), band=2), "page-1.png": png((255, 255, 255), band=38)},
    )

    _, lines = await told(
        context(tmp_path, base=BaseScreenshots(BASE, LABEL)), (visit("/", 0), visit("/cart", 1))
    )

    assert lines == [
        f"Before/after, against the base branch ({LABEL}):",
        "  page /: 2% changed",
        f"  page /cart: 38% of its pixels differ from the base branch ({LABEL}), and the goal "
        "does not mention it: reported, not failed",
    ]


async def test_without_a_base_the_log_says_why_once_and_a_baseline_compares_nothing(
    tmp_path: Path,
) -> None:
    pages = (visit("/", 0),)
    assert await told(context(tmp_path), pages) == (None, [f"[codegenapp] {NO_BASE_YET}"])
    off = context(tmp_path, validate_base_branch=False)
    assert await told(off, pages) == (None, [f"[codegenapp] {NO_BASELINES}"])
    # A baseline that ended before web_eval kept no findings: nothing to compare with yet.
    keep(tmp_path, BASE, {"page-0.png": WHITE})
    ended_early = context(tmp_path, base=BaseScreenshots(BASE, LABEL))
    assert await told(ended_early, pages) == (None, [f"[codegenapp] {NO_BASE_YET}"])
    baseline = context(tmp_path, kind=ValidationKind.BASELINE, base=BaseScreenshots(BASE, LABEL))
    assert await told(baseline, pages) == (None, [])
