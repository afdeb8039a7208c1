import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, vi } from "vitest";
import type { Artifact } from "../api/types";
import { fakeApi } from "../testing/fake-api";
import { TOKEN, renderWithCache } from "../testing/render";
import { step, validation } from "../testing/samples";
import { traceLabel } from "./playwright-traces";
import { ValidationView } from "./validation-view";

function artifact(name: string, kind: Artifact["kind"], size = 120): Artifact {
  return { name, kind, size, url: `/api/v1/validations/3/artifacts/${name}` };
}

const failed = validation({
  status: "failed",
  steps: [step("web_eval", "failed", "page / threw TypeError: boom")],
  artifacts: [artifact("page-0.txt", "page_text"), artifact("trace.zip", "trace", 300 * 1024)],
});

let saved: string[];

beforeEach(() => {
  let made = 0;
  // jsdom has no blob URLs, and does not save files: these stand in, and record what was saved.
  URL.createObjectURL = vi.fn(() => `blob:http://dashboard.test/${made++}`);
  URL.revokeObjectURL = vi.fn();
  saved = [];
  vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
    saved.push(this.download);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe("PlaywrightTraces", () => {
  it("fetches the trace with the token only when asked, saves it, and says how to open it", async () => {
    const server = fakeApi({
      "GET /api/v1/validations/3": { body: failed },
      "GET /api/v1/validations/3/artifacts/page-0.txt": { text: "main\n" },
      "GET /api/v1/validations/3/artifacts/trace.zip": { text: "PK\x03\x04 fake zip" },
    });
    const user = userEvent.setup();
    renderWithCache(<ValidationView listed={failed} attempts={3} pullRequest={null} />);
    const traces = await screen.findByRole("list", { name: "Playwright traces" });
    const ask = within(traces).getByRole("button", { name: "Playwright trace (300 KiB)" });
    expect(screen.getByText("npx playwright show-trace trace.zip")).toBeInTheDocument();
    await screen.findByRole("link", { name: "Text of page 1" });
    expect(server.calls.some((call) => call.path.endsWith("/trace.zip"))).toBe(false);

    await user.click(ask);
    const link = await within(traces).findByRole("link", { name: "Playwright trace" });
    expect(link).toHaveAttribute("download", "trace.zip");
    expect(link.getAttribute("href")).toMatch(/^blob:/);
    const fetched = server.calls.filter((call) => call.path === "/api/v1/validations/3/artifacts/trace.zip");
    expect(fetched.map((call) => call.auth)).toEqual([`Bearer ${TOKEN}`]);
    expect(saved).toEqual(["trace.zip"]);
  });

  it("names a scenario's trace by the scenario, counted from 1", () => {
    expect(traceLabel("trace.zip")).toBe("Playwright trace");
    expect(traceLabel("scenario-0.zip")).toBe("Playwright trace of scenario 1");
  });

  it("shows no traces when the validation kept none", async () => {
    const passed = validation({
      status: "passed",
      steps: [step("web_eval", "passed", "1 page passed in 1.0 s")],
      artifacts: [artifact("page-0.txt", "page_text")],
    });
    fakeApi({ "GET /api/v1/validations/3/artifacts/page-0.txt": { text: "main\n" } });
    renderWithCache(<ValidationView listed={passed} attempts={3} pullRequest={null} />);
    await screen.findByRole("link", { name: "Text of page 1" });
    expect(screen.queryByRole("list", { name: "Playwright traces" })).toBeNull();
    expect(screen.queryByText(/show-trace/)).toBeNull();
  });
});
