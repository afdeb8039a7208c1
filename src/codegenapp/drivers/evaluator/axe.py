"""Accessibility violations of a page, found by axe-core (vendor/axe.min.js, shipped with us,
never fetched: see vendor/README.md).

What comes back is read as the page's word, which it is: the page's own code runs beside axe
and could change its answer. It is a report for people and agents, not a security check.
"""

import functools
import hashlib
from importlib import resources

from playwright.async_api import Page

from codegenapp.drivers.evaluator import AccessibilityViolation, EvaluatorUnavailable

AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
MAX_VIOLATIONS = 50
MAX_TARGETS = 5
_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((found) => ({
    rule: String(found.id), impact: String(found.impact || ""), help: String(found.help),
    targets: found.nodes.slice(0, MAX_TARGETS).map((node) => node.target.join(" ")),
  }));
}""".replace("MAX_TARGETS", str(MAX_TARGETS))


@functools.cache
def axe_source() -> str:
    """axe.min.js, checked against the digest it was vendored with."""
    data = (
        resources.files("codegenapp.drivers.evaluator")
        .joinpath("vendor", "axe.min.js")
        .read_bytes()
    )
    if hashlib.sha256(data).hexdigest() != AXE_SHA256:
        raise EvaluatorUnavailable(
            f"vendor/axe.min.js is not axe-core {AXE_VERSION} as shipped (its digest differs)"
        )
    return data.decode()


async def violations(page: Page) -> tuple[AccessibilityViolation, ...]:
    """The page's violations of axe-core's default rules (WCAG 2 A and AA, best practices)."""
    await page.evaluate(axe_source())
    found = await page.evaluate(_RUN)
    if not isinstance(found, list):
        return ()
    return tuple(_violation(item) for item in found[:MAX_VIOLATIONS] if isinstance(item, dict))


def _violation(item: dict[str, object]) -> AccessibilityViolation:
    targets = item.get("targets")
    return AccessibilityViolation(
        rule=str(item.get("rule", ""))[:100],
        impact=str(item.get("impact", ""))[:20],
        help=str(item.get("help", ""))[:300],
        targets=tuple(str(target)[:200] for target in targets[:MAX_TARGETS])
        if isinstance(targets, list)
        else (),
    )
