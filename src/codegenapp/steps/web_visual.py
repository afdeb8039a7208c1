"""Web evaluation's before/after: each page's screenshot compared with the base branch's, from
the latest finished baseline under the same settings, and a large change reported (never
failed) when the run's goal does not mention the page.

Which baseline: the one `StepContext.base_screenshots` names (`flows/validation.py` finds it).
A page is compared when that baseline kept a screenshot of the same page at the same index
(its findings.json says which path each index was); the base's screenshot is copied beside
this validation's as `base-page-N.png`, so both stay together for as long as the evidence is
kept.

"Mentioned" is a heuristic, on purpose a plain one: a page is mentioned when its path, without
its slashes ("cart" for /cart, "shop/cart" for /shop/cart), or the last part of it ("cart"),
appears as a whole word, in any case, in the run's goal or its confirmed plan. The home page
("/") is mentioned by "home", "homepage", "landing", "front page" or "index". A pull request
without an agent run (no goal, no plan) mentions nothing.
"""

import asyncio
import json
import re
from pathlib import Path

from codegenapp import artifacts
from codegenapp.domain.artifacts import FINDINGS, page_artifact
from codegenapp.domain.states import ValidationKind
from codegenapp.drivers.evaluator import Evaluation
from codegenapp.drivers.evaluator.visual import UnreadableImage, VisualChange, compare
from codegenapp.files import write_private
from codegenapp.steps import BaseScreenshots, StepContext
from codegenapp.steps.log import StepLog

NO_BASE_YET = "no screenshots of the base branch yet: before/after skipped"
NO_BASELINES = (
    "the base branch is not validated (validation_settings.validate_base_branch is off): "
    "before/after skipped"
)
HOME_WORDS = ("home", "homepage", "landing", "front page", "index")


async def compare_pages(
    ctx: StepContext, evaluation: Evaluation, log: StepLog
) -> list[VisualChange] | None:
    """Compare the evaluated pages with the base branch's and tell the step's log; the
    changes found, or None when there was nothing to compare with (a baseline itself, or no
    baseline that took screenshots). Never raises for a missing or unreadable screenshot:
    that page is left out (an unreadable one said so in the log)."""
    if ctx.artifacts_root is None or ctx.kind is not ValidationKind.PULL_REQUEST:
        return None
    if ctx.base_screenshots is None:
        validated = ctx.settings.validation_settings.validate_base_branch
        await log.note(NO_BASE_YET if validated else NO_BASELINES)
        return None
    wording = " ".join(part for part in (ctx.goal, ctx.plan) if part)
    changes, unreadable = await asyncio.to_thread(
        build_changes,
        evaluation,
        root=ctx.artifacts_root,
        validation_id=ctx.validation_id,
        base=ctx.base_screenshots,
        wording=wording,
    )
    if changes is None:
        await log.note(NO_BASE_YET)
        return None
    await log.write(_told(changes, unreadable, ctx.base_screenshots.label))
    return changes


def build_changes(
    evaluation: Evaluation,
    *,
    root: Path,
    validation_id: int,
    base: BaseScreenshots,
    wording: str,
) -> tuple[list[VisualChange] | None, list[str]]:
    """The before/after of each page of `evaluation` (validation `validation_id`'s, its
    artifacts kept under `root`) that has a screenshot here and in the base, the base's copied
    beside this one; and a sentence for each page whose screenshots could not be compared.
    (None, []) when the baseline kept no findings (it ended before web_eval, or its evidence
    was removed). Reads at most `artifacts.MAX_ARTIFACT_BYTES` a file, never through a link."""
    base_paths = _base_paths(root, base.validation_id)
    if base_paths is None:
        return None, []
    changes, unreadable = [], []
    for index, page in enumerate(evaluation.pages):
        name, base_name = page.screenshot, page_artifact(index, "png")
        if name is None or index >= len(base_paths) or base_paths[index] != page.path:
            continue
        before = artifacts.read_artifact(root, base.validation_id, base_name)
        after = artifacts.read_artifact(root, validation_id, name)
        if before is None or after is None:
            continue
        try:
            comparison = compare(before[0], after[0])
        except UnreadableImage as error:
            unreadable.append(f"page {page.path}: its screenshots could not be compared ({error})")
            continue
        copy = f"base-{base_name}"
        write_private(artifacts.validation_dir(root, validation_id) / copy, before[0])
        changes.append(
            VisualChange(
                path=page.path,
                changed=round(comparison.changed, 3),
                screenshot=name,
                base_screenshot=copy,
                base=base.label,
                mentioned=mentioned(page.path, wording),
                large=comparison.large,
            )
        )
    return changes, unreadable


def mentioned(path: str, wording: str) -> bool:
    """Whether `wording` (the goal and plan) names the page at `path`, by the heuristic of this
    module's docstring."""
    plain = re.split(r"[?#]", path, maxsplit=1)[0].strip("/").lower()
    words = [plain, plain.rsplit("/", 1)[-1]] if plain else list(HOME_WORDS)
    text = wording.lower()
    return any(_as_word(word).search(text) for word in words if word)


def _as_word(word: str) -> re.Pattern[str]:
    spaced = r"\s+".join(re.escape(part) for part in word.split())
    return re.compile(rf"(?<!\w){spaced}(?!\w)")


def _base_paths(root: Path, validation_id: int) -> list[str] | None:
    """The path of each page the baseline evaluated, by index; None without its findings."""
    found = artifacts.read_artifact(root, validation_id, FINDINGS)
    if found is None:
        return None
    try:
        pages = json.loads(found[0])["evaluation"]["pages"]
        return [str(page["path"]) for page in pages]
    except (ValueError, KeyError, TypeError):
        return None


def _told(changes: list[VisualChange], unreadable: list[str], label: str) -> str:
    lines = [f"Before/after, against the base branch ({label}):"]
    for change in changes:
        share = f"{change.changed:.0%}"
        if change.large and not change.mentioned:
            lines.append(
                f"  page {change.path}: {share} of its pixels differ from the base branch "
                f"({label}), and the goal does not mention it: reported, not failed"
            )
        elif change.large:
            lines.append(f"  page {change.path}: {share} changed (the goal mentions it)")
        else:
            lines.append(f"  page {change.path}: {share} changed")
    if not changes and not unreadable:
        lines.append("  no page of this evaluation has a screenshot of the base branch's")
    lines += [f"  {line}" for line in unreadable]
    return "\n".join(lines) + "\n"
