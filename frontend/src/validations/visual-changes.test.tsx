import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, vi } from "vitest";
import type { Artifact } from "../api/types";
import { fakeApi } from "../testing/fake-api";
import { TOKEN, renderWithCache } from "../testing/render";
import { step, validation } from "../testing/samples";
import { ValidationView } from "./validation-view";

function artifact(name: string, kind: Artifact["kind"]): Artifact {
  return { name, kind, size: 120, url: `/api/v1/validations/3/artifacts/${name}` };
}

const BASE = "main at abc1234";

/** As report.py `findings_json` writes it, with web_visual's before/after. */
function findings(visualChanges: unknown) {
  return {
    passed: true,
    problems: [],
    judge: null,
    plan: null,
    visual_changes: visualChanges,
    evaluation: {
      base_url: "http://127.0.0.1:40123",
      pages: [
        { path: "/", status: 200, load_ms: 80, seen: {}, text: "", screenshot: "page-0.png", error: null, accessibility: [] },
        { path: "/about", status: 200, load_ms: 80, seen: {}, text: "", screenshot: "page-1.png", error: null, accessibility: [] },
      ],
      scenarios: [],
      duration_ms: 900,
    },
  };
}

function change(path: string, index: number, changed: number, mentioned: boolean) {
  return {
    path,
    changed,
    screenshot: `page-${index}.png`,
    base_screenshot: `base-page-${index}.png`,
    base: BASE,
    mentioned,
    large: changed >= 0.1,
  };
}

const names = ["page-0.png", "page-1.png", "base-page-0.png", "base-page-1.png"];
const compared = validation({
  status: "passed",
  steps: [step("web_eval", "passed", "2 pages passed in 0.9 s")],
  artifacts: [...names.map((name) => artifact(name, "screenshot")), artifact("findings.json", "findings")],
});

beforeEach(() => {
  let made = 0;
  // jsdom has no blob URLs: each stands in for one, named after the bytes it was made of.
  URL.createObjectURL = vi.fn(() => `blob:http://dashboard.test/${made++}`);
  URL.revokeObjectURL = vi.fn();
});

function serve(visualChanges: unknown) {
  return fakeApi({
    "GET /api/v1/validations/3": { body: compared },
    "GET /api/v1/validations/3/artifacts/findings.json": { body: findings(visualChanges) },
    ...Object.fromEntries(names.map((name) => [`GET /api/v1/validations/3/artifacts/${name}`, { text: `\x89PNG ${name}` }])),
  });
}

describe("VisualChanges", () => {
  it("shows a large change on a page the goal does not mention side by side, and the others as text", async () => {
    const server = serve([change("/", 0, 0.02, true), change("/about", 1, 0.38, false)]);
    const user = userEvent.setup();
    renderWithCache(<ValidationView listed={compared} attempts={1} pullRequest={null} />);

    const changes = await screen.findByRole("region", { name: "Changes from the base branch" });
    expect(within(changes).getByRole("heading")).toHaveTextContent(`Before/after, against the base branch (${BASE})`);
    const about = within(changes).getByRole("region", { name: "Visual change on page /about" });
    expect(about).toHaveTextContent(
      "Page /about: 38% of its pixels differ from the base branch, and the goal does not mention it (reported, not failed).",
    );
    const before = await within(about).findByRole("img", { name: "Page /about on the base branch" });
    const after = await within(about).findByRole("img", { name: "Page /about in this pull request" });
    const [beforeFigure, afterFigure] = within(about).getAllByRole("figure");
    expect(beforeFigure).toHaveTextContent("base branch");
    expect(afterFigure).toHaveTextContent("this pull request");
    expect(before.getAttribute("src")).not.toBe(after.getAttribute("src"));
    for (const name of ["base-page-1.png", "page-1.png"]) {
      const fetched = server.calls.find((call) => call.path === `/api/v1/validations/3/artifacts/${name}`);
      expect(fetched?.auth).toBe(`Bearer ${TOKEN}`);
    }
    const others = within(changes).getByRole("list", { name: "Other pages against the base branch" });
    expect(within(others).getByRole("listitem")).toHaveTextContent("Page /: 2% changed");
    expect(within(changes).queryByRole("region", { name: "Visual change on page /" })).toBeNull();

    // Full size, as the gallery opens it.
    await user.click(within(about).getByRole("button", { name: "Page /about on the base branch" }));
    const dialog = screen.getByRole("dialog", { name: "Page /about on the base branch" });
    expect(within(dialog).getByRole("img", { name: "Page /about on the base branch, full size" })).toHaveAttribute(
      "src",
      before.getAttribute("src"),
    );
    // The base's copy reads as such in the gallery of all screenshots.
    const gallery = screen.getByRole("list", { name: "Screenshots" });
    expect(await within(gallery).findByRole("img", { name: "Screenshot of page 2 on the base branch" })).toBeInTheDocument();
  });

  it("shows a large change on a page the goal mentions as text only", async () => {
    serve([change("/about", 1, 0.5, true)]);
    renderWithCache(<ValidationView listed={compared} attempts={1} pullRequest={null} />);
    const changes = await screen.findByRole("region", { name: "Changes from the base branch" });
    expect(within(changes).getByRole("listitem")).toHaveTextContent("Page /about: 50% changed (the goal mentions it)");
    expect(within(changes).queryByRole("img")).toBeNull();
  });

  it("shows no before/after without a comparison, and drops a record whose names are not artifacts'", async () => {
    serve(null);
    const { unmount } = renderWithCache(<ValidationView listed={compared} attempts={1} pullRequest={null} />);
    await screen.findByRole("region", { name: "Findings on page /about" });
    expect(screen.queryByRole("region", { name: "Changes from the base branch" })).toBeNull();
    unmount();

    const forged = { ...change("/about", 1, 0.9, false), base_screenshot: "../../secrets.png" };
    serve([forged]);
    renderWithCache(<ValidationView listed={compared} attempts={1} pullRequest={null} />);
    await screen.findByRole("region", { name: "Findings on page /about" });
    expect(screen.queryByRole("region", { name: "Changes from the base branch" })).toBeNull();
  });
});
