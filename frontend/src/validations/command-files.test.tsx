import { screen } from "@testing-library/react";
import { beforeEach, vi } from "vitest";
import { fakeApi } from "../testing/fake-api";
import { TOKEN, renderWithCache } from "../testing/render";
import { step, validation } from "../testing/samples";
import { ValidationView } from "./validation-view";

const failed = validation({
  status: "failed",
  steps: [step("deploy", "failed", "build failed (exit code 1)"), step("web_eval", "skipped")],
  artifacts: [{ name: "build-file-1.log", kind: "command_file", size: 2048, url: "/api/v1/validations/3/artifacts/build-file-1.log" }],
});

beforeEach(() => {
  // jsdom has no blob URLs.
  URL.createObjectURL = vi.fn(() => "blob:http://dashboard.test/0");
  URL.revokeObjectURL = vi.fn();
});

describe("CommandFiles", () => {
  it("links each file a failed command pointed to, fetched with the token, apart from the browser's evidence", async () => {
    const server = fakeApi({
      "GET /api/v1/validations/3": { body: failed },
      "GET /api/v1/validations/3/steps/deploy/log": { text: "npm error code EUSAGE\n" },
      "GET /api/v1/validations/3/artifacts/build-file-1.log": { text: "verbose cli npm\n" },
    });
    renderWithCache(<ValidationView listed={failed} attempts={3} pullRequest={null} />);
    const files = await screen.findByRole("region", { name: "Files the failed command pointed to" });
    const link = await screen.findByRole("link", { name: "build-file-1.log (2,048 bytes)" });
    expect(files).toContainElement(link);
    expect(link).toHaveAttribute("download", "build-file-1.log");
    const fetched = server.calls.find((call) => call.path === "/api/v1/validations/3/artifacts/build-file-1.log");
    expect(fetched?.auth).toBe(`Bearer ${TOKEN}`);
    expect(screen.queryByText(/No screenshots or findings were kept/)).toBeInTheDocument();
  });
});
