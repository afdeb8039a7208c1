import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { applyEvent } from "../live/apply-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { baseline, baselineSummary, errorBody, event, project, stats } from "../testing/samples";
import { ProjectCards } from "./project-cards";

describe("ProjectCards", () => {
  it("shows each project's repository, last run, last validation and success rate in words", async () => {
    fakeApi({
      "GET /api/v1/projects/1/stats": {
        body: stats({
          last_run: { id: 4, goal: "Add /health", status: "waiting_input", updated_at: "2026-11-26T09:00:00Z" },
          last_validation: { id: 2, status: "failed", attempt: 2, pr_number: 3, finished_at: null },
          validations_passed: 3,
          validations_failed: 1,
          pass_rate: 0.75,
        }),
      },
      "GET /api/v1/projects/2/stats": { body: stats({ project_id: 2 }) },
    });
    renderWithCache(<ProjectCards projects={[project(), project({ id: 2, name: "blog", repository: "/srv/git/blog" })]} />);
    const shop = screen.getByRole("article", { name: "Project shop" });
    expect(within(shop).getByRole("link", { name: "shop" })).toHaveAttribute("href", "/projects/1");
    expect(shop).toHaveTextContent("/srv/git/shop");
    expect(shop).toHaveTextContent("Scripted agent (not AI)");
    expect(await within(shop).findByText("Waiting for you")).toBeInTheDocument();
    expect(shop).toHaveTextContent("FailedPR #3, attempt 2");
    expect(shop).toHaveTextContent("75% of 4 validations passed");
    const blog = screen.getByRole("article", { name: "Project blog" });
    expect(await within(blog).findByText("No runs yet")).toBeInTheDocument();
  });

  it("shows a base branch that passes, and one not validated yet", async () => {
    fakeApi({
      "GET /api/v1/projects/1/stats": { body: stats({ baseline: baselineSummary() }) },
      "GET /api/v1/projects/2/stats": { body: stats({ project_id: 2 }) },
    });
    renderWithCache(<ProjectCards projects={[project(), project({ id: 2, name: "blog" })]} />);
    const shop = screen.getByRole("article", { name: "Project shop" });
    expect(await within(shop).findByText("Passes")).toBeInTheDocument();
    expect(shop).toHaveTextContent("Base branchPassesmain @ abc1234");
    expect(within(shop).queryByRole("button", { name: "Retry base branch" })).toBeNull();
    const blog = screen.getByRole("article", { name: "Project blog" });
    expect(await within(blog).findByText("Not validated yet")).toBeInTheDocument();
  });

  it("shows a failing base branch, what to do about it, and retries it", async () => {
    const failing = baselineSummary({
      status: "failed",
      failed_step: "deploy",
      failed_check: "build",
      reason: "the build command exited with code 127: npm: not found",
    });
    const server = fakeApi({
      "GET /api/v1/projects/1/stats": { body: stats({ baseline: failing }) },
      "POST /api/v1/validations/2/retry": { status: 202, body: baseline({ id: 9, status: "queued", steps: [] }) },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectCards projects={[project()]} />);
    const shop = screen.getByRole("article", { name: "Project shop" });
    expect(await within(shop).findByText("Fails")).toBeInTheDocument();
    expect(shop).toHaveTextContent("Failsat Build, test and deploy (build)main @ abc1234");
    expect(within(shop).getByTitle(/npm: not found/)).toBeInTheDocument();
    expect(within(shop).getByText("Why it fails")).toBeInTheDocument();
    expect(shop).toHaveTextContent(
      "Pull requests failing the same way are reported as setup problems, not sent to the agent. Fix the project's settings, then Retry.",
    );
    expect(within(shop).getByRole("link", { name: "the project's settings" })).toHaveAttribute("href", "/projects/1/edit");

    await user.click(within(shop).getByRole("button", { name: "Retry base branch" }));

    await waitFor(() => expect(server.calls.map((call) => `${call.method} ${call.path}`)).toContain("POST /api/v1/validations/2/retry"));
    expect(await within(shop).findByText("Queued")).toBeInTheDocument();
    expect(within(shop).queryByRole("button", { name: "Retry base branch" })).toBeNull();
  });

  it("says inline why the base branch could not be retried", async () => {
    fakeApi({
      "GET /api/v1/projects/1/stats": { body: stats({ baseline: baselineSummary({ status: "error", reason: "the sandbox failed twice" }) }) },
      "POST /api/v1/validations/2/retry": { status: 409, body: errorBody("the base branch is being validated already") },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectCards projects={[project()]} />);
    const shop = screen.getByRole("article", { name: "Project shop" });
    await user.click(await within(shop).findByRole("button", { name: "Retry base branch" }));
    expect(await within(shop).findByRole("alert")).toHaveTextContent("the base branch is being validated already");
  });

  it("follows the base branch's validation live", async () => {
    const server = fakeApi({
      "GET /api/v1/projects/1/stats": { body: stats({ baseline: baselineSummary({ status: "running", reason: null, finished_at: null }) }) },
    });
    const { client } = renderWithCache(<ProjectCards projects={[project()]} />);
    const shop = screen.getByRole("article", { name: "Project shop" });
    expect(await within(shop).findByText("Running…")).toBeInTheDocument();

    const failed = { status: "failed" as const, failed_step: "deploy" as const, reason: "2 tests failed" };
    server.on("GET /api/v1/projects/1/stats", { body: stats({ baseline: baselineSummary({ ...failed, failed_check: "test" }) }) });
    act(() =>
      applyEvent(
        client,
        event("validation_completed", {
          validation_id: 2,
          agent_run_id: null,
          kind: "baseline",
          pr_number: null,
          attempt: 1,
          fault: null,
          checks: { build: "passed", test: "failed" },
          ...failed,
        }),
      ),
    );

    expect(await within(shop).findByText("Fails")).toBeInTheDocument();
    expect(within(shop).getByRole("button", { name: "Retry base branch" })).toBeInTheDocument();
    // The check comes with the stats, read again.
    await waitFor(() => expect(shop).toHaveTextContent("at Build, test and deploy (tests)"));
  });

  it("shows where each project's repository lives beside it", () => {
    fakeApi({
      "GET /api/v1/projects/1/stats": { body: stats() },
      "GET /api/v1/projects/2/stats": { body: stats({ project_id: 2 }) },
    });
    renderWithCache(
      <ProjectCards projects={[project(), project({ id: 2, name: "blog", forge: "github", repository: "octo-org/blog" })]} />,
    );
    expect(screen.getByRole("article", { name: "Project shop" })).toHaveTextContent("/srv/git/shop, local repository");
    expect(screen.getByRole("article", { name: "Project blog" })).toHaveTextContent("octo-org/blog, GitHub repository");
  });
});

