// How one live event changes what the dashboard has cached: patched in place where the event
// carries the new values, otherwise the precise queries it makes stale are refetched.
//
// Events are applied in id order, and every field patched here is carried by every later event
// that changes it, so replaying events a cached read already reflects converges to the same state.
// An agent run's events are in run-events.ts; a project's stats are patched in project-stats.ts.
import type { QueryClient } from "@tanstack/react-query";
import { queryKeys } from "../api/query-keys";
import type { AgentRun, Event, EventType, LiveEvent, Validation, ValidationPage } from "../api/types";
import { isCheckStatus, isFault, isStepName, isStepStatus, isValidationStatus } from "../states/state-words";
import { numberIn, textIn } from "./event-data";
import { invalidateStats, patchBaseline } from "./project-stats";
import { RUN_HANDLERS } from "./run-events";
import { appendLiveLog } from "./step-log-buffer";

/** How many events an activity feed keeps. */
export const FEED_LENGTH = 100;

export function applyEvent(client: QueryClient, event: LiveEvent): void {
  if (event.id === null) {
    if (event.type === "validation_log") appendLog(client, event);
    return;
  }
  const stored: Event = { ...event, id: event.id };
  addToFeeds(client, stored);
  const runId = numberIn(event.data, "agent_run_id");
  if (runId !== null) {
    addToRunEvents(client, runId, stored);
    invalidateInteractions(client, runId);
  }
  handlers[event.type](client, stored);
}

export type Handler = (client: QueryClient, event: Event) => void;

const handlers: Record<EventType, Handler> = {
  ...RUN_HANDLERS,
  validation_queued: (client, event) => {
    const runId = numberIn(event.data, "agent_run_id");
    if (runId !== null) {
      void client.invalidateQueries({ queryKey: queryKeys.validations.ofRun(runId) });
      void client.invalidateQueries({ queryKey: queryKeys.agentRuns.detail(runId) });
    }
    invalidateProjectValidations(client, event);
    invalidateStats(client, event);
  },
  validation_started: (client, event) => {
    patchValidationStep(client, event);
    patchBaseline(client, event, (baseline) => baseline);
  },
  validation_progress: (client, event) => {
    patchBaseline(client, event, (baseline) => baseline);
    const id = numberIn(event.data, "validation_id");
    if (event.data.restarted === true && id !== null) {
      // Resumed after a crash: its steps start over, as stored.
      void client.invalidateQueries({ queryKey: queryKeys.validations.detail(id) });
      void client.invalidateQueries({ queryKey: queryKeys.validations.lists() });
      return;
    }
    patchValidationStep(client, event);
  },
  validation_completed: (client, event) => {
    const failedStep = isStepName(event.data.failed_step) ? event.data.failed_step : null;
    const fault = isFault(event.data.fault) ? event.data.fault : null;
    const reason = textIn(event.data, "reason");
    const checks = event.data.checks;
    patchValidation(client, event, (validation) => ({
      ...validation,
      failed_step: failedStep,
      fault,
      reason: reason ?? validation.reason,
      checks: checksOf(checks) ?? validation.checks,
    }));
    patchBaseline(client, event, (baseline) => ({
      ...baseline,
      failed_step: failedStep,
      reason: reason ?? baseline.reason,
      finished_at: event.ts,
    }));
    // The error context, finishing times and closed steps come with the validation.
    invalidateValidation(client, event);
    invalidateProjectValidations(client, event);
    invalidateStats(client, event);
  },
  merge_blocked: (client, event) => {
    const reason = textIn(event.data, "reason");
    patchValidation(client, event, (validation) => ({ ...validation, merge_blocked_reason: reason }));
  },
  pull_request_opened: invalidatePullRequests,
  pull_request_updated: invalidatePullRequests,
  pull_request_merged: (client, event) => {
    invalidatePullRequests(client, event);
    void client.invalidateQueries({ queryKey: queryKeys.validations.lists() });
    void client.invalidateQueries({
      predicate: (query) => query.queryKey[0] === "validations" && query.queryKey[1] === "detail",
    });
    invalidateStats(client, event);
  },
  project_created: (client) => {
    void client.invalidateQueries({ queryKey: queryKeys.projects.list() });
  },
  project_updated: (client, event) => {
    void client.invalidateQueries({ queryKey: queryKeys.projects.list() });
    if (event.project_id !== null) {
      void client.invalidateQueries({ queryKey: queryKeys.projects.detail(event.project_id) });
    }
  },
  project_deleted: (client, event) => {
    void client.invalidateQueries({ queryKey: queryKeys.projects.list() });
    if (event.project_id !== null) {
      void client.invalidateQueries({ queryKey: queryKeys.projects.detail(event.project_id) });
    }
  },
  project_secret_set: invalidateSecrets,
  project_secret_deleted: invalidateSecrets,
  webhook_processed: () => undefined, // the activity feed shows it; no view holds deliveries
  validation_log: () => undefined, // live only: handled before, it has no id
};

function invalidateSecrets(client: QueryClient, event: Event): void {
  // The event names the secret, never its value: the list is read again.
  if (event.project_id !== null) {
    void client.invalidateQueries({ queryKey: queryKeys.projects.secrets(event.project_id) });
  }
}

// --- the activity feed and a run's own story -------------------------------------------------

function addToFeeds(client: QueryClient, event: Event): void {
  const feeds = event.project_id === null ? [null] : [null, event.project_id];
  for (const projectId of feeds) {
    client.setQueryData<Event[]>(queryKeys.events.feed(projectId), (feed) =>
      feed === undefined ? undefined : newestFirst(feed, event),
    );
  }
}

export function newestFirst(feed: Event[], event: Event): Event[] {
  if (feed.some((seen) => seen.id === event.id)) return feed;
  const next = [...feed, event].sort((a, b) => b.id - a.id);
  return next.slice(0, FEED_LENGTH);
}

function addToRunEvents(client: QueryClient, runId: number, event: Event): void {
  client.setQueryData<Event[]>(queryKeys.events.ofRun(runId), (events) => {
    if (events === undefined || events.some((seen) => seen.id === event.id)) return events;
    return [...events, event].sort((a, b) => a.id - b.id);
  });
}

/** A turn starts and ends with one of its run's events (progress, a fix requested, a plan ready,
 * the run completed), but none carries the prompt or the answer: the turns are read again. */
function invalidateInteractions(client: QueryClient, runId: number): void {
  void client.invalidateQueries({ queryKey: queryKeys.agentRuns.interactions(runId) });
}

// --- pull requests ---------------------------------------------------------------------------

function invalidatePullRequests(client: QueryClient, event: Event): void {
  // These events name the pull request, not the run or the validation: refresh the project's
  // runs and the validations of its pull requests.
  if (event.project_id === null) return;
  const projectId = event.project_id;
  void client.invalidateQueries({ queryKey: queryKeys.agentRuns.list(projectId) });
  void client.invalidateQueries({ queryKey: queryKeys.validations.ofProject(projectId) });
  void client.invalidateQueries({
    predicate: (query) => {
      const [resource, kind] = query.queryKey;
      const run = query.state.data as AgentRun | undefined;
      return resource === "agent-runs" && kind === "detail" && run?.project_id === projectId;
    },
  });
}

// --- validations -----------------------------------------------------------------------------

function patchValidation(
  client: QueryClient,
  event: Event,
  change: (validation: Validation) => Validation,
): void {
  const id = numberIn(event.data, "validation_id");
  if (id === null) return;
  const status = event.data.status;
  const apply = (validation: Validation): Validation => {
    const next = change(validation);
    return isValidationStatus(status) ? { ...next, status } : next;
  };
  client.setQueryData<Validation>(queryKeys.validations.detail(id), (v) => v && apply(v));
  client.setQueriesData<ValidationPage>({ queryKey: queryKeys.validations.lists() }, (page) =>
    page && { ...page, items: page.items.map((v) => (v.id === id ? apply(v) : v)) },
  );
}

function patchValidationStep(client: QueryClient, event: Event): void {
  const step = event.data.step;
  const stepStatus = event.data.step_status;
  const summary = textIn(event.data, "summary");
  patchValidation(client, event, (validation) => {
    const started = validation.started_at ?? event.ts;
    if (!isStepName(step) || !isStepStatus(stepStatus)) return { ...validation, started_at: started };
    const before = validation.steps.find((candidate) => candidate.name === step);
    const running = stepStatus === "running";
    const after = {
      name: step,
      status: stepStatus,
      summary: running ? null : (summary ?? before?.summary ?? null),
      started_at: running ? event.ts : (before?.started_at ?? null),
      finished_at: running || stepStatus === "pending" ? null : event.ts,
    };
    const steps = before
      ? validation.steps.map((candidate) => (candidate.name === step ? after : candidate))
      : [...validation.steps, after];
    return { ...validation, started_at: started, steps };
  });
}

function invalidateValidation(client: QueryClient, event: Event): void {
  const id = numberIn(event.data, "validation_id");
  if (id !== null) void client.invalidateQueries({ queryKey: queryKeys.validations.detail(id) });
  const runId = numberIn(event.data, "agent_run_id");
  if (runId !== null) void client.invalidateQueries({ queryKey: queryKeys.validations.ofRun(runId) });
}

/** A pull request's validation queued or finished: the project's list gains it, or its merge and
 * finishing time (which the event does not carry). A baseline is in no such list. */
function invalidateProjectValidations(client: QueryClient, event: Event): void {
  if (event.project_id === null || event.data.kind === "baseline") return;
  void client.invalidateQueries({ queryKey: queryKeys.validations.ofProject(event.project_id) });
}

function checksOf(value: unknown): Validation["checks"] | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const checks: Validation["checks"] = {};
  for (const [name, status] of Object.entries(value)) {
    if (isCheckStatus(status)) checks[name] = status;
  }
  return checks;
}

function appendLog(client: QueryClient, event: LiveEvent): void {
  const id = numberIn(event.data, "validation_id");
  const step = textIn(event.data, "step");
  const text = textIn(event.data, "text");
  if (id !== null && step !== null && text) appendLiveLog(client, id, step, text);
}
