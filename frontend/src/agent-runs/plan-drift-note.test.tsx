import { render, screen, within } from "@testing-library/react";
import { planDrift } from "../testing/samples";
import { PlanDriftNote } from "./plan-drift-note";

describe("PlanDriftNote", () => {
  it("warns that the pull request strays from the plan, and names the files the plan does not", () => {
    const unnamed = ["src/billing.py", "src/mailer.py", "migrations/0042_prices.sql"];
    render(<PlanDriftNote drift={planDrift({ strays: true, unnamed, changed: 4 })} />);
    const warning = screen.getByRole("region", { name: "The pull request strays from the confirmed plan" });
    expect(warning).toHaveTextContent("3 of 4 changed files are not named in it:");
    const paths = within(warning).getByRole("list", { name: "Changed files the plan does not name" });
    expect(within(paths).getAllByRole("listitem").map((item) => item.textContent)).toEqual(unnamed);
    expect(within(warning).queryByText(/Show the/)).toBeNull();
  });

  it("folds a list of more than ten paths", () => {
    const unnamed = Array.from({ length: 12 }, (_, index) => `src/module_${index}.py`);
    render(<PlanDriftNote drift={planDrift({ strays: true, unnamed, changed: 14 })} />);
    const warning = screen.getByRole("region", { name: "The pull request strays from the confirmed plan" });
    expect(warning).toHaveTextContent("12 of 14 changed files are not named in it:");
    const fold = within(warning).getByText("Show the 12 files").closest("details");
    expect(fold).not.toHaveAttribute("open");
    expect(fold).toHaveTextContent("src/module_11.py");
  });

  it("says quietly that a pull request keeps to the plan", () => {
    render(<PlanDriftNote drift={planDrift({ unnamed: ["src/util.py"], changed: 5 })} />);
    expect(screen.getByText("The pull request keeps to the confirmed plan.")).toBeInTheDocument();
    expect(screen.queryByRole("region")).toBeNull();
    expect(screen.queryByText("src/util.py")).toBeNull();
  });
});
