// The words every state is shown with: colour only repeats what the word says.
import type { AgentRunStatus, CheckStatus, StepName, StepStatus, ValidationStatus } from "../api/types";

export type Tone = "neutral" | "active" | "waiting" | "good" | "bad";
export type StateWord = { word: string; tone: Tone };

export const RUN_STATES: Record<AgentRunStatus, StateWord> = {
  pending: { word: "Starting", tone: "active" },
  running: { word: "Running", tone: "active" },
  waiting_input: { word: "Waiting for you", tone: "waiting" },
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
