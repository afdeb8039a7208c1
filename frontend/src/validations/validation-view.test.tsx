import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { baseline, pullRequestSummary, step, validation } from "../testing/samples";
import { ValidationView } from "./validation-view";

const pullRequest = {
  number: 1,
  url: "file:///srv/git/shop#pull-1",
  branch: "codegenapp/run-7",
  head_sha: "776d78e2f9f29a283d031edfea5ea54bab304aeb",
  merged: false,
  merge_sha: null,
};

describe("ValidationView", () => {
  it("shows a failed attempt: which of how many, why, the error context, and a retry", async () => {
    const failed = validation({
      status: "failed",
      failed_step: "health_check",
      reason: "the service exited with code 1 before its health check passed",
      checks: { deploy: "passed", health: "failed" },
      error_context: "Validation attempt 1 of 3 ... KeyError: 'APP_PORT'",
      steps: [step("snapshot", "passed"), step("clone", "passed"), step("deploy", "passed"), step("health_check", "failed")],
    });
    const server = fakeApi({
      "GET /api/v1/validations/3": { body: failed },
      "GET /api/v1/validations/3/steps/health_check/log": { text: "[codegenapp] the service exited with code 1\n" },
      "POST /api/v1/validations/3/retry": { status: 202, body: validation({ id: 4, attempt: 2, status: "queued", steps: [] }) },
    });
    const user = userEvent.setup();
    renderWithCache(<ValidationView listed={failed} attempts={3} pullRequest={pullRequest} />);
    expect(screen.getByRole("heading", { name: "Attempt 1 of 3" })).toBeInTheDocument();
    expect(screen.getByText(/before its health check passed/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Pull request #1" })).toHaveAttribute("href", pullRequest.url);
    expect(screen.getByRole("region", { name: "Log of Health check" })).toBeInTheDocument();
    expect(await screen.findByText(/the service exited with code 1$/m)).toBeInTheDocument();
    expect(screen.getByText("Error context sent back to the agent")).toBeInTheDocument();
    expect(screen.getByText(/KeyError: 'APP_PORT'/)).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Retry validation" }));
    await waitFor(() => expect(server.calls.some((call) => call.path === "/api/v1/validations/3/retry")).toBe(true));
  });

  it("says Merged, with the merge commit, and offers no retry", () => {
    fakeApi();
    const merged = validation({ status: "passed", merged: true, merge_sha: "789513a869432ead", steps: [] });
    renderWithCache(<ValidationView listed={merged} attempts={3} pullRequest={{ ...pullRequest, merged: true }} />);
    expect(screen.getByText("Merged")).toBeInTheDocument();
    expect(screen.getByText("789513a")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Retry validation" })).toBeNull();
  });

  it("numbers a retry by hand after the agent's attempts without an impossible fraction", () => {
    fakeApi();
    const retried = validation({ attempt: 5, status: "queued", steps: [] });
    renderWithCache(<ValidationView listed={retried} attempts={4} pullRequest={pullRequest} />);
    expect(screen.getByRole("heading", { name: "Attempt 5, a retry by hand after the agent's 4" })).toBeInTheDocument();
    expect(screen.queryByText(/5 of 4/)).toBeNull();
  });

  it("merges a green validation whose merge was refused, on a person's click", async () => {
    const blocked = validation({ status: "passed", merge_blocked_reason: "merge refused: local changes", steps: [] });
    const server = fakeApi({
      "GET /api/v1/validations/3": { body: blocked },
      "POST /api/v1/validations/3/merge": {
        body: { ...blocked, merged: true, merge_sha: "789513a869432ead", merge_blocked_reason: null },
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ValidationView listed={blocked} attempts={4} pullRequest={pullRequest} />);
    await user.click(screen.getByRole("button", { name: "Merge pull request" }));
    expect(await screen.findByText("Merged")).toBeInTheDocument();
    expect(server.calls.map((call) => `${call.method} ${call.path}`)).toContain("POST /api/v1/validations/3/merge");
  });

  it("says why a green validation was not merged", () => {
    fakeApi();
    const blocked = validation({ status: "passed", merge_blocked_reason: "the required check web_eval was skipped", steps: [] });
    renderWithCache(<ValidationView listed={blocked} attempts={null} pullRequest={pullRequest} />);
    expect(screen.getByText("Merge blocked")).toBeInTheDocument();
    expect(screen.getByText("the required check web_eval was skipped")).toBeInTheDocument();
  });

  it("says a failure the base branch shares is the project's settings' fault, not the agent's", () => {
    fakeApi();
    const setup = validation({
      status: "error",
      fault: "setup",
      failed_step: "deploy",
      failed_check: "build",
      base_sha: "abc1234f7c0e51d2b8a96c3e4d5f60718293a4b5",
      reason: "the base branch fails here too: main at abc1234f7c0e failed the same way (npm: not found)",
      error_context: "Validation attempt 1 of 3 ... npm: not found",
      steps: [step("snapshot", "passed"), step("clone", "passed"), step("deploy", "failed")],
    });
    renderWithCache(<ValidationView listed={setup} attempts={3} pullRequest={pullRequest} />);
    const note = screen.getByRole("note", { name: "Whose fault" });
    expect(note).toHaveTextContent("Setup: the base branch fails the same way — fix the project's settings");
    expect(note).toHaveTextContent("Compared with main @ abc1234.");
    expect(within(note).getByRole("link", { name: "Edit the project's settings" })).toHaveAttribute("href", "/projects/1/edit");
    expect(screen.getByText("Build, test and deploy (build)", { selector: "strong" })).toBeInTheDocument();
    expect(screen.getByText("(build failed)")).toBeInTheDocument();
    expect(screen.queryByText("Error context sent back to the agent")).toBeNull();
    expect(screen.getByText(/not sent to the agent/)).toBeInTheDocument();
  });

  it("says whose fault the other verdicts are", () => {
    fakeApi();
    const code = validation({ status: "failed", fault: "code", failed_step: "health_check", failed_check: "health", steps: [] });
    const { unmount } = renderWithCache(<ValidationView listed={code} attempts={3} pullRequest={pullRequest} />);
    expect(screen.getByRole("note", { name: "Whose fault" })).toHaveTextContent("Code: sent back to the agent");
    expect(screen.getByText("Health check", { selector: "strong" })).toBeInTheDocument();
    unmount();
    const sandbox = validation({ status: "error", fault: "infrastructure", steps: [] });
    renderWithCache(<ValidationView listed={sandbox} attempts={3} pullRequest={pullRequest} />);
    expect(screen.getByRole("note", { name: "Whose fault" })).toHaveTextContent(
      "Infrastructure: the sandbox could not run it",
    );
  });

  it("titles a baseline by its branch and commit, with no pull request, and retries the base branch", async () => {
    const failed = baseline({ status: "failed", failed_step: "deploy", failed_check: "test", reason: "2 tests failed", steps: [] });
    const server = fakeApi({
      "GET /api/v1/validations/2": { body: failed },
      "POST /api/v1/validations/2/retry": { status: 202, body: baseline({ id: 5, status: "queued", steps: [] }) },
    });
    const user = userEvent.setup();
    renderWithCache(<ValidationView listed={failed} attempts={null} pullRequest={null} />);
    expect(screen.getByRole("article", { name: "Base branch validation" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Base branch main @ abc1234" })).toBeInTheDocument();
    expect(screen.queryByText(/Pull request #/)).toBeNull();
    expect(screen.queryByText(/Attempt/)).toBeNull();
    expect(screen.getByText("Build, test and deploy (tests)", { selector: "strong" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Retry base branch" }));
    await waitFor(() => expect(server.calls.map((call) => `${call.method} ${call.path}`)).toContain("POST /api/v1/validations/2/retry"));
  });

  it("says who opened a pull request that none of our runs opened, and nobody for our own", () => {
    fakeApi();
    const theirs = validation({
      agent_run_id: null,
      pr_number: 12,
      pull_request: pullRequestSummary({
        number: 12,
        title: "Bump lodash",
        url: "https://github.com/octo-org/shop/pull/12",
        branch: "dependabot/npm_and_yarn/lodash-4.17.21",
        author: "alice",
      }),
      status: "passed",
      merge_blocked_reason: "pull requests by alice are validated, not merged automatically (validation_settings.auto_merge_authors)",
      steps: [],
    });
    const { unmount } = renderWithCache(<ValidationView listed={theirs} attempts={null} pullRequest={null} />);
    expect(screen.getByRole("link", { name: "Pull request #12" })).toHaveAttribute("href", "https://github.com/octo-org/shop/pull/12");
    expect(screen.getByText("by alice")).toBeInTheDocument();
    unmount();

    renderWithCache(<ValidationView listed={validation({ steps: [] })} attempts={3} pullRequest={pullRequest} />);
    expect(screen.getByRole("link", { name: "Pull request #1" })).toBeInTheDocument();
    expect(screen.queryByText(/^by /)).toBeNull();
  });
});

