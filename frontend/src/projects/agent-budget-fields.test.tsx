import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { AgentSettings } from "../api/types";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { RECIPE, fieldError, invalid, project } from "../testing/samples";
import { ProjectForm } from "./project-form";

const budgeted = project({
  agent: { provider: "scripted", recipe: RECIPE, budgets: { runs_per_day: 5, minutes_per_run: 12.5 } },
});

/** Replaces a field's text as a paste does. */
async function enter(user: ReturnType<typeof userEvent.setup>, label: string, text: string) {
  const field = screen.getByLabelText(label);
  await user.clear(field);
  await user.click(field);
  await user.paste(text);
}

function agentSent(body: unknown): AgentSettings {
  return (body as { agent: AgentSettings }).agent;
}

describe("AgentBudgetFields", () => {
  it("shows the project's budgets, sends them back, and sends a cleared one as no limit", async () => {
    const server = fakeApi({ "PUT /api/v1/projects/1": { body: budgeted } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={budgeted} />);
    const runs = screen.getByLabelText("Runs per day");
    expect(runs).toHaveValue("5");
    expect(runs).toHaveAccessibleDescription(
      "Agent runs this project may start in any 24 hours; empty: no limit. One more is refused until the oldest is a day old.",
    );
    const minutes = screen.getByLabelText("Minutes per run");
    expect(minutes).toHaveValue("12.5");
    expect(minutes).toHaveAccessibleDescription(
      "Minutes the agent may work on one run, its turns added up; empty: no limit. Past them the run stops.",
    );

    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect(agentSent(server.calls[0]?.body).budgets).toEqual({ runs_per_day: 5, minutes_per_run: 12.5 });

    await user.clear(runs);
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(server.calls).toHaveLength(2));
    expect(agentSent(server.calls[1]?.body).budgets).toEqual({ runs_per_day: null, minutes_per_run: 12.5 });
  });

  it("asks for the budget whichever agent is chosen, and keeps it across the change", async () => {
    const server = fakeApi({ "PUT /api/v1/projects/1": { body: budgeted } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={budgeted} />);
    await user.selectOptions(screen.getByLabelText("Agent"), "Codegen");
    expect(screen.getByLabelText("Runs per day")).toHaveValue("5");
    await user.selectOptions(screen.getByLabelText("Agent"), "Command-line agent");
    expect(screen.getByLabelText("Minutes per run")).toHaveValue("12.5");
    await enter(user, "Agent command", "claude -p {prompt}");
    await enter(user, "Minutes per run", "20");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect(agentSent(server.calls[0]?.body)).toMatchObject({
      provider: "cli",
      budgets: { runs_per_day: 5, minutes_per_run: 20 },
    });
  });

  it("shows the API's refusal of each budget under its own field", async () => {
    const server = fakeApi({
      "PUT /api/v1/projects/1": {
        status: 422,
        body: invalid(
          fieldError(["body", "agent", "budgets", "runs_per_day"], "Input should be greater than or equal to 1", "greater_than_equal"),
          fieldError(["body", "agent", "budgets", "minutes_per_run"], "Input should be greater than or equal to 0.1", "greater_than_equal"),
        ),
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={budgeted} />);
    await enter(user, "Runs per day", "0");
    await enter(user, "Minutes per run", "0.05");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    const runs = screen.getByLabelText("Runs per day");
    await waitFor(() => expect(runs).toHaveAttribute("aria-invalid", "true"));
    expect(runs).toHaveFocus();
    expect(runs).toHaveAccessibleDescription(expect.stringMatching(/^Input should be greater than or equal to 1 /));
    expect(screen.getByLabelText("Minutes per run")).toHaveAccessibleDescription(
      expect.stringMatching(/^Input should be greater than or equal to 0\.1 /),
    );
    expect(screen.getByRole("alert")).toHaveTextContent(/^The project was not saved: 2 values need a change\.$/);
    expect(screen.getByLabelText("Recipe")).not.toHaveAttribute("aria-invalid");
    expect(agentSent(server.calls[0]?.body).budgets).toEqual({ runs_per_day: 0, minutes_per_run: 0.05 });
  });

  it("says a budget that is not a number before asking the API", async () => {
    const server = fakeApi();
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={budgeted} />);
    await enter(user, "Runs per day", "two");
    await enter(user, "Minutes per run", "an hour");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    expect(screen.getByLabelText("Runs per day")).toHaveAccessibleDescription(
      expect.stringMatching(/^Enter a whole number\. /),
    );
    expect(screen.getByLabelText("Minutes per run")).toHaveAccessibleDescription(
      expect.stringMatching(/^Enter a number, such as 2 or 0\.5\. /),
    );
    expect(server.calls).toEqual([]);
  });
});
