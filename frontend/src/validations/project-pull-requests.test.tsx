import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Validation } from "../api/types";
import { applyEvent } from "../live/apply-event";
import { fakeApi, type FakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { event, project, pullRequestSummary, step, validation } from "../testing/samples";
import { ProjectPullRequests } from "./project-pull-requests";

/** A pull request none of our runs opened: alice's, validated, its automatic merge not allowed. */
const alices = validation({
  id: 12,
  agent_run_id: null,
  pr_number: 12,
  pull_request: pullRequestSummary({
    number: 12,
    title: "Bump lodash",
    url: "https://github.com/octo-org/shop/pull/12",
    branch: "alice/lodash",
    author: "alice",
  }),
  head_sha: "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
  status: "passed",
  merge_blocked_reason: "alice is not among the authors merged automatically",
  steps: [step("snapshot", "passed"), step("clone", "passed"), step("deploy", "passed", "build, tests and deploy passed")],
});

/** Run 7's own pull request (no author), validated and merged. */
const ours = validation({
  id: 3,
  status: "passed",
  merged: true,
  merge_sha: "789513a869432ead",
  pull_request: pullRequestSummary({ number: 1, url: "https://github.com/octo-org/shop/pull/1" }),
});

const LIST = "GET /api/v1/validations";

function listReads(server: FakeApi) {
  return server.calls.filter((call) => `${call.method} ${call.path}` === LIST);
}

function rows(): HTMLElement[] {
  return within(screen.getByRole("list", { name: "Pull request validations, newest first" })).getAllByRole("listitem");
}

describe("ProjectPullRequests", () => {
  it("lists an outside author's pull request and an agent run's, each with who opened it and how it went", async () => {
    const server = fakeApi({ [LIST]: { body: { items: [alices, ours], total: 2 } } });
    renderWithCache(<ProjectPullRequests projectId={1} project={project()} />);

    await waitFor(() => expect(rows()).toHaveLength(2));
    const [theirs, mine] = rows() as [HTMLElement, HTMLElement];
    expect(within(theirs).getByRole("link", { name: "Pull request #12" })).toHaveAttribute("href", alices.pull_request?.url);
    expect(within(theirs).getByRole("button", { name: "Bump lodash, attempt 1" })).toHaveAttribute("aria-pressed", "false");
    expect(theirs).toHaveTextContent("by alice");
    expect(theirs).toHaveTextContent("9f8e7d6");
    expect(within(theirs).getByText("Passed")).toBeInTheDocument();
    expect(within(theirs).getByText("Merge blocked")).toBeInTheDocument();
    expect(theirs).toHaveTextContent("alice is not among the authors merged automatically");
    expect(within(theirs).queryByRole("link", { name: /Agent run/ })).toBeNull();

    expect(within(mine).getByRole("link", { name: "Pull request #1" })).toHaveAttribute("href", ours.pull_request?.url);
    expect(within(mine).getByRole("link", { name: "Agent run 7" })).toHaveAttribute("href", "/projects/1/runs/7");
    expect(mine).toHaveTextContent("by run 7");
    expect(mine).toHaveTextContent("4a188e2");
    expect(within(mine).getByText("Merged")).toBeInTheDocument();
    expect(mine).not.toHaveTextContent("Merge blocked");

    const [read] = listReads(server);
    expect(Object.fromEntries(read?.query ?? [])).toEqual({ project_id: "1", kind: "pull_request", limit: "20", offset: "0" });
  });

  it("says so when no pull request has been validated yet", async () => {
    fakeApi({ [LIST]: { body: { items: [], total: 0 } } });
    renderWithCache(<ProjectPullRequests projectId={1} project={project()} />);
    expect(await screen.findByText("No pull request validated yet.")).toBeInTheDocument();
    expect(screen.queryByRole("list")).toBeNull();
    expect(screen.queryByRole("button", { name: "Show more" })).toBeNull();
  });

  it("opens a chosen pull request's validation in full, with its log and its merge", async () => {
    const server = fakeApi({
      [LIST]: { body: { items: [alices, ours], total: 2 } },
      "GET /api/v1/validations/12": { body: alices },
      "GET /api/v1/validations/12/steps/deploy/log": { text: "$ npm test\n41 passing\n" },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectPullRequests projectId={1} project={project()} />);
    expect(screen.queryByRole("article")).toBeNull();

    const choice = await screen.findByRole("button", { name: "Bump lodash, attempt 1" });
    await user.click(choice);

    expect(choice).toHaveAttribute("aria-pressed", "true");
    const shown = screen.getByRole("article", { name: "Validation attempt 1" });
    // An outside pull request is retried by hand: no "of 3" from the agent's attempts.
    expect(within(shown).getByRole("heading", { name: "Attempt 1" })).toBeInTheDocument();
    expect(within(shown).getByText("by alice")).toBeInTheDocument();
    expect(within(shown).getByRole("button", { name: "Merge pull request" })).toBeInTheDocument();
    expect(await within(shown).findByText(/41 passing/)).toBeInTheDocument();
    expect(server.calls.map((call) => call.path)).toContain("/api/v1/validations/12/steps/deploy/log");

    await user.click(choice);
    expect(screen.queryByRole("article")).toBeNull();
  });

  it("reads the list again when a pull request of the project is validated, live", async () => {
    const server = fakeApi({ [LIST]: { body: { items: [ours], total: 1 } } });
    const { client } = renderWithCache(<ProjectPullRequests projectId={1} project={project()} />);
    await waitFor(() => expect(rows()).toHaveLength(1));

    // Another project's news changes nothing here.
    act(() => applyEvent(client, event("validation_queued", { validation_id: 40, kind: "pull_request" }, { project_id: 2 })));
    const queued: Validation = { ...alices, status: "queued", merge_blocked_reason: null, steps: [] };
    server.on(LIST, { body: { items: [queued, ours], total: 2 } });
    act(() =>
      applyEvent(
        client,
        event("validation_queued", {
          validation_id: 12,
          agent_run_id: null,
          kind: "pull_request",
          pr_number: 12,
          attempt: 1,
          status: "queued",
          head_sha: alices.head_sha,
        }),
      ),
    );

    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(within(rows()[0] as HTMLElement).getByText("Queued")).toBeInTheDocument();
    expect(listReads(server)).toHaveLength(2);
  });

  it("fetches the next page on Show more, and offers no more once all are shown", async () => {
    const all = Array.from({ length: 25 }, (_, index) => {
      const number = 100 - index;
      return validation({
        id: number,
        agent_run_id: null,
        pr_number: number,
        pull_request: pullRequestSummary({ number, title: `Change ${number}`, author: "renovate[bot]" }),
      });
    });
    const server = fakeApi({
      [LIST]: ({ url }) => {
        const offset = Number(url.searchParams.get("offset"));
        const limit = Number(url.searchParams.get("limit"));
        return { body: { items: all.slice(offset, offset + limit), total: all.length } };
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectPullRequests projectId={1} project={project()} />);
    await waitFor(() => expect(rows()).toHaveLength(20));
    expect(screen.queryByText("Change 80")).toBeNull();

    await user.click(screen.getByRole("button", { name: "Show more" }));

    await waitFor(() => expect(rows()).toHaveLength(25));
    expect(rows().at(-1)).toHaveTextContent("Change 76");
    expect(screen.queryByRole("button", { name: "Show more" })).toBeNull();
    expect(listReads(server).map((call) => call.query.get("offset"))).toEqual(["0", "20"]);
  });
});
