// API-shaped samples, typed by the generated schema so they cannot drift from it.
import type {
  AgentInteraction,
  AgentRun,
  BaselineSummary,
  ErrorBody,
  Event,
  FieldProblem,
  HeldChange,
  PlanDrift,
  Project,
  ProjectSecret,
  ProjectStats,
  PullRequestSummary,
  Step,
  Validation,
} from "../api/types";

const TS = "2026-11-26T09:08:38.000000Z";
const BASE_SHA = "abc1234f7c0e51d2b8a96c3e4d5f60718293a4b5";
const HEAD_SHA = "4a188e216107588305599c8355881204081ab054";

/** An agent's budgets as the API reads them back when none is set. */
export const NO_LIMITS = { runs_per_day: null, minutes_per_run: null };

export const RECIPE = "turns:\n  - plan: |\n      1. Add GET /health\n  - reply: Done.\n";

/** What every error answer of the API carries; `errors` names the fields at fault. */
export function errorBody(detail: string, errors: FieldProblem[] = []): ErrorBody {
  return { detail, errors };
}

export function fieldError(loc: FieldProblem["loc"], msg: string, type = "value_error"): FieldProblem {
  return { loc, msg, type };
}

/** A 422 as the API words it: one line, and each field. */
export function invalid(...errors: FieldProblem[]): ErrorBody {
  const detail = errors.length === 1 ? "1 value is not valid" : `${errors.length} values are not valid`;
  return errorBody(detail, errors);
}

export function project(overrides: Partial<Project> = {}): Project {
  return {
    id: 1,
    name: "shop",
    forge: "local",
    repository: "/srv/git/shop",
    default_branch: "main",
    agent: { provider: "scripted", recipe: RECIPE, budgets: NO_LIMITS },
    deployment_settings: {
      build_command: "",
      deploy_command: "python3 app.py",
      health_check_url: "/health",
      health_check_timeout_seconds: 30,
      environment_variables: {},
      build_environment: {},
      service_environment: {},
      port: 8080,
      sandbox: null,
      image: "",
      resources: { cpus: 2, memory_mb: 4096, pids: 4096, disk_mb: 10240 },
      path_prepend: [],
      network: "registries",
      allowed_hosts: [],
    },
    validation_settings: {
      auto_merge: true,
      required_checks: ["health"],
      timeout_minutes: 30,
      max_retries: 2,
      test_command: "",
      security_command: "",
      validate_base_branch: true,
      merge_method: "merge",
      auto_merge_authors: [],
      validate_drafts: false,
    },
    notification_settings: {
      slack_webhook: "",
      email_notifications: true,
      github_status_updates: true,
      check_run_name: "codegenapp",
    },
    created_at: TS,
    updated_at: TS,
    ...overrides,
  };
}

export function run(overrides: Partial<AgentRun> = {}): AgentRun {
  return {
    id: 7,
    project_id: 1,
    goal: "Add a /health endpoint",
    status: "running",
    response_type: null,
    result: null,
    plan: null,
    pull_request: null,
    validations: [],
    agent: { driver: "scripted", job_id: "7-abc", is_ai: false },
    held_change: null,
    plan_drift: null,
    created_at: TS,
    updated_at: TS,
    ...overrides,
  };
}

/** A turn of run 7: by default its first, the goal sent and the agent's reply. */
export function interaction(overrides: Partial<AgentInteraction> = {}): AgentInteraction {
  return {
    turn: 1,
    kind: "goal",
    prompt: "Add a /health endpoint",
    validation_id: null,
    sent_at: TS,
    answer_kind: "reply",
    answer: "Done.",
    pull_request_number: null,
    answered_at: "2026-11-26T09:10:08.000000Z",
    usage: null,
    ...overrides,
  };
}

/** A change held for approval: by default, run 7's pull request #1 skips a test. */
export function heldChange(overrides: Partial<HeldChange> = {}): HeldChange {
  return {
    head_sha: HEAD_SHA,
    pr_number: 1,
    since: "main",
    findings: [
      {
        kind: "tests_skipped",
        path: "tests/test_health.py",
        hunk: "@@ -3,5 +3,6 @@\n import app\n \n+@pytest.mark.skip\n def test_health():\n-    assert app.health() == 200\n+    pass\n",
      },
    ],
    omitted: 0,
    unchecked: null,
    approved: false,
    ...overrides,
  };
}

/** How run 7's pull request keeps to its confirmed plan: by default, it does. */
export function planDrift(overrides: Partial<PlanDrift> = {}): PlanDrift {
  return { head_sha: HEAD_SHA, pr_number: 1, unnamed: [], changed: 2, strays: false, ...overrides };
}

export function step(name: Step["name"], status: Step["status"], summary: string | null = null): Step {
  return { name, status, summary, started_at: TS, finished_at: status === "running" ? null : TS };
}

/** The pull request a validation checked, as the validation names it: by default the one run 7
 * opened (no author: our own agent's). */
export function pullRequestSummary(overrides: Partial<PullRequestSummary> = {}): PullRequestSummary {
  const number = overrides.number ?? 1;
  return {
    number,
    title: "Add a /health endpoint",
    url: `file:///srv/git/shop#pull-${number}`,
    branch: "codegenapp/run-7",
    author: null,
    ...overrides,
  };
}

export function validation(overrides: Partial<Validation> = {}): Validation {
  const prNumber = overrides.pr_number === undefined ? 1 : overrides.pr_number;
  return {
    id: 3,
    project_id: 1,
    agent_run_id: 7,
    kind: "pull_request",
    pr_number: prNumber,
    pull_request: prNumber === null ? null : pullRequestSummary({ number: prNumber }),
    head_sha: HEAD_SHA,
    base_branch: "main",
    base_sha: BASE_SHA,
    attempt: 1,
    status: "running",
    failed_step: null,
    failed_check: null,
    fault: null,
    reason: null,
    checks: {},
    error_context: null,
    merged: false,
    merge_sha: null,
    merge_blocked_reason: null,
    created_at: TS,
    started_at: TS,
    finished_at: null,
    steps: [step("snapshot", "passed", "sandbox ready"), step("clone", "running")],
    artifacts: [],
    ...overrides,
  };
}

/** A validation of the project's base branch: no agent run, no pull request. */
export function baseline(overrides: Partial<Validation> = {}): Validation {
  return validation({
    id: 2,
    agent_run_id: null,
    kind: "baseline",
    pr_number: null,
    pull_request: null,
    head_sha: BASE_SHA,
    base_sha: null,
    ...overrides,
  });
}

/** The newest baseline as a project's stats name it. */
export function baselineSummary(overrides: Partial<BaselineSummary> = {}): BaselineSummary {
  return {
    id: 2,
    branch: "main",
    sha: BASE_SHA,
    status: "passed",
    failed_step: null,
    failed_check: null,
    reason: "every step passed",
    finished_at: TS,
    ...overrides,
  };
}

export function stats(overrides: Partial<ProjectStats> = {}): ProjectStats {
  return {
    project_id: 1,
    last_run: null,
    last_validation: null,
    baseline: null,
    validations_total: 0,
    validations_passed: 0,
    validations_failed: 0,
    pass_rate: null,
    history: [],
    attempts_per_merged_pr: [],
    ...overrides,
  };
}

let nextId = 100;
export function event(type: Event["type"], data: Event["data"], overrides: Partial<Event> = {}): Event {
  nextId += 1;
  return { id: nextId, type, project_id: 1, data, ts: TS, ...overrides };
}

export function secret(name: string, overrides: Partial<ProjectSecret> = {}): ProjectSecret {
  return { name, created_at: TS, updated_at: TS, ...overrides };
}
