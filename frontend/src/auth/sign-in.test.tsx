import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { App } from "../app";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { errorBody } from "../testing/samples";
import { takeTokenFromAddress } from "./token";

describe("signing in", () => {
  it("refuses a token the server does not accept, in words", async () => {
    fakeApi({ "GET /api/v1/events": { status: 401, body: errorBody("a valid access token is required") } });
    const user = userEvent.setup();
    renderWithCache(<App />, { signedIn: false });
    await user.type(screen.getByLabelText("Access token"), "wrong");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("That access token was not accepted.")).toBeInTheDocument();
    expect(screen.getByLabelText("Access token")).toHaveAttribute("aria-invalid", "true");
    expect(window.localStorage.getItem("codegenapp.token")).toBeNull();
  });

  it("keeps a token the server accepts and opens the dashboard", async () => {
    vi.stubGlobal(
      "WebSocket",
      class {
        static readonly CONNECTING = 0;
        readyState = 0;
        close() {}
      },
    );
    const server = fakeApi({
      "GET /api/v1/events": { body: [] },
      "GET /api/v1/projects": { body: { items: [], total: 0 } },
    });
    const user = userEvent.setup();
    renderWithCache(<App />, { signedIn: false });
    await user.type(screen.getByLabelText("Access token"), "good-token");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("button", { name: "Sign out" })).toBeInTheDocument();
    expect(await screen.findByText(/No projects yet/)).toBeInTheDocument();
    expect(window.localStorage.getItem("codegenapp.token")).toBe("good-token");
    expect(server.calls.at(-1)?.auth).toBe("Bearer good-token");
  });
});

describe("takeTokenFromAddress", () => {
  it("takes the login URL's token and removes it from the address bar", () => {
    window.history.replaceState(null, "", "/projects/2?token=abc&tab=x#top");
    expect(takeTokenFromAddress()).toBe("abc");
    expect(`${window.location.pathname}${window.location.search}${window.location.hash}`).toBe("/projects/2?tab=x#top");
    expect(takeTokenFromAddress()).toBeNull();
  });
});
