// How an agent run's events change what is cached of it: the run, the lists that show it, and
// its project's last run. A field the event carries is patched; what it does not is read again.
import type { QueryClient } from "@tanstack/react-query";
import { queryKeys } from "../api/query-keys";
import type { AgentRun, AgentRunPage, Event, EventType, PlanDrift, ProjectStats } from "../api/types";
import { isRunStatus } from "../states/state-words";
import type { Handler } from "./apply-event";
import { numberIn, textIn, textsIn } from "./event-data";
import { invalidateStats } from "./project-stats";

export type RunEventType = Extract<EventType, `agent_run_${string}`>;

export const RUN_HANDLERS: Record<RunEventType, Handler> = {
  agent_run_started: (client, event) => {
    invalidateRunLists(client, event);
    invalidateStats(client, event);
  },
  agent_run_progress: patchRunStatus,
  agent_run_fix_requested: patchRunStatus,
  agent_run_plan_ready: (client, event) => {
    const plan = textIn(event.data, "plan");
    patchRun(client, event, (run) => ({ ...run, plan: plan ?? run.plan, response_type: "plan" }));
  },
  agent_run_change_held: (client, event) => {
    patchRunStatus(client, event);
    // The event names the findings; their hunks come with the run.
    invalidateRun(client, event);
  },
  agent_run_change_approved: (client, event) => {
    const head = textIn(event.data, "head_sha");
    patchRun(client, event, (run) =>
      run.held_change?.head_sha === head ? { ...run, held_change: { ...run.held_change, approved: true } } : run,
    );
  },
  agent_run_plan_strayed: (client, event) => {
    const drift = planDriftIn(event.data);
    patchRun(client, event, (run) => ({ ...run, plan_drift: drift ?? run.plan_drift }));
  },
  agent_run_completed: (client, event) => {
    const result = textIn(event.data, "result");
    patchRun(client, event, (run) => ({ ...run, result: result ?? run.result }));
    // The reply's type and the pull request come with the run, not the event.
    invalidateRun(client, event);
    invalidateRunLists(client, event);
    invalidateStats(client, event);
  },
};

function patchRun(client: QueryClient, event: Event, change: (run: AgentRun) => AgentRun): void {
  const runId = numberIn(event.data, "agent_run_id");
  if (runId === null) return;
  const status = event.data.status;
  const apply = (run: AgentRun): AgentRun => {
    const next = change(run);
    return isRunStatus(status) ? { ...next, status, updated_at: event.ts } : next;
  };
  client.setQueryData<AgentRun>(queryKeys.agentRuns.detail(runId), (run) => run && apply(run));
  client.setQueriesData<AgentRunPage>({ queryKey: queryKeys.agentRuns.lists() }, (page) =>
    page && { ...page, items: page.items.map((run) => (run.id === runId ? apply(run) : run)) },
  );
  if (event.project_id !== null && isRunStatus(status)) {
    client.setQueryData<ProjectStats>(queryKeys.projects.stats(event.project_id), (stats) =>
      stats?.last_run?.id === runId
        ? { ...stats, last_run: { ...stats.last_run, status, updated_at: event.ts } }
        : stats,
    );
  }
}

function patchRunStatus(client: QueryClient, event: Event): void {
  patchRun(client, event, (run) => run);
}

function invalidateRun(client: QueryClient, event: Event): void {
  const runId = numberIn(event.data, "agent_run_id");
  if (runId !== null) void client.invalidateQueries({ queryKey: queryKeys.agentRuns.detail(runId) });
}

/** A stray's event carries the whole drift (`PlanDriftRead`'s fields). */
function planDriftIn(data: Event["data"]): PlanDrift | null {
  const headSha = textIn(data, "head_sha");
  const prNumber = numberIn(data, "pr_number");
  const changed = numberIn(data, "changed");
  const unnamed = textsIn(data, "unnamed");
  if (headSha === null || prNumber === null || changed === null || unnamed === null) return null;
  return { head_sha: headSha, pr_number: prNumber, changed, unnamed, strays: data.strays === true };
}

function invalidateRunLists(client: QueryClient, event: Event): void {
  if (event.project_id !== null) {
    void client.invalidateQueries({ queryKey: queryKeys.agentRuns.list(event.project_id) });
  }
}
