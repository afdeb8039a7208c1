"""Plans: telling one from an answer, the paths it names, and whether a fix kept to them."""

import pytest

from codegenapp.domain.plans import (
    MIN_STRAY_FILES,
    PlanDrift,
    paths_named,
    plan_drift,
    reads_as_plan,
    strays_from_plan,
)

PLANS = {
    "codegen-plan-heading": """\
I'll add rate limiting to the public API.

## Plan
1. Create `src/api/rate_limit.py` with a token-bucket limiter keyed by API token.
2. Register the middleware in `src/api/app.py`.
3. Add `tests/api/test_rate_limit.py` covering the 429 response and the `Retry-After` header.

Shall I proceed?""",
    "claude-code-here-is-my-plan": """\
Here's my plan to fix the flaky checkout test:

1. **Find the race**: `tests/e2e/checkout.spec.ts` clicks "Pay" before the total has loaded.
2. **Wait for the state**: replace `waitForTimeout(500)` with `await expect(total).toHaveText(…)`.
3. **Harden the component**: disable Pay in `src/components/Checkout.tsx` until the total is known.

Let me know if you'd like me to go ahead with this approach.""",
    "aider-files-to-modify": """\
To add discount codes we need to modify these files:

- `cart.py`: add an `apply_discount(code)` method that looks the code up in `DISCOUNTS`.
- `discounts.py`: new module holding the `DISCOUNTS` table.
- `test_cart.py`: tests for a valid code, an unknown code and an expired one.

Then `checkout.py` should call `apply_discount` before computing tax.""",
    "devin-proposed-changes": """\
### Proposed changes

**Backend**
- Add a `last_login_at` column to `users` (migration `migrations/0042_last_login.py`).
- Set it in `auth/views.py` on successful login.

**Frontend**
- Show it on the profile page (`web/src/pages/Profile.tsx`).

I'll wait for your confirmation before I start.""",
    "terse-plan-colon": """\
Plan:
1. Bump requests to 2.32 in requirements.txt
2. Re-run the test suite
3. Fix any deprecation warnings""",
    "step-by-step": """\
Step 1: Reproduce the bug with a failing test in tests/test_parser.py.
Step 2: Fix the off-by-one in src/parser/lexer.py where `pos` is advanced twice.
Step 3: Run the full suite and add an entry to CHANGELOG.md.""",
    "files-to-change": """\
Files to change:
- `src/billing/invoice.py` — round each line before summing, not the total
- `src/billing/tests/test_invoice.py` — add a case with three lines of 0.333

No schema or API change is needed.""",
    "prose-first-then": """\
I'm going to tackle this in three parts. First, I'll extract the retry logic from `client.py` \
into `retry.py` so it can be tested on its own. Then I'll replace the hand-written loop with \
tenacity, capped at five attempts with exponential backoff. Finally I'll add tests for the cap.""",
    "approach-would-you-like": """\
Approach:
1. Add a `--dry-run` flag to the `deploy` command in `cli.py`.
2. When it is set, print the actions instead of running them.
3. Cover it with a CLI test in `tests/test_cli.py`.

Would you like me to proceed?""",
    "checklist-once-you-confirm": """\
- [ ] Update `Dockerfile` to use python:3.12-slim
- [ ] Pin `uvicorn` in requirements.txt
- [ ] Adjust the healthcheck in `docker-compose.yml`

I will make these changes once you confirm.""",
    "implementation-plan-with-context": """\
## Implementation plan

The webhook handler acknowledges before storing the delivery, so a crash loses it.

1. Store the delivery in `webhooks/store.py` before answering 2xx.
2. Make processing idempotent on the delivery id.
3. Add a test that replays the same delivery twice.

Risks: the store adds one write per webhook; acceptable at our volume.""",
    "aider-following-edits": """\
I will make the following edits:

1. In `app/models.py`, add a `slug` field to `Article` with a unique index.
2. In `app/views.py`, look articles up by slug instead of id.
3. Add a data migration to fill slugs for existing rows.""",
    "lower-case-ok-to-proceed": """\
here's what i'd do:
- move the env parsing out of `settings.py` into `config/env.py`
- validate PORT as an int
- fail fast at startup with a clear message
ok to proceed?""",
    "claude-code-todo-boxes": """\
I'll start by reading the failing CI log, then:

☐ Fix the import cycle between `orders/service.py` and `orders/events.py`
☐ Move `OrderPlaced` into `orders/types.py`
☐ Re-run `pytest tests/orders`""",
    "proposed-fix-should-i": """\
I looked at the failing test: `test_export_csv` expects a header row the exporter never writes.

Proposed fix:
1. Write the header in `exporter/csv.py` when the file is new.
2. Keep appends header-free.

Should I go ahead?""",
    "prose-i-plan-to": """\
I plan to upgrade the project from React 17 to React 18: switch `src/index.tsx` to `createRoot`, \
update @testing-library/react, and fix the act() warnings in `src/components/__tests__/`. \
I'll keep the changes in one pull request.""",
}

ANSWERS = {
    "why-it-fails": "The test fails because `total()` returns a float and `0.1 + 0.2 != 0.3`. "
    "Compare with `pytest.approx(0.3)` instead of `==`.",
    "nothing-to-change": "No change is needed: `parse_date` already accepts ISO 8601 with a "
    "timezone offset, see `src/dates.py` line 40.",
    "numbered-explanation": """\
The 502 comes from nginx giving up after 60 s while gunicorn still builds the export:

1. nginx accepts the request
2. gunicorn hands it to a worker
3. the worker builds the CSV in memory

Raising `proxy_read_timeout` hides it; streaming the CSV fixes it.""",
    "asks-for-more": "I will need the full stack trace to say more. Could you paste the output "
    "of `pytest -x -vv tests/test_api.py`?",
    "bulleted-options": """\
There are three common ways to deploy this:
- Docker on a VM
- a managed platform like Fly.io or Render
- Kubernetes, if you already run a cluster

For a single service, Docker on a VM is simplest.""",
    "done-already": "I fixed the typo in `README.md` and updated the install command in "
    "`docs/setup.md`. The CI config needed no change.",
    "where-it-is-computed": "Yes — `Cart.total` is computed in cents (an int) and only "
    "formatted as euros in `templates/cart.html`, so there is no rounding error there.",
    "thanks": "Thanks! Glad it works now.",
    "pricing-plan": "Your current plan (Free) allows 3 projects. Upgrading to Team raises the "
    "limit to 50 and adds SSO; the change takes effect at once and is prorated.",
    "here-is-the-trace-explained": """\
Here is the stack trace explained:
- `KeyError: 'user'` is raised in `auth/session.py`
- the session middleware runs after the view, so `request.session` is still empty

The order of `MIDDLEWARE` in `settings.py` is the cause.""",
    "report-of-work-done": """\
I've added the `--verbose` flag and updated the tests:

1. `cli.py` parses `--verbose`
2. `log.py` sets DEBUG when it is given
3. `tests/test_cli.py` covers both

All 42 tests pass.""",
    "report-with-the-following-changes": """\
I've fixed the flaky test and added a regression test. The following changes are on the branch:

1. `tests/e2e/checkout.spec.ts` waits for the total instead of sleeping
2. `src/components/Checkout.tsx` disables Pay until the total is loaded

I'll open the pull request once CI is green.""",
    "installer-step-1": "Step 1 of the installer failed because port 5432 is taken by a local "
    "PostgreSQL. Stop it or set `DB_PORT=5433` in `.env`, then re-run the installer.",
    "how-to-run-tests": """\
To run the tests locally:

1. `python -m venv .venv`
2. `.venv/bin/pip install -e '.[dev]'`
3. `.venv/bin/pytest`

They take about a minute.""",
    "advice": "I would avoid mocking `datetime` here; inject a clock instead, as "
    "`billing/clock.py` already does for invoices. It keeps the tests honest.",
    "cannot-reproduce": "I'll be honest: I could not reproduce the failure. `pytest "
    "tests/test_sync.py -p no:randomly` passes 50 times in a row on main. Could it depend on "
    "the order of the tests in your run?",
    "review-of-their-plan": "Your plan looks good, but step 2 will break the migration order: "
    "`0042_add_slug.py` must run before the backfill. Swap steps 2 and 3.",
    "first-then-explanation": "First the request reaches nginx, then gunicorn, and finally "
    "Django's middleware, which is where the session is loaded.",
}


@pytest.mark.parametrize("text", PLANS.values(), ids=PLANS.keys())
def test_an_agents_plan_reads_as_a_plan(text: str) -> None:
    assert reads_as_plan(text)


@pytest.mark.parametrize("text", ANSWERS.values(), ids=ANSWERS.keys())
def test_an_answer_or_explanation_does_not_read_as_a_plan(text: str) -> None:
    assert not reads_as_plan(text)


def test_the_paths_a_plan_names_are_found_in_backticks_and_in_prose() -> None:
    plan = """\
1. Fix `src/cart.py:42` and ./src/tax.py (see [the guide](docs/guide.md)).
2. Add **tests/test_cart.py** and run `tests/test_cart.py::test_total`.
3. Touch everything under `web/components/` and in scripts/ too; read `src/utils`.
4. Copy `.env` into README.md, then edit the `Makefile` and Dockerfile.
"""
    assert paths_named(plan) == {
        "src/cart.py",
        "src/tax.py",
        "docs/guide.md",
        "tests/test_cart.py",
        "web/components/",
        "scripts/",
        "src/utils",
        ".env",
        "README.md",
        "Makefile",
        "Dockerfile",
    }


@pytest.mark.parametrize(
    "text",
    [
        "see https://github.com/acme/shop/blob/main/src/cart.py or www.acme.dev/docs/setup.md",
        "bump Python to 3.11 and the app to v1.2.3",
        "works with TCP/IP, read and/or write, e.g. at 50 km/h",
        "we deploy with Node.js and Vue.js behind example.com",
        "call `cart.total()` or `npm test` then `self.items`",
    ],
    ids=["url", "versions", "slashed-words", "tool-names", "code-not-paths"],
)
def test_urls_versions_and_words_are_not_paths(text: str) -> None:
    assert paths_named(text) == frozenset()


def test_a_fix_that_changes_only_what_the_plan_named_does_not_stray() -> None:
    named = frozenset({"src/cart.py", "web/components/", "CHANGELOG.md"})
    changed = [
        "src/cart.py",
        "./web/components/Total.tsx",
        "web/components/deep/Row.tsx",
        "CHANGELOG.md",
    ]
    assert plan_drift(named, changed) == PlanDrift(unnamed=(), changed=4, strays=False)


@pytest.mark.parametrize(
    "test_file",
    ["tests/test_cart.py", "tests/cart_test.py", "web/cart.test.ts", "src/test/CartTest.java"],
)
def test_the_test_file_of_a_named_module_counts_as_named(test_file: str) -> None:
    assert plan_drift(frozenset({"src/cart.py"}), [test_file]).unnamed == ()


def test_a_plan_naming_absolute_paths_covers_the_repositorys_own() -> None:
    named = paths_named("I'll edit `/workspace/shop/web/src/index.ts` and /workspace/shop/api/")
    drift = plan_drift(named, ["web/src/index.ts", "api/routes.py", "web/index.ts"])
    assert drift.unnamed == ("web/index.ts",)


def test_a_shared_generic_name_does_not_count_as_named() -> None:
    named = frozenset({"web/src/index.ts", "pkg/__init__.py"})
    drift = plan_drift(named, ["api/index.ts", "src/index.ts", "pkg/__init__.py"])
    assert drift.unnamed == ("api/index.ts", "src/index.ts")


def test_a_fix_mostly_outside_its_plan_strays() -> None:
    named = paths_named("Plan:\n1. Fix `src/cart.py`\n2. Test it in `tests/test_cart.py`")
    changed = ["src/cart.py", "src/auth.py", "src/db.py", "deploy/app.yaml", "src/cart.py"]
    drift = plan_drift(named, changed)
    assert drift == PlanDrift(
        unnamed=("src/auth.py", "src/db.py", "deploy/app.yaml"), changed=4, strays=True
    )


def test_half_the_files_or_fewer_than_three_unnamed_is_no_stray() -> None:
    named = frozenset({"a.py", "b.py", "c.py"})
    half = plan_drift(named, ["a.py", "b.py", "c.py", "x.py", "y.py", "z.py"])
    assert (len(half.unnamed), half.strays) == (3, False)
    two = plan_drift(named, ["x.py", "y.py"])
    assert (two.unnamed, two.strays) == (("x.py", "y.py"), False)


@pytest.mark.parametrize(
    ("unnamed", "changed", "strays"),
    [
        (MIN_STRAY_FILES, MIN_STRAY_FILES, True),
        (MIN_STRAY_FILES - 1, MIN_STRAY_FILES - 1, False),
        (3, 5, True),
        (3, 6, False),
        (10, 19, True),
        (0, 0, False),
    ],
)
def test_the_stray_rule_needs_a_majority_and_a_minimum(
    unnamed: int, changed: int, strays: bool
) -> None:
    assert strays_from_plan(unnamed=unnamed, changed=changed) is strays
