import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { queryKeys } from "../api/query-keys";
import { applyEvent } from "../live/apply-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { event } from "../testing/samples";
import { StepLog, logHtml, plainText } from "./step-log";

const LOG = "[codegenapp] test: $ npm test\n\x1b[32mok\x1b[0m 3 tests <b>passed</b>\n";

describe("StepLog", () => {
  it("loads the stored log and renders its ANSI colours, escaping the rest", async () => {
    const server = fakeApi({ "GET /api/v1/validations/3/steps/deploy/log": { text: LOG } });
    renderWithCache(<StepLog validationId={3} step="deploy" live={false} exists />);
    await screen.findByText(/passed/);
    const output = screen.getByLabelText("Build, test and deploy output");
    expect(output).toHaveTextContent("ok 3 tests <b>passed</b>");
    expect(output.querySelector("b")).toBeNull();
    const green = [...output.querySelectorAll("span")].find((span) => span.textContent === "ok");
    expect(green?.style.color).toBe("rgb(0, 187, 0)");
    expect(server.calls[0]?.auth).toBe("Bearer test-token");
  });

  it("sets colours through the DOM: the Content-Security-Policy refuses style attributes in HTML", () => {
    const html = logHtml("\x1b[1;31mfailed\x1b[0m \x1b[38;2;10;20;30mtruecolor\x1b[0m \" style=\"x\" <span style=\"y\">");
    expect(html).not.toMatch(/<[^>]*\sstyle=/);
    expect(html).toContain("&lt;span style=");
  });

  it("grows with live lines for the running step", async () => {
    fakeApi({ "GET /api/v1/validations/3/steps/deploy/log": { text: "first\n" } });
    const { client } = renderWithCache(<StepLog validationId={3} step="deploy" live exists />);
    expect(await screen.findByText("Live")).toBeInTheDocument();
    await screen.findByText(/first/);
    act(() =>
      applyEvent(client, { ...event("validation_log", { validation_id: 3, step: "deploy", text: "second\n" }), id: null }),
    );
    await waitFor(() =>
      expect(screen.getByLabelText("Build, test and deploy output")).toHaveTextContent("first second"),
    );
    expect(client.getQueryData(queryKeys.validations.log(3, "deploy"))).toBe("first\nsecond\n");
  });

  it("copies the log as plain text", async () => {
    fakeApi({ "GET /api/v1/validations/3/steps/deploy/log": { text: LOG } });
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, "writeText").mockResolvedValue();
    renderWithCache(<StepLog validationId={3} step="deploy" live={false} exists />);
    await screen.findByText(/passed/);
    await user.click(screen.getByRole("button", { name: "Copy log" }));
    expect(writeText).toHaveBeenCalledWith(plainText(LOG));
    expect(plainText(LOG)).not.toContain("\x1b");
    expect(await screen.findByText("Copied the log.")).toBeInTheDocument();
  });

  it("asks for nothing before the step exists", () => {
    const server = fakeApi();
    renderWithCache(<StepLog validationId={3} step="cleanup" live={false} exists={false} />);
    expect(screen.getByLabelText("Cleanup output")).toHaveTextContent("(not started)");
    expect(server.calls).toEqual([]);
  });
});
