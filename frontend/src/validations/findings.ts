// The browser evaluation's findings artifact (findings.json), read defensively: it is written
// by the evaluator (drivers/evaluator/report.py `findings_json`), not described by the API
// schema, so every field is checked and anything unexpected is dropped rather than trusted.

export type Observed = {
  consoleErrors: Array<{ text: string; location: string | null }>;
  pageErrors: Array<{ message: string; location: string | null }>;
  failedRequests: Array<{ method: string; url: string; status: number | null; reason: string }>;
  blockedRequests: Array<{ url: string; resource: string }>;
};

export type PageFindings = { path: string; status: number | null; error: string | null; seen: Observed };

export type ScenarioStep = { index: number; action: string; expected: string; seen: string; passed: boolean };

/** `fromPlan`: one of the acceptance checks the run's plan listed; `name` is then its own name,
 * without the "from the plan: " it was played under. */
export type ScenarioFindings = { name: string; fromPlan: boolean; steps: ScenarioStep[]; seen: Observed };

/** The AI judge's judgement: a verdict with the model's reasons, or none and why not. */
export type JudgeFindings = {
  gate: boolean;
  verdict: "meets" | "does_not_meet" | "unsure" | null;
  reasons: string[];
  model: string | null;
  noVerdict: string | null;
};

/** A page's screenshot against the base branch's (web_eval's before/after): reported, never a
 * failure. `large` and not `mentioned` is what a person should look at. */
export type VisualChange = {
  path: string;
  changed: number; // 0 … 1, of the pixels
  screenshot: string; // artifact names, both of this validation
  baseScreenshot: string;
  base: string; // "main at abc1234"
  mentioned: boolean; // the goal or plan names the page
  large: boolean;
};

export type Findings = {
  passed: boolean | null;
  problems: string[];
  judge: JudgeFindings | null; // null: the project did not ask for the AI judge
  planNotes: string[]; // why some of the plan's acceptance checks were not run
  pages: PageFindings[];
  scenarios: ScenarioFindings[];
  visualChanges: VisualChange[]; // none: not a pull request, or no base to compare with
};

type Fields = Record<string, unknown>;

function fields(value: unknown): Fields | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Fields) : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" ? value : null;
}

/** Keeps the items `read` makes sense of, and drops the others. */
function each<T>(value: unknown, read: (item: Fields) => T | null): T[] {
  return list(value).flatMap((item) => {
    const itemFields = fields(item);
    const kept = itemFields ? read(itemFields) : null;
    return kept === null ? [] : [kept];
  });
}

/** "/app.js:3:9", as the evaluator writes a `SourceLocation`. */
function location(value: unknown): string | null {
  const at = fields(value);
  if (!at || typeof at.url !== "string") return null;
  return [at.url, at.line, at.column].filter((part) => part !== undefined && part !== null).join(":");
}

function observed(value: unknown, ownPath: string | null = null): Observed {
  const seen = fields(value) ?? {};
  return {
    consoleErrors: each(seen.console_errors, (item) => ({ text: text(item.text), location: location(item.location) })),
    pageErrors: each(seen.page_errors, (item) => ({ message: text(item.message), location: location(item.location) })),
    failedRequests: each(seen.failed_requests, (item) =>
      // A page's own answer is its status, not a failed request (as report.py `_seen_on` says).
      item.url === ownPath
        ? null
        : { method: text(item.method), url: text(item.url), status: numberOrNull(item.status), reason: text(item.reason) },
    ),
    blockedRequests: each(seen.blocked_requests, (item) => ({ url: text(item.url), resource: text(item.resource) })),
  };
}

// An artifact's name as the API accepts it (domain/artifacts.py NAME_PATTERN), a PNG here: a name
// that is not one is dropped rather than put in a URL.
const SCREENSHOT_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*\.png$/;

function visualChange(change: Fields): VisualChange | null {
  const { screenshot, base_screenshot: baseScreenshot } = change;
  if (typeof screenshot !== "string" || !SCREENSHOT_NAME.test(screenshot)) return null;
  if (typeof baseScreenshot !== "string" || !SCREENSHOT_NAME.test(baseScreenshot)) return null;
  if (typeof change.changed !== "number") return null;
  return {
    path: text(change.path),
    changed: Math.min(1, Math.max(0, change.changed)),
    screenshot,
    baseScreenshot,
    base: text(change.base),
    mentioned: change.mentioned === true,
    large: change.large === true,
  };
}

const VERDICTS = ["meets", "does_not_meet", "unsure"] as const;
const PLAN_PREFIX = "from the plan: ";

function scenarioName(name: string, fromPlan: boolean): string {
  return fromPlan && name.startsWith(PLAN_PREFIX) ? name.slice(PLAN_PREFIX.length) : name;
}

function judgeFindings(value: unknown): JudgeFindings | null {
  const judge = fields(value);
  if (!judge) return null;
  const verdict = VERDICTS.find((known) => known === judge.verdict) ?? null;
  return {
    gate: judge.gate === true,
    verdict,
    reasons: list(judge.reasons).filter((reason): reason is string => typeof reason === "string"),
    model: typeof judge.model === "string" ? judge.model : null,
    // A verdict this dashboard does not know reads as none, said so rather than guessed at.
    noVerdict: typeof judge.no_verdict === "string" ? judge.no_verdict : verdict === null ? "no verdict recorded" : null,
  };
}

/** The findings, or null when `json` is not shaped like them (then show it as it is). */
export function readFindings(json: unknown): Findings | null {
  const body = fields(json);
  const evaluation = fields(body?.evaluation);
  if (!body || !evaluation || !Array.isArray(evaluation.pages)) return null;
  return {
    passed: typeof body.passed === "boolean" ? body.passed : null,
    problems: list(body.problems).filter((problem): problem is string => typeof problem === "string"),
    judge: judgeFindings(body.judge),
    planNotes: list(fields(body.plan)?.notes).filter((note): note is string => typeof note === "string"),
    pages: each(evaluation.pages, (page) => {
      const path = text(page.path);
      return { path, status: numberOrNull(page.status), error: typeof page.error === "string" ? page.error : null, seen: observed(page.seen, path) };
    }),
    scenarios: each(evaluation.scenarios, (run) => ({
      name: scenarioName(text(run.name), run.from_plan === true),
      fromPlan: run.from_plan === true,
      steps: each(run.steps, (step) => ({
        index: typeof step.index === "number" ? step.index : 0,
        action: text(step.action),
        expected: text(step.expected),
        seen: text(step.seen),
        passed: step.passed === true,
      })),
      seen: observed(run.seen),
    })),
    visualChanges: each(body.visual_changes, visualChange),
  };
}
