import { queryKeys } from "../api/query-keys";
import type { Event, ProjectStats, Validation, ValidationPage } from "../api/types";
import { makeTestClient } from "../testing/render";
import { baselineSummary, event, run, secret, stats, validation } from "../testing/samples";
import { FEED_LENGTH, applyEvent } from "./apply-event";

describe("applyEvent", () => {
  it("moves a validation's step to its new state in the detail and in every list", () => {
    const client = makeTestClient();
    client.setQueryData(queryKeys.validations.detail(3), validation());
    client.setQueryData<ValidationPage>(queryKeys.validations.ofRun(7), { items: [validation()], total: 1 });

    applyEvent(
      client,
      event("validation_progress", {
        validation_id: 3,
        agent_run_id: 7,
        status: "running",
        step: "clone",
        step_status: "passed",
        summary: "checked out 4a188e2",
      }),
    );

    const detail = client.getQueryData<Validation>(queryKeys.validations.detail(3));
    const listed = client.getQueryData<ValidationPage>(queryKeys.validations.ofRun(7))?.items[0];
    for (const shown of [detail, listed]) {
      expect(shown?.steps.find((s) => s.name === "clone")).toMatchObject({ status: "passed", summary: "checked out 4a188e2" });
    }
  });

  it("adds a step the validation had not started yet", () => {
    const client = makeTestClient();
    client.setQueryData(queryKeys.validations.detail(3), validation());
    applyEvent(
      client,
      event("validation_progress", { validation_id: 3, status: "running", step: "deploy", step_status: "running" }),
    );
    const steps = client.getQueryData<Validation>(queryKeys.validations.detail(3))?.steps ?? [];
    expect(steps.map((s) => [s.name, s.status])).toContainEqual(["deploy", "running"]);
  });

  it("puts a new event at the top of the feeds, once, and keeps the feed short", () => {
    const client = makeTestClient();
    const older = Array.from({ length: FEED_LENGTH }, (_, index) =>
      event("agent_run_progress", { agent_run_id: 7, message: `line ${index}` }, { id: FEED_LENGTH - index }),
    );
    client.setQueryData(queryKeys.events.feed(null), older);
    client.setQueryData(queryKeys.events.feed(1), []);
    client.setQueryData(queryKeys.events.feed(2), []);
    const news = event("project_updated", { name: "shop" }, { id: 5000 });

    applyEvent(client, news);
    applyEvent(client, news);

    const everything = client.getQueryData<Event[]>(queryKeys.events.feed(null)) ?? [];
    expect(everything[0]?.id).toBe(5000);
    expect(everything).toHaveLength(FEED_LENGTH);
    expect(client.getQueryData<Event[]>(queryKeys.events.feed(1))).toEqual([news]);
    expect(client.getQueryData<Event[]>(queryKeys.events.feed(2))).toEqual([]);
  });

  it("appends to a run's own story in id order", () => {
    const client = makeTestClient();
    const first = event("agent_run_started", { agent_run_id: 7, status: "pending", goal: "x" }, { id: 10 });
    client.setQueryData(queryKeys.events.ofRun(7), [first]);
    applyEvent(client, event("agent_run_progress", { agent_run_id: 7, status: "running", message: "hi" }, { id: 12 }));
    applyEvent(client, event("agent_run_progress", { agent_run_id: 8, status: "running", message: "other" }, { id: 13 }));
    expect(client.getQueryData<Event[]>(queryKeys.events.ofRun(7))?.map((e) => e.id)).toEqual([10, 12]);
  });

  it("refetches exactly what a finished validation makes stale", async () => {
    const client = makeTestClient();
    const cached: Array<[readonly unknown[], unknown]> = [
      [queryKeys.validations.detail(3), validation()],
      [queryKeys.validations.ofRun(7), { items: [validation()], total: 1 }],
      [queryKeys.projects.stats(1), stats()],
      [queryKeys.projects.stats(2), stats({ project_id: 2 })],
      [queryKeys.agentRuns.detail(9), run({ id: 9 })],
    ];
    for (const [key, data] of cached) await client.prefetchQuery({ queryKey: key, queryFn: () => data });
    applyEvent(
      client,
      event("validation_completed", {
        validation_id: 3,
        agent_run_id: 7,
        status: "failed",
        failed_step: "health_check",
        reason: "exited",
        checks: { health: "failed" },
      }),
    );
    const stale = client
      .getQueryCache()
      .getAll()
      .filter((query) => query.isStale())
      .map((query) => JSON.stringify(query.queryKey));
    expect(stale.sort()).toEqual(
      [queryKeys.validations.detail(3), queryKeys.validations.ofRun(7), queryKeys.projects.stats(1)]
        .map((key) => JSON.stringify(key))
        .sort(),
    );
  });

  it("reads a project's pull-request validations again when one is queued or finished, or a pull request changes", async () => {
    const theirs = { validation_id: 12, agent_run_id: null, kind: "pull_request", pr_number: 12, attempt: 1 };
    const pullRequest = { number: 12, url: "https://github.com/octo-org/shop/pull/12", head_sha: "9f8e7d6c5b4a" };
    const news = [
      event("validation_queued", { ...theirs, status: "queued", head_sha: "9f8e7d6c5b4a" }),
      event("validation_completed", { ...theirs, status: "passed", checks: { health: "passed" } }),
      event("pull_request_opened", { ...pullRequest, branch: "alice/lodash" }),
      event("pull_request_updated", { ...pullRequest, state: "closed" }),
      event("pull_request_merged", { number: 12, head_sha: "9f8e7d6c5b4a", merge_sha: "789513a869432ead" }),
    ];
    for (const happened of news) {
      const client = makeTestClient();
      const pages = [
        queryKeys.validations.pullRequestPage(1, 0),
        queryKeys.validations.pullRequestPage(1, 20),
        queryKeys.validations.pullRequestPage(2, 0),
      ];
      for (const key of pages) {
        await client.prefetchQuery({ queryKey: key, queryFn: () => ({ items: [validation({ id: 12 })], total: 21 }) });
      }
      applyEvent(client, happened);
      const stale = pages.filter((key) => client.getQueryState(key)?.isInvalidated);
      // A merge reads every list of validations again (see pull_request_merged); the rest only
      // the project's own.
      const expected = happened.type === "pull_request_merged" ? pages : pages.slice(0, 2);
      expect({ type: happened.type, stale }).toEqual({ type: happened.type, stale: expected });
    }
  });

  it("leaves a project's pull-request validations alone when its base branch is validated", async () => {
    const client = makeTestClient();
    const key = queryKeys.validations.pullRequestPage(1, 0);
    await client.prefetchQuery({ queryKey: key, queryFn: () => ({ items: [], total: 0 }) });
    const baseline = { validation_id: 2, agent_run_id: null, kind: "baseline", pr_number: null, attempt: 1 };
    applyEvent(client, event("validation_queued", { ...baseline, status: "queued", head_sha: "abc1234" }));
    applyEvent(client, event("validation_completed", { ...baseline, status: "passed", checks: {} }));
    expect(client.getQueryState(key)?.isInvalidated).toBe(false);
  });

  it("reads a project's secrets again when one is set or deleted, and nothing else", async () => {
    for (const news of [
      event("project_secret_set", { name: "API_TOKEN", created: true }),
      event("project_secret_set", { name: "API_TOKEN", created: false }),
      event("project_secret_deleted", { name: "API_TOKEN" }),
    ]) {
      const client = makeTestClient();
      const cached: Array<[readonly unknown[], unknown]> = [
        [queryKeys.projects.secrets(1), { items: [secret("API_TOKEN")], total: 1 }],
        [queryKeys.projects.secrets(2), { items: [], total: 0 }],
        [queryKeys.projects.detail(1), {}],
        [queryKeys.projects.stats(1), stats()],
      ];
      for (const [key, data] of cached) await client.prefetchQuery({ queryKey: key, queryFn: () => data });
      applyEvent(client, news);
      const stale = client
        .getQueryCache()
        .getAll()
        .filter((query) => query.isStale())
        .map((query) => query.queryKey);
      expect(stale).toEqual([queryKeys.projects.secrets(1)]);
    }
  });

  it("appends live log text only to a log someone is reading", () => {
    const client = makeTestClient();
    client.setQueryData(queryKeys.validations.log(3, "deploy"), "$ make\n");
    const line = { validation_id: 3, step: "deploy", text: "built\n" };
    applyEvent(client, { ...event("validation_log", line), id: null });
    applyEvent(client, { ...event("validation_log", { ...line, step: "clone" }), id: null });
    expect(client.getQueryData(queryKeys.validations.log(3, "deploy"))).toBe("$ make\nbuilt\n");
    expect(client.getQueryData(queryKeys.validations.log(3, "clone"))).toBeUndefined();
    expect(client.getQueryData(queryKeys.events.feed(null))).toBeUndefined();
  });

  it("keeps a project's base-branch line in step with its baseline, and only with it", () => {
    const client = makeTestClient();
    client.setQueryData(queryKeys.projects.stats(1), stats({ baseline: baselineSummary({ status: "queued", reason: null }) }));
    const baselineOf = () => client.getQueryData<ProjectStats>(queryKeys.projects.stats(1))?.baseline;
    const ofBaseline = { validation_id: 2, agent_run_id: null, kind: "baseline", pr_number: null, attempt: 1 };

    applyEvent(client, event("validation_started", { ...ofBaseline, status: "running" }));
    expect(baselineOf()?.status).toBe("running");

    const ofPullRequest = { validation_id: 3, agent_run_id: 7, kind: "pull_request", pr_number: 1, attempt: 1 };
    applyEvent(client, event("validation_completed", { ...ofPullRequest, status: "failed", fault: "code" }));
    expect(baselineOf()?.status).toBe("running");

    applyEvent(
      client,
      event("validation_completed", { ...ofBaseline, status: "failed", failed_step: "deploy", fault: null, reason: "npm: not found" }),
    );
    expect(baselineOf()).toMatchObject({ id: 2, status: "failed", failed_step: "deploy", reason: "npm: not found" });
  });

  it("reads a project's stats again when a newer baseline starts", async () => {
    const client = makeTestClient();
    await client.prefetchQuery({ queryKey: queryKeys.projects.stats(1), queryFn: () => stats({ baseline: baselineSummary() }) });
    applyEvent(
      client,
      event("validation_started", { validation_id: 5, agent_run_id: null, kind: "baseline", pr_number: null, attempt: 1, status: "running" }),
    );
    expect(client.getQueryState(queryKeys.projects.stats(1))?.isInvalidated).toBe(true);
    expect(client.getQueryData<ProjectStats>(queryKeys.projects.stats(1))?.baseline?.status).toBe("passed");
  });

  it("records whose fault a finished validation is", () => {
    const client = makeTestClient();
    client.setQueryData(queryKeys.validations.detail(3), validation());
    applyEvent(
      client,
      event("validation_completed", { validation_id: 3, agent_run_id: 7, kind: "pull_request", status: "error", fault: "setup" }),
    );
    expect(client.getQueryData<Validation>(queryKeys.validations.detail(3))).toMatchObject({ status: "error", fault: "setup" });
  });

});
