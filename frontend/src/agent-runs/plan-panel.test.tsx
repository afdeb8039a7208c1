import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { fieldError, invalid, run } from "../testing/samples";
import { PlanPanel } from "./plan-panel";

const waiting = run({ status: "waiting_input", plan: "1. Add VERSION\n2. Answer GET /health", response_type: "plan" });

describe("PlanPanel", () => {
  it("shows the plan and confirms it", async () => {
    const server = fakeApi({ "POST /api/v1/agent-runs/7/plan-response": { status: 202, body: run() } });
    renderWithCache(<PlanPanel run={waiting} />);
    expect(screen.getByText(/Answer GET \/health/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Confirm plan" }));
    await waitFor(() => expect(server.calls[0]?.body).toEqual({ action: "confirm", text: "" }));
  });

  it("sends the changes a person asks for", async () => {
    const server = fakeApi({ "POST /api/v1/agent-runs/7/plan-response": { status: 202, body: run() } });
    const user = userEvent.setup();
    renderWithCache(<PlanPanel run={waiting} />);
    expect(screen.queryByLabelText("Plan changes")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Modify plan" }));
    await user.type(screen.getByLabelText("Plan changes"), "Also log each request");
    await user.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(server.calls[0]?.body).toEqual({ action: "modify", text: "Also log each request" }));
  });

  it("shows the API's word when the changes are missing", async () => {
    fakeApi({
      "POST /api/v1/agent-runs/7/plan-response": {
        status: 422,
        body: invalid(fieldError(["body", "text"], "is required when action is 'modify': say what to change")),
      },
    });
    const user = userEvent.setup();
    renderWithCache(<PlanPanel run={waiting} />);
    await user.click(screen.getByRole("button", { name: "Modify plan" }));
    await user.click(screen.getByRole("button", { name: "Send" }));
    expect(await screen.findByLabelText("Plan changes")).toHaveAccessibleDescription(
      "Is required when action is 'modify': say what to change",
    );
  });
});
