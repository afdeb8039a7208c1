import { act, screen, waitFor, within } from "@testing-library/react";
import { applyEvent } from "../live/apply-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { event, project } from "../testing/samples";
import { ActivityFeed } from "./activity-feed";
import { describeEvent } from "./describe-event";

describe("ActivityFeed", () => {
  it("lists what happened, newest first, and puts each new event on top", async () => {
    const server = fakeApi({
      "GET /api/v1/events": {
        body: [
          event("pull_request_merged", { number: 1, head_sha: "776d78e2", merge_sha: "789513a8" }, { id: 53 }),
          event("validation_completed", { validation_id: 2, pr_number: 1, attempt: 2, status: "passed", reason: "every step passed" }, { id: 52 }),
        ],
      },
    });
    const { client } = renderWithCache(<ActivityFeed projectId={null} projects={[project({ name: "demo" })]} />);
    const region = screen.getByRole("region", { name: "Activity" });
    await within(region).findByText(/Merged: pull request #1 as 789513a/);
    expect(server.calls[0]?.query.get("order")).toBe("newest_first");

    act(() => applyEvent(client, event("merge_blocked", { validation_id: 3, reason: "the check health was skipped" }, { id: 60 })));

    await waitFor(() =>
      expect(within(region).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
        expect.stringContaining("demo: Merge blocked: the check health was skipped"),
        expect.stringContaining("demo: Merged: pull request #1 as 789513a"),
        expect.stringContaining("Validation of PR #1 (attempt 2) passed: every step passed"),
      ]),
    );
  });
});

describe("describeEvent", () => {
  it("says which secret was set, replaced or deleted, in a neutral tone", () => {
    expect(describeEvent(event("project_secret_set", { name: "API_TOKEN", created: true }))).toEqual({
      text: "Secret API_TOKEN set",
      tone: "neutral",
    });
    expect(describeEvent(event("project_secret_set", { name: "API_TOKEN", created: false }))).toEqual({
      text: "Secret API_TOKEN replaced",
      tone: "neutral",
    });
    expect(describeEvent(event("project_secret_deleted", { name: "API_TOKEN" }))).toEqual({
      text: "Secret API_TOKEN deleted",
      tone: "neutral",
    });
  });

  it("says what became of a webhook delivery, and flags one that failed", () => {
    const ignored = { event: "pull_request", action: "opened", status: "ignored", note: "no project here is github repository a/b" };
    expect(describeEvent(event("webhook_processed", ignored))).toEqual({
      text: "Webhook pull_request.opened: no project here is github repository a/b",
      tone: "neutral",
    });
    const failed = { event: "push", action: null, status: "failed", note: "KeyError: 'x'" };
    expect(describeEvent(event("webhook_processed", failed)).tone).toBe("bad");
  });

  it("never says more of a secret than its name", () => {
    // Whatever an event carried by mistake, the line is built from the name alone.
    const line = describeEvent(event("project_secret_set", { name: "DB_URL", created: true, value: "hunter22" }));
    expect(line.text).not.toContain("hunter22");
  });

  it("names a baseline's validation by its branch, and says whose fault a verdict is", () => {
    const ofBaseline = { validation_id: 2, agent_run_id: null, kind: "baseline", pr_number: null, attempt: 1 };
    expect(describeEvent(event("validation_queued", { ...ofBaseline, status: "queued" })).text).toBe(
      "Validation of the base branch queued",
    );
    const ofPullRequest = { validation_id: 3, kind: "pull_request", pr_number: 1, attempt: 2 };
    const setup = event("validation_completed", { ...ofPullRequest, status: "error", fault: "setup", reason: "npm: not found" });
    expect(describeEvent(setup).text).toBe(
      "Validation of PR #1 (attempt 2) error (setup: the base branch fails the same way — fix the project's settings): npm: not found",
    );
  });

  it("says in words what a held change does, its approval, and a pull request that strays from its plan", () => {
    const ofRun = { agent_run_id: 7, pr_number: 1, head_sha: "4a188e216107588305599c8355881204081ab054" };
    const findings = [
      { kind: "tests_skipped", path: "tests/test_health.py" },
      { kind: "ci_config_changed", path: ".github/workflows/ci.yml" },
      { kind: "assertions_removed", path: "tests/test_api.py" },
    ];
    const held = { ...ofRun, status: "waiting_approval", since: "main", findings, omitted: 2, unchecked: null };
    expect(describeEvent(event("agent_run_change_held", held))).toEqual({
      text: "Run 7 waits for your approval: Tests skipped (tests/test_health.py), CI configuration changed (.github/workflows/ci.yml) and 3 more, in PR #1 at 4a188e2",
      tone: "waiting",
    });
    const whole = { ...held, findings: [], omitted: 0, unchecked: "its diff is longer than 4194304 bytes" };
    expect(describeEvent(event("agent_run_change_held", whole)).text).toBe(
      "Run 7 waits for your approval: PR #1 at 4a188e2 is held whole: its diff is longer than 4194304 bytes",
    );
    expect(describeEvent(event("agent_run_change_approved", { ...ofRun, status: "running" }))).toEqual({
      text: "Run 7: Change approved at 4a188e2 (PR #1)",
      tone: "active",
    });
    const strayed = { ...ofRun, status: "running", unnamed: ["a.py", "b.py", "c.py"], changed: 4, strays: true };
    expect(describeEvent(event("agent_run_plan_strayed", strayed))).toEqual({
      text: "Run 7: PR #1 at 4a188e2 strays from the confirmed plan (3 of 4 changed files are not named in it)",
      tone: "waiting",
    });
  });
});
