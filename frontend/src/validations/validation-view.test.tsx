import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { step, validation } from "../testing/samples";
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

  it("says why a green validation was not merged", () => {
    fakeApi();
    const blocked = validation({ status: "passed", merge_blocked_reason: "the required check web_eval was skipped", steps: [] });
    renderWithCache(<ValidationView listed={blocked} attempts={null} pullRequest={pullRequest} />);
    expect(screen.getByText("Merge blocked")).toBeInTheDocument();
    expect(screen.getByText("the required check web_eval was skipped")).toBeInTheDocument();
  });
});
