// One line per event, in the words the rest of the dashboard uses.
import type { Event } from "../api/types";
import { numberIn, textIn } from "../live/event-data";
import { shortSha } from "../format/format";
import {
  FAULTS,
  INTEGRITY_KINDS,
  RUN_STATES,
  STEP_NAMES,
  STEP_STATES,
  VALIDATION_STATES,
  isFault,
  isIntegrityKind,
  isRunStatus,
  isStepName,
  isStepStatus,
  isValidationStatus,
  type Tone,
} from "../states/state-words";

export type EventLine = { text: string; tone: Tone };

export function describeEvent(event: Event): EventLine {
  const data = event.data;
  const run = `Run ${numberIn(data, "agent_run_id") ?? "?"}`;
  const validation =
    data.kind === "baseline"
      ? "Validation of the base branch"
      : `Validation of PR #${numberIn(data, "pr_number") ?? "?"} (attempt ${numberIn(data, "attempt") ?? "?"})`;
  const status = data.status;
  switch (event.type) {
    case "project_created":
      return { text: `Project ${textIn(data, "name") ?? ""} created`, tone: "neutral" };
    case "project_updated":
      return { text: `Project ${textIn(data, "name") ?? ""} settings changed`, tone: "neutral" };
    case "project_deleted":
      return { text: `Project ${textIn(data, "name") ?? ""} deleted`, tone: "neutral" };
    case "project_secret_set": {
      // The event names the secret, and whether it is new; a value is never in it.
      const verb = data.created === false ? "replaced" : "set";
      return { text: `Secret ${textIn(data, "name") ?? ""} ${verb}`, tone: "neutral" };
    }
    case "project_secret_deleted":
      return { text: `Secret ${textIn(data, "name") ?? ""} deleted`, tone: "neutral" };
    case "agent_run_started":
      return { text: `${run} started: ${textIn(data, "goal") ?? ""}`, tone: "active" };
    case "agent_run_progress":
      return { text: `${run}: ${textIn(data, "message") ?? "progress"}`, tone: "active" };
    case "agent_run_plan_ready":
      return { text: `${run} proposes a plan: Waiting for you`, tone: "waiting" };
    case "agent_run_fix_requested":
      return { text: `${run}: ${textIn(data, "reason") ?? "asked the agent for a fix"}`, tone: "active" };
    case "agent_run_change_held":
      return { text: `${run} waits for your approval: ${heldChangeText(data)}`, tone: "waiting" };
    case "agent_run_change_approved":
      return { text: `${run}: ${approvedChangeText(data)}`, tone: "active" };
    case "agent_run_plan_strayed":
      // Flagged, not held: amber asks for a look without saying the run is stuck.
      return { text: `${run}: ${planStrayedText(data)}`, tone: "waiting" };
    case "agent_run_completed": {
      const word = isRunStatus(status) ? RUN_STATES[status] : RUN_STATES.completed;
      return { text: `${run} ${word.word.toLowerCase()}: ${textIn(data, "result") ?? ""}`, tone: word.tone };
    }
    case "validation_queued":
      return { text: `${validation} queued`, tone: "neutral" };
    case "validation_started":
      return { text: `${validation} started`, tone: "active" };
    case "validation_progress": {
      const step = data.step;
      const stepStatus = data.step_status;
      if (!isStepName(step) || !isStepStatus(stepStatus)) return { text: `${validation} resumed`, tone: "active" };
      const word = STEP_STATES[stepStatus];
      const summary = textIn(data, "summary");
      return {
        text: `${validation}: ${STEP_NAMES[step]} ${word.word.toLowerCase()}${summary ? ` (${summary})` : ""}`,
        tone: word.tone,
      };
    }
    case "validation_completed": {
      const word = isValidationStatus(status) ? VALIDATION_STATES[status] : VALIDATION_STATES.error;
      const fault = isFault(data.fault) ? ` (${FAULTS[data.fault].word.toLowerCase()}: ${FAULTS[data.fault].meaning})` : "";
      return { text: `${validation} ${word.word.toLowerCase()}${fault}: ${textIn(data, "reason") ?? ""}`, tone: word.tone };
    }
    case "merge_blocked":
      return { text: `Merge blocked: ${textIn(data, "reason") ?? ""}`, tone: "bad" };
    case "pull_request_opened":
      return { text: `Pull request #${numberIn(data, "number") ?? "?"} opened at ${shortSha(textIn(data, "head_sha"))}`, tone: "neutral" };
    case "pull_request_updated":
      return { text: `Pull request #${numberIn(data, "number") ?? "?"} updated to ${shortSha(textIn(data, "head_sha"))}`, tone: "neutral" };
    case "pull_request_merged":
      return { text: `Merged: pull request #${numberIn(data, "number") ?? "?"} as ${shortSha(textIn(data, "merge_sha"))}`, tone: "good" };
    case "validation_log":
      return { text: "Log output", tone: "neutral" };
    case "webhook_processed": {
      const what = [textIn(data, "event"), textIn(data, "action")].filter(Boolean).join(".");
      const failed = data.status === "failed";
      return { text: `Webhook ${what}: ${textIn(data, "note") ?? ""}`, tone: failed ? "bad" : "neutral" };
    }
  }
}

type Data = Event["data"];

const pullRequestAt = (data: Data) =>
  `PR #${numberIn(data, "pr_number") ?? "?"} at ${shortSha(textIn(data, "head_sha"))}`;

/** How many findings of a held change a line names; the rest are counted. */
const FINDINGS_NAMED = 2;

/** What a held change does to the gate, from its event: the first findings' kinds and paths
 * (the hunks are on the run), or why its diff was not read. */
export function heldChangeText(data: Data): string {
  const unchecked = textIn(data, "unchecked");
  if (unchecked) return `${pullRequestAt(data)} is held whole: ${unchecked}`;
  const findings = (Array.isArray(data.findings) ? data.findings : []).flatMap((finding: unknown) => {
    if (typeof finding !== "object" || finding === null) return [];
    const { kind, path } = finding as Record<string, unknown>;
    return isIntegrityKind(kind) && typeof path === "string" ? [`${INTEGRITY_KINDS[kind]} (${path})`] : [];
  });
  const more = findings.length - FINDINGS_NAMED + (numberIn(data, "omitted") ?? 0);
  const named = findings.slice(0, FINDINGS_NAMED).join(", ") || "It bends the gate";
  return `${named}${more > 0 ? ` and ${more} more` : ""}, in ${pullRequestAt(data)}`;
}

export function approvedChangeText(data: Data): string {
  return `Change approved at ${shortSha(textIn(data, "head_sha"))} (PR #${numberIn(data, "pr_number") ?? "?"})`;
}

export function planStrayedText(data: Data): string {
  const unnamed = Array.isArray(data.unnamed) ? data.unnamed.length : "?";
  const changed = numberIn(data, "changed") ?? "?";
  return `${pullRequestAt(data)} strays from the confirmed plan (${unnamed} of ${changed} changed files are not named in it)`;
}
