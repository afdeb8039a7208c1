// The words every state is shown with: colour only repeats what the word says.
import type {
  AgentRunStatus,
  CheckName,
  CheckStatus,
  Fault,
  IntegrityKind,
  StepName,
  StepStatus,
  ValidationStatus,
} from "../api/types";

export type Tone = "neutral" | "active" | "waiting" | "good" | "bad";
export type StateWord = { word: string; tone: Tone };

export const RUN_STATES: Record<AgentRunStatus, StateWord> = {
  pending: { word: "Starting", tone: "active" },
  running: { word: "Running", tone: "active" },
  waiting_input: { word: "Waiting for you", tone: "waiting" },
  waiting_approval: { word: "Waiting for your approval", tone: "waiting" },
  validating: { word: "Validating", tone: "active" },
  completed: { word: "Completed", tone: "good" },
  failed: { word: "Failed", tone: "bad" },
  cancelled: { word: "Cancelled", tone: "neutral" },
};

export const VALIDATION_STATES: Record<ValidationStatus, StateWord> = {
  queued: { word: "Queued", tone: "neutral" },
  running: { word: "Running", tone: "active" },
  passed: { word: "Passed", tone: "good" },
  failed: { word: "Failed", tone: "bad" },
  cancelled: { word: "Cancelled", tone: "neutral" },
  error: { word: "Error", tone: "bad" },
};

export const STEP_STATES: Record<StepStatus, StateWord> = {
  pending: { word: "Pending", tone: "neutral" },
  running: { word: "Running", tone: "active" },
  passed: { word: "Passed", tone: "good" },
  failed: { word: "Failed", tone: "bad" },
  skipped: { word: "Skipped", tone: "neutral" },
  cancelled: { word: "Cancelled", tone: "neutral" },
};

export const CHECK_STATES: Record<CheckStatus, StateWord> = {
  passed: { word: "Passed", tone: "good" },
  failed: { word: "Failed", tone: "bad" },
  skipped: { word: "Skipped", tone: "neutral" },
};

/** A project's base branch as its newest baseline found it ("main passes", "main fails"). */
export const BASELINE_STATES: Record<ValidationStatus, StateWord> = {
  queued: { word: "Queued", tone: "neutral" },
  running: { word: "Running…", tone: "active" },
  passed: { word: "Passes", tone: "good" },
  failed: { word: "Fails", tone: "bad" },
  cancelled: { word: "Cancelled", tone: "neutral" },
  error: { word: "Could not run", tone: "bad" },
};

/** Whose fault a verdict other than a pass is: a word to scan for, and what it means for the
 * person reading it. */
export const FAULTS: Record<Fault, { word: string; meaning: string }> = {
  code: { word: "Code", meaning: "sent back to the agent" },
  setup: { word: "Setup", meaning: "the base branch fails the same way — fix the project's settings" },
  infrastructure: { word: "Infrastructure", meaning: "the sandbox could not run it" },
};

/** What a held change does to the gate, as a person reads it (the API's `IntegrityKind`). */
export const INTEGRITY_KINDS: Record<IntegrityKind, string> = {
  test_file_deleted: "Test file deleted",
  test_file_emptied: "Test file emptied",
  tests_skipped: "Tests skipped",
  assertions_removed: "Assertions removed",
  ci_config_changed: "CI configuration changed",
  test_config_changed: "Test-runner configuration changed",
  product_config_changed: "CodegenApp configuration changed",
  check_script_changed: "A check's script changed",
};

export const MERGED: StateWord = { word: "Merged", tone: "good" };
export const MERGE_BLOCKED: StateWord = { word: "Merge blocked", tone: "bad" };

/** The validation pipeline in the order it runs, with the names people read. */
export const STEP_NAMES: Record<StepName, string> = {
  snapshot: "Snapshot",
  clone: "Clone",
  deploy: "Build, test and deploy",
  health_check: "Health check",
  web_eval: "Browser evaluation",
  cleanup: "Cleanup",
};
export const PIPELINE = Object.keys(STEP_NAMES) as StepName[];

/** The checks by what their command does; the deploy step runs four of them. */
export const CHECK_NAMES: Record<CheckName, string> = {
  build: "build",
  test: "tests",
  security: "security scan",
  deploy: "deploy command",
  health: "health check",
  web_eval: "browser evaluation",
};

/** Where a validation failed: the step, and its check when the step has more than one
 * ("Build, test and deploy (build)", but "Health check", not "Health check (health check)"). */
export function failedAt(step: StepName | null, check: CheckName | null): string | null {
  if (step === null) return check === null ? null : CHECK_NAMES[check];
  const alone = (step === "health_check" && check === "health") || (step === "web_eval" && check === "web_eval");
  return check === null || alone ? STEP_NAMES[step] : `${STEP_NAMES[step]} (${CHECK_NAMES[check]})`;
}

export function isRunStatus(value: unknown): value is AgentRunStatus {
  return typeof value === "string" && value in RUN_STATES;
}
export function isValidationStatus(value: unknown): value is ValidationStatus {
  return typeof value === "string" && value in VALIDATION_STATES;
}
export function isStepStatus(value: unknown): value is StepStatus {
  return typeof value === "string" && value in STEP_STATES;
}
export function isStepName(value: unknown): value is StepName {
  return typeof value === "string" && value in STEP_NAMES;
}
export function isFault(value: unknown): value is Fault {
  return typeof value === "string" && value in FAULTS;
}
export function isIntegrityKind(value: unknown): value is IntegrityKind {
  return typeof value === "string" && value in INTEGRITY_KINDS;
}
export function isCheckStatus(value: unknown): value is CheckStatus {
  return typeof value === "string" && value in CHECK_STATES;
}

export const FINAL_RUN_STATES: ReadonlySet<AgentRunStatus> = new Set(["completed", "failed", "cancelled"]);
export const FINAL_VALIDATION_STATES: ReadonlySet<ValidationStatus> = new Set([
  "passed",
  "failed",
  "cancelled",
  "error",
]);
