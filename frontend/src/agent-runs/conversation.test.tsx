import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { AgentInteraction, AgentInteractionPage } from "../api/types";
import { applyEvent } from "../live/apply-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { event, interaction } from "../testing/samples";
import { Conversation } from "./conversation";

const TURNS = "GET /api/v1/agent-runs/7/interactions";

/** The API's answer: the page of `turns` its `limit` and `offset` ask for, their total, and
 * the run's usage totals. */
function pagesOf(turns: AgentInteraction[], totals: AgentInteractionPage["usage_totals"] = null) {
  return ({ url }: { url: URL }) => {
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const limit = Number(url.searchParams.get("limit") ?? 50);
    return { body: { items: turns.slice(offset, offset + limit), total: turns.length, usage_totals: totals } };
  };
}

function conversation() {
  return screen.getByRole("region", { name: "Conversation" });
}

async function turnsShown() {
  return within(await screen.findByRole("list", { name: "Turns" })).getAllByRole("listitem");
}

describe("Conversation", () => {
  it("labels what each turn sent and how the agent answered, oldest first, with their times", async () => {
    fakeApi({
      [TURNS]: pagesOf([
        interaction({ prompt: "Add a <b>/health</b> endpoint, **now**", answer_kind: "plan", answer: "1. Add GET /health" }),
        interaction({ turn: 2, kind: "plan_answer", prompt: "Confirmed.", answer_kind: "pull_request", answer: null, pull_request_number: 4 }),
        interaction({ turn: 3, kind: "fix", validation_id: 12, prompt: "pytest failed", answer_kind: "failed", answer: "I gave up." }),
        interaction({ turn: 4, kind: "message", prompt: "Try again", answer_kind: "over_budget", answer: "30 minutes spent" }),
        interaction({ turn: 5, kind: "message", prompt: "Once more", answer_kind: "cancelled", answer: null }),
      ]),
    });
    renderWithCache(<Conversation runId={7} />);
    const turns = await turnsShown();
    expect(turns.map((turn) => within(turn).getByRole("heading").textContent)).toEqual([
      "Goal",
      "Plan answer",
      "Fix request for validation #12",
      "Your message",
      "Your message",
    ]);
    expect(turns[0]).toHaveTextContent(/Turn 1, sent .+Plan\s*answered .+, after 1 min 30 s1\. Add GET \/health$/);
    expect(turns[1]).toHaveTextContent(/Pull request #4\s*answered/);
    expect(turns[2]).toHaveTextContent(/Failed\s*answered .*I gave up\.$/);
    expect(turns[3]).toHaveTextContent(/Over budget\s*answered .*30 minutes spent$/);
    expect(turns[4]).toHaveTextContent(/Cancelled\s*answered/);

    // The agent's text is shown as it is: never as markup.
    const goal = within(turns[0]!).getByLabelText("Goal: what was sent");
    expect(goal.tagName).toBe("PRE");
    expect(goal).toHaveTextContent("Add a <b>/health</b> endpoint, **now**");
    expect(conversation().querySelector("b, strong")).toBeNull();
  });

  it("shows a long fix request's first lines, and all of it when asked", async () => {
    const lines = Array.from({ length: 40 }, (_, index) => `FAILED tests/test_app.py::test_${index + 1}`);
    fakeApi({
      [TURNS]: pagesOf([
        interaction(),
        interaction({ turn: 2, kind: "fix", validation_id: 12, prompt: lines.join("\n"), answer_kind: null, answer: null, answered_at: null }),
      ]),
    });
    const user = userEvent.setup();
    renderWithCache(<Conversation runId={7} />);
    await turnsShown();
    const prompt = within(conversation()).getByLabelText("Fix request for validation #12: what was sent");
    expect(prompt.textContent).toBe(`${lines.slice(0, 6).join("\n")}…`);
    // The short goal is shown whole: one toggle, the fix request's.
    const toggle = within(conversation()).getByRole("button", { name: "Show all" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");

    await user.click(toggle);
    expect(prompt.textContent).toBe(lines.join("\n"));
    expect(toggle).toHaveAccessibleName("Show less");
    expect(toggle).toHaveAttribute("aria-expanded", "true");

    await user.click(toggle);
    expect(prompt.textContent).toBe(`${lines.slice(0, 6).join("\n")}…`);
  });

  it("says the agent is working on a turn it has not answered yet", async () => {
    fakeApi({
      [TURNS]: pagesOf([
        interaction(),
        interaction({ turn: 2, kind: "message", prompt: "Now add /version", answer_kind: null, answer: null, answered_at: null }),
      ]),
    });
    renderWithCache(<Conversation runId={7} />);
    const turns = await turnsShown();
    expect(within(turns[1]!).getByRole("status")).toHaveTextContent("The agent is working…");
    expect(within(turns[0]!).queryByRole("status")).toBeNull();
  });

  it("reads 50 turns at a time, and the next ones on Load more", async () => {
    const turns = Array.from({ length: 53 }, (_, index) =>
      interaction({ turn: index + 1, kind: index ? "message" : "goal", prompt: `Message ${index + 1}` }),
    );
    const server = fakeApi({ [TURNS]: pagesOf(turns) });
    const user = userEvent.setup();
    renderWithCache(<Conversation runId={7} />);
    expect(await turnsShown()).toHaveLength(50);
    expect(conversation()).toHaveTextContent("50 of 53 turns shown");

    await user.click(within(conversation()).getByRole("button", { name: "Load more" }));
    await waitFor(async () => expect(await turnsShown()).toHaveLength(53));
    expect((await turnsShown())[52]).toHaveTextContent("Message 53");
    expect(within(conversation()).queryByRole("button", { name: "Load more" })).toBeNull();
    expect(server.calls.map((call) => `${call.query.get("limit")}@${call.query.get("offset")}`)).toEqual(["50@0", "50@50"]);
  });

  it("shows what each turn used when the agent reported it, and the run's totals", async () => {
    fakeApi({
      [TURNS]: pagesOf(
        [
          interaction({
            usage: { input_tokens: 1234, output_tokens: 567, cost_usd: 0.0123, model: "claude-sonnet-4" },
          }),
          interaction({ turn: 2, kind: "message", prompt: "More" }),
          interaction({
            turn: 3,
            kind: "message",
            prompt: "Again",
            usage: { input_tokens: 100, output_tokens: null, cost_usd: null, model: null },
          }),
        ],
        { turns: 2, input_tokens: 1334, output_tokens: 567, cost_usd: 0.0123 },
      ),
    });
    renderWithCache(<Conversation runId={7} />);
    const [first, second, third] = await turnsShown();
    expect(first).toHaveTextContent(/Used: 1,234 in \/ 567 out tokens · \$0\.0123 \(claude-sonnet-4\)$/);
    expect(second).not.toHaveTextContent("Used:"); // it reported nothing: nothing is made up
    expect(third).toHaveTextContent(/Used: 100 in tokens$/);
    expect(conversation()).toHaveTextContent(
      "Agent's reported usage, whole run: 1,334 in / 567 out tokens · $0.0123 (2 turns reported it)",
    );
  });

  it("shows no usage for a run whose agent reported none", async () => {
    fakeApi({ [TURNS]: pagesOf([interaction()]) });
    renderWithCache(<Conversation runId={7} />);
    await turnsShown();
    expect(conversation()).not.toHaveTextContent(/usage|Used:/);
  });

  it("says so when no conversation was kept for the run", async () => {
    fakeApi({ [TURNS]: pagesOf([]) });
    renderWithCache(<Conversation runId={7} />);
    expect(await screen.findByText("No conversation was recorded for this run.")).toBeInTheDocument();
    expect(screen.queryByRole("list")).toBeNull();
  });

  it("reads the turns again when an event of the run arrives", async () => {
    const goal = interaction({ answer_kind: "pull_request", answer: null, pull_request_number: 1 });
    const server = fakeApi({ [TURNS]: pagesOf([goal]) });
    const { client } = renderWithCache(<Conversation runId={7} />);
    expect(await turnsShown()).toHaveLength(1);

    const fix = interaction({ turn: 2, kind: "fix", validation_id: 3, prompt: "ruff failed", answer_kind: null, answer: null, answered_at: null });
    server.on(TURNS, pagesOf([goal, fix]));
    act(() => applyEvent(client, event("agent_run_fix_requested", { agent_run_id: 7, status: "running", reason: "ruff failed" })));

    expect(await within(conversation()).findByRole("heading", { name: "Fix request for validation #3" })).toBeInTheDocument();
    expect(within(conversation()).getByRole("status")).toHaveTextContent("The agent is working…");
  });
});
