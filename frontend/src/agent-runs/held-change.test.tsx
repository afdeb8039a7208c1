import { getDefaultNormalizer, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { queryKeys } from "../api/query-keys";
import type { AgentRun } from "../api/types";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { errorBody, heldChange, run } from "../testing/samples";
import { HeldChangeSection } from "./held-change";

const held = heldChange({
  findings: [
    heldChange().findings[0]!,
    {
      kind: "ci_config_changed",
      path: ".github/workflows/ci.yml",
      hunk: "@@ -8,2 +8,2 @@\n-      - run: pytest\n+      - run: pytest || true\n",
    },
  ],
  omitted: 3,
});
const waiting = run({ status: "waiting_approval", held_change: held });

function panel() {
  return screen.getByRole("region", { name: "This change needs your approval" });
}

describe("HeldChangeSection", () => {
  it("lists what the change does to the checks, each with its path and hunk, and counts the rest", () => {
    renderWithCache(<HeldChangeSection run={waiting} />);
    const findings = within(panel()).getAllByRole("listitem");
    expect(findings).toHaveLength(2);
    expect(findings[0]).toHaveTextContent(/^Tests skipped\s*tests\/test_health\.py/);
    expect(findings[1]).toHaveTextContent(/^CI configuration changed\s*\.github\/workflows\/ci\.yml/);
    const hunk = within(findings[1]!).getByLabelText("CI configuration changed: .github/workflows/ci.yml");
    expect(hunk.tagName).toBe("PRE");
    // A diff's indentation is part of it: read the lines as they are.
    const asIs = { normalizer: getDefaultNormalizer({ collapseWhitespace: false, trim: false }) };
    expect(within(hunk).getByText("-      - run: pytest", asIs)).toHaveClass("bg-red-50");
    expect(within(hunk).getByText("+      - run: pytest || true", asIs)).toHaveClass("bg-green-50");
    expect(panel()).toHaveTextContent("and 3 more findings, not listed");
    expect(panel()).toHaveTextContent("Pull request #1 at 4a188e216107 changes what checks it");
    expect(panel()).toHaveTextContent("Found in the changes since main:");
  });

  it("says a change whose diff could not be read is held whole", () => {
    const whole = heldChange({ findings: [], unchecked: "its diff is longer than 4194304 bytes, too large to read line by line" });
    renderWithCache(<HeldChangeSection run={run({ status: "waiting_approval", held_change: whole })} />);
    expect(panel()).toHaveTextContent(
      "Not checked: its diff is longer than 4194304 bytes, too large to read line by line. The whole change is held.",
    );
    expect(within(panel()).queryByRole("list")).toBeNull();
  });

  it("approves the change at its own path, and keeps the run the API answers with", async () => {
    const approved = run({ status: "running", held_change: { ...held, approved: true } });
    const server = fakeApi({ "POST /api/v1/agent-runs/7/approve-change": { status: 202, body: approved } });
    const user = userEvent.setup();
    const { client } = renderWithCache(<HeldChangeSection run={waiting} />);
    await user.click(within(panel()).getByRole("button", { name: "Approve change" }));
    await waitFor(() => expect(server.calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      "POST /api/v1/agent-runs/7/approve-change",
    ]));
    await waitFor(() => expect(client.getQueryData<AgentRun>(queryKeys.agentRuns.detail(7))).toEqual(approved));
  });

  it("shows the API's detail when someone else answered first", async () => {
    const detail = "agent run 7 is cancelled, not waiting for a change's approval";
    fakeApi({ "POST /api/v1/agent-runs/7/approve-change": { status: 409, body: errorBody(detail) } });
    const user = userEvent.setup();
    renderWithCache(<HeldChangeSection run={waiting} />);
    await user.click(within(panel()).getByRole("button", { name: "Approve change" }));
    expect(await within(panel()).findByRole("alert")).toHaveTextContent(detail);
    expect(within(panel()).getByRole("button", { name: "Approve change" })).toBeEnabled();
  });

  it("cancels the run instead, to refuse the change", async () => {
    const server = fakeApi({ "POST /api/v1/agent-runs/7/cancel": { status: 202, body: run({ status: "cancelled" }) } });
    const user = userEvent.setup();
    renderWithCache(<HeldChangeSection run={waiting} />);
    await user.click(within(panel()).getByRole("button", { name: "Cancel run" }));
    await waitFor(() => expect(server.calls.map((call) => call.path)).toEqual(["/api/v1/agent-runs/7/cancel"]));
  });

  it("shows a one-line note once the change was approved and the run went on", () => {
    renderWithCache(<HeldChangeSection run={run({ status: "validating", held_change: { ...held, approved: true } })} />);
    expect(screen.getByRole("paragraph")).toHaveTextContent(/^Change approved at 4a188e216107 \(pull request #1\)$/);
    expect(screen.queryByRole("region")).toBeNull();
    expect(screen.queryByRole("button")).toBeNull();
  });
});
