import { render, screen } from "@testing-library/react";
import { stats } from "../testing/samples";
import { ProjectCharts, runningPassRate } from "./project-charts";

const point = (id: number, status: "passed" | "failed", duration_s: number) => ({
  id,
  attempt: id,
  pr_number: 1,
  status,
  created_at: "2026-11-26T09:00:00Z",
  duration_s,
});

describe("ProjectCharts", () => {
  it("draws pass rate, duration and attempts, each with a summary in words", () => {
    render(
      <ProjectCharts
        stats={stats({
          history: [point(1, "failed", 1.4), point(2, "passed", 1.8)],
          attempts_per_merged_pr: [{ pr_number: 1, attempts: 2 }],
          pass_rate: 0.5,
        })}
      />,
    );
    expect(screen.getByRole("img", { name: /Pass rate after each of 2 validations.*0%, 50%\. Now 50%/ })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: /Duration of the last 2 validations.*1\.4 s, 1\.8 s/ })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: "Validation attempts per merged pull request: #1: 2." })).toBeInTheDocument();
  });

  it("says so when there is nothing to draw yet", () => {
    render(<ProjectCharts stats={stats()} />);
    expect(screen.getByText("No merged pull requests yet.")).toBeInTheDocument();
    expect(screen.queryAllByRole("img")).toHaveLength(0);
  });
});

describe("runningPassRate", () => {
  it("counts only verdicts", () => {
    expect(runningPassRate(["cancelled", "failed", "passed", "error", "passed"])).toEqual([null, 0, 0.5, 0.5, 2 / 3]);
  });
});
