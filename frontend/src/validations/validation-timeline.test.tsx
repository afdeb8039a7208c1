import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { step } from "../testing/samples";
import { ValidationTimeline, stepToShow } from "./validation-timeline";

describe("ValidationTimeline", () => {
  it("lists the six steps in order, each with its state in words", () => {
    render(
      <ValidationTimeline
        steps={[
          step("snapshot", "passed"),
          step("clone", "passed"),
          step("deploy", "passed"),
          step("health_check", "failed", "the service exited with code 1"),
          step("web_eval", "skipped"),
        ]}
        selected="health_check"
        onSelect={() => undefined}
      />,
    );
    const items = within(screen.getByRole("list", { name: "Validation steps" })).getAllByRole("listitem");
    expect(items.map((item) => item.textContent)).toEqual([
      expect.stringMatching(/^1Snapshot.*Passed/),
      expect.stringMatching(/^2Clone.*Passed/),
      expect.stringMatching(/^3Build, test and deploy.*Passed/),
      expect.stringMatching(/^4Health check.*Failed.*the service exited with code 1/),
      expect.stringMatching(/^5Browser evaluation.*Skipped/),
      expect.stringMatching(/^6Cleanup.*Pending/),
    ]);
    expect(within(items[3]!).getByRole("button")).toHaveAttribute("aria-pressed", "true");
  });

  it("picks a step to show its log", async () => {
    const chosen: string[] = [];
    render(<ValidationTimeline steps={[]} selected={null} onSelect={(name) => chosen.push(name)} />);
    await userEvent.click(screen.getByRole("button", { name: /Clone/ }));
    expect(chosen).toEqual(["clone"]);
  });
});

describe("stepToShow", () => {
  it("follows the running step, then the failed one, then the build output", () => {
    expect(stepToShow([step("snapshot", "passed"), step("clone", "running")], null)).toBe("clone");
    expect(stepToShow([step("deploy", "passed"), step("health_check", "failed")], "health_check")).toBe("health_check");
    expect(stepToShow([step("deploy", "passed"), step("cleanup", "passed")], null)).toBe("deploy");
    expect(stepToShow([], null)).toBe("snapshot");
  });
});
