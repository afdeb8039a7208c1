import { queryKeys } from "../api/query-keys";
import type { AgentRun, ProjectStats } from "../api/types";
import { makeTestClient } from "../testing/render";
import { event, heldChange, interaction, planDrift, run, stats } from "../testing/samples";
import { applyEvent } from "./apply-event";

describe("applyEvent for an agent run", () => {
  it("shows a plan and the run waiting for its person", () => {
    const client = makeTestClient();
    client.setQueryData(queryKeys.agentRuns.detail(7), run());
    applyEvent(client, event("agent_run_plan_ready", { agent_run_id: 7, status: "waiting_input", plan: "1. Do it" }));
    expect(client.getQueryData<AgentRun>(queryKeys.agentRuns.detail(7))).toMatchObject({
      status: "waiting_input",
      plan: "1. Do it",
      response_type: "plan",
    });
  });

  it("keeps a project card's last run in step with the run", () => {
    const client = makeTestClient();
    const lastRun = { id: 7, goal: "Add a /health endpoint", status: "running" as const, updated_at: "2026-11-26T09:00:00Z" };
    client.setQueryData(queryKeys.projects.stats(1), stats({ last_run: lastRun }));
    applyEvent(client, event("agent_run_progress", { agent_run_id: 7, status: "validating", message: "Validating" }));
    expect(client.getQueryData<ProjectStats>(queryKeys.projects.stats(1))?.last_run?.status).toBe("validating");
  });

  it("shows a run waiting for a change's approval, and reads the run again for the findings' hunks", async () => {
    const client = makeTestClient();
    await client.prefetchQuery({ queryKey: queryKeys.agentRuns.detail(7), queryFn: () => run() });
    const findings = [{ kind: "tests_skipped", path: "tests/test_health.py" }];
    applyEvent(
      client,
      event("agent_run_change_held", { agent_run_id: 7, status: "waiting_approval", pr_number: 1, head_sha: "4a188e2", findings }),
    );
    expect(client.getQueryData<AgentRun>(queryKeys.agentRuns.detail(7))?.status).toBe("waiting_approval");
    expect(client.getQueryState(queryKeys.agentRuns.detail(7))?.isInvalidated).toBe(true);
  });

  it("marks the held change approved, and only the one at the approved head", () => {
    const client = makeTestClient();
    const held = heldChange();
    client.setQueryData(queryKeys.agentRuns.detail(7), run({ status: "waiting_approval", held_change: held }));
    client.setQueryData(queryKeys.agentRuns.detail(8), run({ id: 8, status: "waiting_approval", held_change: held }));
    const approved = { status: "running", pr_number: 1, head_sha: held.head_sha };
    applyEvent(client, event("agent_run_change_approved", { ...approved, agent_run_id: 7 }));
    applyEvent(client, event("agent_run_change_approved", { ...approved, agent_run_id: 8, head_sha: "0123456789ab" }));
    expect(client.getQueryData<AgentRun>(queryKeys.agentRuns.detail(7))).toMatchObject({
      status: "running",
      held_change: { ...held, approved: true },
    });
    expect(client.getQueryData<AgentRun>(queryKeys.agentRuns.detail(8))?.held_change).toEqual(held);
  });

  it("puts a pull request's stray from its plan on the run", () => {
    const client = makeTestClient();
    client.setQueryData(queryKeys.agentRuns.detail(7), run({ status: "running", plan_drift: planDrift() }));
    const drift = planDrift({ unnamed: ["a.py", "b.py", "c.py"], changed: 4, strays: true });
    applyEvent(client, event("agent_run_plan_strayed", { agent_run_id: 7, status: "running", ...drift }));
    expect(client.getQueryData<AgentRun>(queryKeys.agentRuns.detail(7))?.plan_drift).toEqual(drift);
  });

  it("reads a run's turns again on any event of that run, and no other run's", async () => {
    const client = makeTestClient();
    const turns = { pages: [{ items: [interaction()], total: 1 }], pageParams: [0] };
    for (const id of [7, 8]) {
      await client.prefetchQuery({ queryKey: queryKeys.agentRuns.interactions(id), queryFn: () => turns });
    }
    applyEvent(client, event("validation_queued", { agent_run_id: 7, validation_id: 3, status: "queued" }));
    expect(client.getQueryState(queryKeys.agentRuns.interactions(7))?.isInvalidated).toBe(true);
    expect(client.getQueryState(queryKeys.agentRuns.interactions(8))?.isInvalidated).toBe(false);
  });
});
