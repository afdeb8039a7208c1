import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { applyEvent } from "../live/apply-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { event, heldChange, planDrift, project, run } from "../testing/samples";
import { RunView } from "./run-view";

const noValidations = { body: { items: [], total: 0 } };
const noTurns = { body: { items: [], total: 0, usage_totals: null } };

describe("RunView", () => {
  it("shows a running run's state and progress in words, and cancels it", async () => {
    const server = fakeApi({
      "GET /api/v1/agent-runs/7": { body: run({ status: "running", agent: { driver: null, job_id: null, is_ai: null } }) },
      "GET /api/v1/events": {
        body: [event("agent_run_progress", { agent_run_id: 7, status: "running", message: "Reading app.py" })],
      },
      "GET /api/v1/validations": noValidations,
      "GET /api/v1/agent-runs/7/interactions": noTurns,
      "POST /api/v1/agent-runs/7/cancel": { status: 202, body: run({ status: "cancelled", result: "Cancelled by a person." }) },
    });
    const user = userEvent.setup();
    renderWithCache(<RunView runId={7} project={project()} />);
    const region = await screen.findByRole("region", { name: "Run 7" });
    expect(within(region).getByText("Running")).toBeInTheDocument();
    expect(within(region).getByText("Scripted agent (not AI)")).toBeInTheDocument();
    expect(await within(region).findByRole("log", { name: "Agent progress" })).toHaveTextContent("Reading app.py");

    await user.click(within(region).getByRole("button", { name: "Cancel run" }));
    expect(await within(region).findByText("Cancelled")).toBeInTheDocument();
    expect(server.calls.map((call) => `${call.method} ${call.path}`)).toContain("POST /api/v1/agent-runs/7/cancel");
    expect(within(region).queryByRole("button", { name: "Cancel run" })).toBeNull();
  });

  it("shows a finished run's reply and continues it with a message", async () => {
    const server = fakeApi({
      "GET /api/v1/agent-runs/7": { body: run({ status: "completed", response_type: "regular", result: "Nothing to change." }) },
      "GET /api/v1/events": { body: [] },
      "GET /api/v1/validations": noValidations,
      "GET /api/v1/agent-runs/7/interactions": noTurns,
      "POST /api/v1/agent-runs/7/continue": { status: 202, body: run({ status: "pending" }) },
    });
    const user = userEvent.setup();
    renderWithCache(<RunView runId={7} project={project()} />);
    expect(await screen.findByText("Nothing to change.")).toBeInTheDocument();
    expect(await screen.findByRole("region", { name: "Conversation" })).toHaveTextContent(
      "No conversation was recorded for this run.",
    );
    await user.type(screen.getByLabelText("Message"), "Now add a /version route");
    await user.click(screen.getByRole("button", { name: "Continue" }));
    await waitFor(() =>
      expect(server.calls.find((call) => call.path === "/api/v1/agent-runs/7/continue")?.body).toEqual({
        message: "Now add a /version route",
      }),
    );
    expect(await screen.findByText("Starting")).toBeInTheDocument();
  });

  it("asks for approval of a held change as soon as its event arrives, with one way to cancel", async () => {
    const server = fakeApi({
      "GET /api/v1/agent-runs/7": { body: run({ status: "running" }) },
      "GET /api/v1/events": { body: [] },
      "GET /api/v1/validations": noValidations,
      "GET /api/v1/agent-runs/7/interactions": noTurns,
    });
    const { client } = renderWithCache(<RunView runId={7} project={project()} />);
    const region = await screen.findByRole("region", { name: "Run 7" });
    await within(region).findByText("Running");

    server.on("GET /api/v1/agent-runs/7", { body: run({ status: "waiting_approval", held_change: heldChange() }) });
    const findings = [{ kind: "tests_skipped", path: "tests/test_health.py" }];
    const held = { agent_run_id: 7, status: "waiting_approval", pr_number: 1, head_sha: heldChange().head_sha, since: "main" };
    act(() => applyEvent(client, event("agent_run_change_held", { ...held, findings, omitted: 0, unchecked: null })));

    expect(await within(region).findByRole("region", { name: "This change needs your approval" })).toBeInTheDocument();
    expect(within(region).getByText("Waiting for your approval")).toBeInTheDocument();
    expect(within(region).getAllByRole("button", { name: "Cancel run" })).toHaveLength(1);
    expect(within(region).getByRole("log", { name: "Agent progress" })).toHaveTextContent(
      "Change held for your approval: Tests skipped (tests/test_health.py), in PR #1 at 4a188e2",
    );
  });

  it("warns when the pull request strays from the confirmed plan", async () => {
    const drift = planDrift({ strays: true, unnamed: ["src/billing.py", "src/mailer.py", "src/prices.py"], changed: 4 });
    fakeApi({
      "GET /api/v1/agent-runs/7": { body: run({ status: "validating", plan: "1. Edit app.py", plan_drift: drift }) },
      "GET /api/v1/events": { body: [] },
      "GET /api/v1/validations": noValidations,
      "GET /api/v1/agent-runs/7/interactions": noTurns,
    });
    renderWithCache(<RunView runId={7} project={project()} />);
    const warning = await screen.findByRole("region", { name: "The pull request strays from the confirmed plan" });
    expect(warning).toHaveTextContent("3 of 4 changed files are not named in it:");
    expect(warning).toHaveTextContent("src/billing.py");
  });
});
