import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, vi } from "vitest";
import type { Artifact } from "../api/types";
import { fakeApi } from "../testing/fake-api";
import { TOKEN, renderWithCache } from "../testing/render";
import { step, validation } from "../testing/samples";
import { ValidationView } from "./validation-view";

function artifact(name: string, kind: Artifact["kind"]): Artifact {
  return { name, kind, size: 120, url: `/api/v1/validations/3/artifacts/${name}` };
}

/** As report.py `findings_json` writes it. */
const findings = {
  passed: false,
  problems: ["page / logged a console error: boom"],
  evaluation: {
    base_url: "http://127.0.0.1:40123",
    pages: [
      {
        path: "/",
        status: 200,
        load_ms: 80,
        seen: {
          console_errors: [{ text: "boom <b>not bold</b>", location: { url: "/app.js", line: 3, column: 9 } }],
          page_errors: [],
          failed_requests: [
            { method: "GET", url: "/", status: 500, reason: "Internal Server Error" },
            { method: "GET", url: "/api/cart", status: 404, reason: "Not Found" },
          ],
          blocked_requests: [],
        },
        text: "main",
        screenshot: "page-0.png",
        text_artifact: "page-0.txt",
        error: null,
        accessibility: [],
      },
    ],
    scenarios: [],
    duration_ms: 900,
    timed_out: false,
    unfinished: "",
    artifacts: ["page-0.png", "page-0.txt", "findings.json"],
  },
};

const evaluated = validation({
  status: "failed",
  steps: [step("web_eval", "failed", "page / logged a console error: boom")],
  artifacts: [artifact("page-0.png", "screenshot"), artifact("page-0.txt", "page_text"), artifact("findings.json", "findings")],
});

let madeUrls: string[];
let revokedUrls: string[];

beforeEach(() => {
  madeUrls = [];
  revokedUrls = [];
  // jsdom has no blob URLs: these stand in for the browser's, and record what was made and freed.
  URL.createObjectURL = vi.fn(() => {
    const url = `blob:http://dashboard.test/${madeUrls.length}`;
    madeUrls.push(url);
    return url;
  });
  URL.revokeObjectURL = vi.fn((url: string) => void revokedUrls.push(url));
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function serveEvaluation() {
  return fakeApi({
    "GET /api/v1/validations/3": { body: evaluated },
    "GET /api/v1/validations/3/artifacts/page-0.png": { text: "\x89PNG fake bytes" },
    "GET /api/v1/validations/3/artifacts/page-0.txt": { text: "main\n  heading \"Shop\"\n" },
    "GET /api/v1/validations/3/artifacts/findings.json": { body: findings },
  });
}

describe("BrowserEvaluation", () => {
  it("fetches each screenshot with the token and shows it as a thumbnail", async () => {
    const server = serveEvaluation();
    renderWithCache(<ValidationView listed={evaluated} attempts={3} pullRequest={null} />);
    const thumbnail = await screen.findByRole("img", { name: "Screenshot of page 1" });
    expect(thumbnail.getAttribute("src")).toMatch(/^blob:/);
    const fetched = server.calls.find((call) => call.path === "/api/v1/validations/3/artifacts/page-0.png");
    expect(fetched?.auth).toBe(`Bearer ${TOKEN}`);
  });

  it("opens the full-size screenshot on a click, and closes it with Escape", async () => {
    serveEvaluation();
    const user = userEvent.setup();
    renderWithCache(<ValidationView listed={evaluated} attempts={3} pullRequest={null} />);
    await user.click(await screen.findByRole("button", { name: "Screenshot of page 1" }));
    const dialog = screen.getByRole("dialog", { name: "Screenshot of page 1" });
    const full = within(dialog).getByRole("img", { name: "Screenshot of page 1, full size" });
    expect(full).toHaveAttribute("src", screen.getByRole("img", { name: "Screenshot of page 1" }).getAttribute("src"));
    expect(within(dialog).getByRole("button", { name: "Close the screenshot" })).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(screen.getByRole("button", { name: "Screenshot of page 1" })).toHaveFocus();
  });

  it("lists the findings' console errors and failed requests as text, not the page's own answer", async () => {
    serveEvaluation();
    renderWithCache(<ValidationView listed={evaluated} attempts={3} pullRequest={null} />);
    const page = await screen.findByRole("region", { name: "Findings on page /" });
    expect(within(page).getByText("Console error: boom <b>not bold</b> (at /app.js:3:9)")).toBeInTheDocument();
    expect(within(page).getByText("Failed request: GET /api/cart → 404 Not Found")).toBeInTheDocument();
    expect(within(page).queryByText(/GET \/ → 500/)).toBeNull();
    expect(page.querySelector("b")).toBeNull();
  });

  it("shows the AI judge's verdict in its words and the model's reasons as text", async () => {
    const server = serveEvaluation();
    const judge = { gate: false, verdict: "does_not_meet", reasons: ["No <b>cart</b> button on /"], model: "judge-1", no_verdict: null };
    server.on("GET /api/v1/validations/3/artifacts/findings.json", { body: { ...findings, judge } });
    renderWithCache(<ValidationView listed={evaluated} attempts={3} pullRequest={null} />);
    const verdict = await screen.findByRole("region", { name: "AI judge" });
    expect(within(verdict).getByRole("heading")).toHaveTextContent("AI judge (judge-1): does not meet the goal");
    expect(within(verdict).getByText("reported only")).toBeInTheDocument();
    const reasons = within(verdict).getByRole("list", { name: "The judge's reasons" });
    expect(within(reasons).getByText("No <b>cart</b> button on /")).toBeInTheDocument();
    expect(verdict.querySelector("b")).toBeNull();
  });

  it("says why the AI judge gave no verdict, and shows no judge when none was asked for", async () => {
    const server = serveEvaluation();
    const judge = { gate: true, verdict: null, reasons: [], model: "judge-1", no_verdict: "judge unavailable: HTTP 503" };
    server.on("GET /api/v1/validations/3/artifacts/findings.json", { body: { ...findings, judge } });
    const { unmount } = renderWithCache(<ValidationView listed={evaluated} attempts={3} pullRequest={null} />);
    const verdict = await screen.findByRole("region", { name: "AI judge" });
    expect(within(verdict).getByRole("heading")).toHaveTextContent("AI judge (judge-1): judge unavailable: HTTP 503");
    unmount();
    server.on("GET /api/v1/validations/3/artifacts/findings.json", { body: { ...findings, judge: null } });
    renderWithCache(<ValidationView listed={evaluated} attempts={3} pullRequest={null} />);
    await screen.findByRole("region", { name: "Findings on page /" });
    expect(screen.queryByRole("region", { name: "AI judge" })).toBeNull();
  });

  it("labels the scenarios from the plan and says which of its checks were not run", async () => {
    const server = serveEvaluation();
    const outcome = { index: 0, action: "goto /", expected: "GET / loads", seen: "loaded", passed: true };
    const missing = { index: 1, action: 'click "Buy"', expected: "a button named Buy", seen: "none", passed: false };
    const seen = { console_errors: [], page_errors: [], failed_requests: [], blocked_requests: [] };
    const run = { seen, text: "", screenshot: null, text_artifact: null };
    const scenarios = [
      { ...run, name: "from the plan: own", steps: [outcome], from_plan: false },
      { ...run, name: "from the plan: Buy", steps: [outcome, missing], from_plan: true },
    ];
    const note = "the plan's acceptance checks could not be read: 0.steps: <i>bad</i>";
    server.on("GET /api/v1/validations/3/artifacts/findings.json", {
      body: { ...findings, plan: { first_scenario: 1, notes: [note] }, evaluation: { ...findings.evaluation, scenarios } },
    });
    renderWithCache(<ValidationView listed={evaluated} attempts={3} pullRequest={null} />);
    const planned = await screen.findByRole("region", { name: "Findings of scenario Buy from the plan" });
    expect(within(planned).getByRole("heading")).toHaveTextContent("Scenario “Buy” from the plan: failed at step 1");
    // A project's own scenario keeps its name as written, whatever it is.
    const own = screen.getByRole("region", { name: "Findings of scenario from the plan: own" });
    expect(within(own).getByRole("heading")).toHaveTextContent("Scenario “from the plan: own”: passed");
    const unread = screen.getByRole("list", { name: "Not run from the plan" });
    expect(within(unread).getByText(note)).toBeInTheDocument();
    expect(unread.querySelector("i")).toBeNull();
  });

  it("shows findings of a shape it does not know as JSON", async () => {
    const server = serveEvaluation();
    server.on("GET /api/v1/validations/3/artifacts/findings.json", { body: { verdict: "odd", pages: 2 } });
    renderWithCache(<ValidationView listed={evaluated} attempts={3} pullRequest={null} />);
    expect(await screen.findByText(/"verdict": "odd"/)).toBeInTheDocument();
  });

  it("links each page's text for download, and frees the blob URLs when it goes away", async () => {
    serveEvaluation();
    const { unmount } = renderWithCache(<ValidationView listed={evaluated} attempts={3} pullRequest={null} />);
    const link = await screen.findByRole("link", { name: "Text of page 1" });
    expect(link).toHaveAttribute("download", "page-0.txt");
    expect(link.getAttribute("href")).toMatch(/^blob:/);
    await screen.findByRole("img", { name: "Screenshot of page 1" });
    unmount();
    expect([...revokedUrls].sort()).toEqual([...madeUrls].sort());
  });

  it("shows nothing and fetches nothing when the validation kept no artifacts", async () => {
    const plain = validation({ status: "passed", steps: [step("deploy", "passed")], artifacts: [] });
    const server = fakeApi({ "GET /api/v1/validations/3/steps/deploy/log": { text: "deployed\n" } });
    renderWithCache(<ValidationView listed={plain} attempts={3} pullRequest={null} />);
    // The view's own reads have happened once its step log shows.
    expect(await screen.findByText(/deployed/)).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Browser evaluation" })).toBeNull();
    expect(screen.queryByRole("img")).toBeNull();
    expect(server.calls.some((call) => call.path.includes("/artifacts/"))).toBe(false);
  });
});
