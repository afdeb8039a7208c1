import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { NO_LIMITS, fieldError, invalid, project } from "../testing/samples";
import { ProjectForm } from "./project-form";

const cliAgent = {
  provider: "cli" as const,
  command: "aider --yes-always --message {prompt}",
  allowed_hosts: ["api.anthropic.com", "*.example.com"],
  secrets: ["ANTHROPIC_API_KEY", "GITHUB_TOKEN"],
  plan_first: true,
  timeout_minutes: 12.5,
  budgets: NO_LIMITS,
};

/** Replaces a field's text as a paste does (typing would read `{prompt}`'s braces as keys). */
async function enter(user: ReturnType<typeof userEvent.setup>, label: string, text: string) {
  const field = screen.getByLabelText(label);
  await user.clear(field);
  await user.click(field);
  await user.paste(text);
}

describe("AgentFields", () => {
  it("says what each provider is, the scripted one not an AI", () => {
    fakeApi();
    renderWithCache(<ProjectForm />);
    const provider = screen.getByLabelText("Agent");
    expect(within(provider).getAllByRole("option").map((option) => option.textContent)).toEqual([
      "Scripted agent (not AI)",
      "Codegen",
      "Command-line agent",
    ]);
    expect(provider).toHaveAccessibleDescription(
      expect.stringMatching(/scripted agent replays a recipe: it is not an AI.*Codegen account.*aider or Claude Code, runs in the project's sandbox, and CodegenApp commits its changes/),
    );
  });

  it("shows a project's command-line agent as it is stored, and sends it back unchanged", async () => {
    const stored = project({ agent: cliAgent });
    const server = fakeApi({ "PUT /api/v1/projects/1": { body: stored } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={stored} />);
    expect(screen.getByLabelText("Agent")).toHaveValue("cli");
    const command = screen.getByLabelText("Agent command");
    expect(command).toHaveValue("aider --yes-always --message {prompt}");
    expect(command).toHaveClass("font-mono");
    expect(screen.getByLabelText("Hosts the agent may reach")).toHaveValue("api.anthropic.com\n*.example.com");
    expect(screen.getByLabelText("Secrets the agent gets")).toHaveValue("ANTHROPIC_API_KEY\nGITHUB_TOKEN");
    expect(screen.getByRole("checkbox", { name: /^Plan first/ })).toBeChecked();
    expect(screen.getByLabelText("Turn timeout (minutes)")).toHaveValue("12.5");
    expect(screen.queryByLabelText("Recipe")).toBeNull();

    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect((server.calls[0]?.body as { agent: unknown }).agent).toEqual(cliAgent);
  });

  it("chooses the command-line agent and sends its command, hosts, secrets, plan-first and timeout", async () => {
    const server = fakeApi({ "POST /api/v1/projects": { body: project({ agent: cliAgent }) } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await enter(user, "Name", "shop");
    await enter(user, "Repository", "/srv/git/shop");
    await user.selectOptions(screen.getByLabelText("Agent"), "Command-line agent");
    expect(screen.getByLabelText("Turn timeout (minutes)")).toHaveValue("30");
    expect(screen.getByRole("checkbox", { name: /^Plan first/ })).not.toBeChecked();
    await enter(user, "Agent command", "claude -p {prompt}");
    await enter(user, "Hosts the agent may reach", "api.anthropic.com\n\n  *.example.com \n");
    await enter(user, "Secrets the agent gets", "ANTHROPIC_API_KEY\n");
    await enter(user, "Turn timeout (minutes)", "0.5");
    await user.click(screen.getByRole("checkbox", { name: /^Plan first/ }));
    await user.click(screen.getByRole("button", { name: "Create project" }));

    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect((server.calls[0]?.body as { agent: unknown }).agent).toEqual({
      provider: "cli",
      command: "claude -p {prompt}",
      allowed_hosts: ["api.anthropic.com", "*.example.com"],
      secrets: ["ANTHROPIC_API_KEY"],
      plan_first: true,
      timeout_minutes: 0.5,
      budgets: NO_LIMITS,
    });
  });

  it("says a timeout that is not a number before asking the API", async () => {
    const server = fakeApi();
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={project({ agent: cliAgent })} />);
    await enter(user, "Turn timeout (minutes)", "half an hour");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    expect(screen.getByLabelText("Turn timeout (minutes)")).toHaveAccessibleDescription(
      expect.stringContaining("Enter a number, such as 2 or 0.5."),
    );
    expect(server.calls).toEqual([]);
  });

  it("shows the API's refusal of the command, a host, a secret and the timeout next to each field", async () => {
    fakeApi({
      "PUT /api/v1/projects/1": {
        status: 422,
        body: invalid(
          fieldError(["body", "agent", "command"], "must be a shell command, not blank"),
          fieldError(["body", "agent", "allowed_hosts", 1], "'*.' is not a host name or *.domain wildcard"),
          fieldError(["body", "agent", "secrets"], "'CODEGENAPP_TOKEN': names starting with CODEGENAPP_ are ours"),
          fieldError(["body", "agent", "timeout_minutes"], "Input should be less than or equal to 1440", "less_than_equal"),
        ),
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={project({ agent: cliAgent })} />);
    await enter(user, "Agent command", " ");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    const command = screen.getByLabelText("Agent command");
    await waitFor(() => expect(command).toHaveAttribute("aria-invalid", "true"));
    expect(command).toHaveFocus();
    expect(command).toHaveAccessibleDescription(expect.stringMatching(/^Must be a shell command, not blank/));
    expect(screen.getByLabelText("Hosts the agent may reach")).toHaveAccessibleDescription(
      expect.stringMatching(/^'\*\.' is not a host name/),
    );
    expect(screen.getByLabelText("Secrets the agent gets")).toHaveAccessibleDescription(
      expect.stringMatching(/^'CODEGENAPP_TOKEN': names starting with CODEGENAPP_ are ours/),
    );
    expect(screen.getByLabelText("Turn timeout (minutes)")).toHaveAccessibleDescription(
      expect.stringMatching(/^Input should be less than or equal to 1440/),
    );
    expect(screen.getByRole("alert")).toHaveTextContent(/^The project was not saved: 4 values need a change\.$/);
    expect(screen.getByLabelText("Agent")).not.toHaveAttribute("aria-invalid");
    expect(screen.getByLabelText("Extra allowed hosts")).not.toHaveAttribute("aria-invalid");
  });
});
