import { screen, within } from "@testing-library/react";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { project, stats } from "../testing/samples";
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
});
