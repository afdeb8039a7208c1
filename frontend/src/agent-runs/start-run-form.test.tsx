import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { errorBody } from "../testing/samples";
import { StartRunForm } from "./start-run-form";

describe("StartRunForm", () => {
  it("says why a run past the project's daily budget was refused, and keeps the goal", async () => {
    const detail =
      "agent.budgets.runs_per_day: project 'app' started 2 agent runs in the last 24 hours and its budget is 2; " +
      "the next can start at 2026-12-08 14:40:00 UTC";
    const server = fakeApi({ "POST /api/v1/agent-runs": { status: 429, body: errorBody(detail) } });
    const user = userEvent.setup();
    renderWithCache(<StartRunForm projectId={1} />);
    await user.type(screen.getByLabelText("Goal"), "Add a /version route");
    await user.click(screen.getByRole("button", { name: "Start run" }));

    expect(await screen.findByRole("alert")).toHaveTextContent(detail);
    expect(screen.getByLabelText("Goal")).toHaveValue("Add a /version route");
    expect(screen.getByLabelText("Goal")).not.toHaveAttribute("aria-invalid");
    await waitFor(() => expect(screen.getByRole("button", { name: "Start run" })).toBeEnabled());
    expect(server.calls.map((call) => `${call.method} ${call.path}`)).toEqual(["POST /api/v1/agent-runs"]);
    expect(window.location.pathname).toBe("/");
  });
});
