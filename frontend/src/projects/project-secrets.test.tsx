import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { QueryClient } from "@tanstack/react-query";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { errorBody, fieldError, invalid, secret } from "../testing/samples";
import { ProjectSecrets } from "./project-secrets";

const SECRETS = "/api/v1/projects/1/secrets";
const VALUE = "tr0ub4dor&3-value";

/** Everything the query client holds: cached reads and every mutation's variables and answers. */
function everythingCached(client: QueryClient): string {
  return JSON.stringify([
    client.getQueryCache().getAll().map((query) => query.state),
    client.getMutationCache().getAll().map((mutation) => mutation.state),
  ]);
}

describe("ProjectSecrets", () => {
  it("lists the names and when each was set, never a value, and says what a secret is", async () => {
    fakeApi({ [`GET ${SECRETS}`]: { body: { items: [secret("API_TOKEN"), secret("DB_URL")], total: 2 } } });
    renderWithCache(<ProjectSecrets projectId={1} />);
    const region = screen.getByRole("region", { name: "Secrets" });
    expect(region).toHaveTextContent(/environment variable.*stored encrypted, masked in every log.*never be read back/);
    const list = await within(region).findByRole("list", { name: "Secrets of this project" });
    const rows = within(list).getAllByRole("listitem");
    expect(rows.map((row) => row.textContent)).toEqual([
      expect.stringMatching(/^API_TOKENupdated /),
      expect.stringMatching(/^DB_URLupdated /),
    ]);
    expect(within(rows[0]!).getByRole("button", { name: "Delete secret API_TOKEN" })).toBeInTheDocument();
    expect(screen.getByLabelText("Secret value")).toHaveAttribute("type", "password");
    expect(screen.getByLabelText("Secret value")).toHaveAttribute("autocomplete", "off");
  });

  it("says when there are none", async () => {
    fakeApi({ [`GET ${SECRETS}`]: { body: { items: [], total: 0 } } });
    renderWithCache(<ProjectSecrets projectId={1} />);
    expect(await screen.findByText("No secrets yet.")).toBeInTheDocument();
  });

  it("saves a secret, clears its value and lists it, keeping the value nowhere", async () => {
    const stored = [secret("API_TOKEN")];
    const server = fakeApi({
      [`GET ${SECRETS}`]: () => ({ body: { items: stored, total: stored.length } }),
      [`POST ${SECRETS}`]: ({ body }) => {
        const { name } = body as { name: string };
        stored.push(secret(name, { updated_at: "2026-11-27T10:00:00Z" }));
        return { status: 201, body: stored.at(-1) };
      },
    });
    const user = userEvent.setup();
    const { client } = renderWithCache(<ProjectSecrets projectId={1} />);
    await screen.findByText("API_TOKEN");
    await user.type(screen.getByLabelText("Secret name"), "DB_URL");
    await user.type(screen.getByLabelText("Secret value"), VALUE);
    await user.click(screen.getByRole("button", { name: "Save secret" }));

    expect(await screen.findByRole("button", { name: "Delete secret DB_URL" })).toBeInTheDocument();
    expect(server.calls.find((call) => call.method === "POST")?.body).toEqual({ name: "DB_URL", value: VALUE });
    expect(screen.getByLabelText("Secret value")).toHaveValue("");
    expect(screen.getByLabelText("Secret name")).toHaveValue("");
    expect(screen.getByRole("status")).toHaveTextContent("Secret DB_URL saved.");
    await waitFor(() => expect(server.calls.filter((call) => call.method === "GET")).toHaveLength(2));
    expect(everythingCached(client)).toContain("DB_URL");
    expect(everythingCached(client)).not.toContain(VALUE);
    expect(document.body.innerHTML).not.toContain(VALUE);
  });

  it("says a name already there is replaced", async () => {
    fakeApi({
      [`GET ${SECRETS}`]: { body: { items: [secret("API_TOKEN")], total: 1 } },
      [`POST ${SECRETS}`]: { status: 200, body: secret("API_TOKEN") },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectSecrets projectId={1} />);
    await screen.findByText("API_TOKEN");
    await user.type(screen.getByLabelText("Secret name"), "API_TOKEN");
    await user.type(screen.getByLabelText("Secret value"), VALUE);
    await user.click(screen.getByRole("button", { name: "Save secret" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Secret API_TOKEN replaced.");
  });

  it("shows what the API refuses beside the field it names, and keeps the value to correct", async () => {
    const server = fakeApi({
      [`GET ${SECRETS}`]: { body: { items: [], total: 0 } },
      [`POST ${SECRETS}`]: {
        status: 422,
        body: invalid(
          fieldError(["body", "name"], "PORT is set by CodegenApp itself; choose another name"),
          fieldError(["body", "value"], "String should have at least 4 characters", "string_too_short"),
        ),
      },
    });
    const user = userEvent.setup();
    const { client } = renderWithCache(<ProjectSecrets projectId={1} />);
    await user.type(screen.getByLabelText("Secret name"), "PORT");
    await user.type(screen.getByLabelText("Secret value"), "abc");
    await user.click(screen.getByRole("button", { name: "Save secret" }));

    const name = screen.getByLabelText("Secret name");
    await waitFor(() => expect(name).toHaveAttribute("aria-invalid", "true"));
    expect(name).toHaveAccessibleDescription(expect.stringContaining("PORT is set by CodegenApp itself"));
    expect(name).toHaveFocus();
    const value = screen.getByLabelText("Secret value");
    expect(value).toHaveAccessibleDescription("String should have at least 4 characters");
    expect(value).toHaveValue("abc");
    expect(screen.queryByRole("alert")).toBeNull();
    expect(server.calls.at(-1)?.body).toEqual({ name: "PORT", value: "abc" });
    expect(everythingCached(client)).not.toContain('"abc"');
  });

  it("says an error that names no field above the form", async () => {
    fakeApi({
      [`GET ${SECRETS}`]: { body: { items: [], total: 0 } },
      [`POST ${SECRETS}`]: { status: 404, body: errorBody("project 1 does not exist") },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectSecrets projectId={1} />);
    await user.type(screen.getByLabelText("Secret name"), "API_TOKEN");
    await user.type(screen.getByLabelText("Secret value"), VALUE);
    await user.click(screen.getByRole("button", { name: "Save secret" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The secret was not saved.project 1 does not exist");
  });

  it("deletes a secret after a second, explicit click, or keeps it", async () => {
    let stored = [secret("API_TOKEN"), secret("DB_URL")];
    const server = fakeApi({
      [`GET ${SECRETS}`]: () => ({ body: { items: stored, total: stored.length } }),
      [`DELETE ${SECRETS}/DB_URL`]: () => {
        stored = stored.filter((s) => s.name !== "DB_URL");
        return { status: 204 };
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectSecrets projectId={1} />);
    await user.click(await screen.findByRole("button", { name: "Delete secret API_TOKEN" }));
    expect(screen.getByRole("button", { name: "Yes, delete secret API_TOKEN" })).toHaveFocus();
    await user.click(screen.getByRole("button", { name: "Keep secret API_TOKEN" }));
    expect(screen.getByRole("button", { name: "Delete secret API_TOKEN" })).toHaveFocus();

    await user.click(screen.getByRole("button", { name: "Delete secret DB_URL" }));
    expect(server.calls.some((call) => call.method === "DELETE")).toBe(false);
    await user.click(screen.getByRole("button", { name: "Yes, delete secret DB_URL" }));

    await waitFor(() => expect(screen.queryByText("DB_URL")).toBeNull());
    expect(screen.getByText("API_TOKEN")).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Secret DB_URL deleted.");
    expect(screen.getByLabelText("Secret name")).toHaveFocus();
    expect(server.calls.filter((call) => call.method === "DELETE").map((call) => call.path)).toEqual([`${SECRETS}/DB_URL`]);
  });
});
