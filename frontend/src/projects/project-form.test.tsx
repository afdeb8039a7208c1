import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { RECIPE, fieldError, invalid, project } from "../testing/samples";
import { ProjectForm } from "./project-form";

async function fillRequired(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText("Name"), "shop");
  await user.type(screen.getByLabelText("Repository"), "/srv/git/shop");
  // The recipe is YAML text, many lines of it (pasted: typing would read its brackets as keys).
  await user.click(screen.getByLabelText("Recipe"));
  await user.paste(RECIPE);
}

/** Replaces a field's text as a paste does: typing re-renders the form once a character. */
async function enter(user: ReturnType<typeof userEvent.setup>, label: string, text: string) {
  const field = screen.getByLabelText(label);
  await user.clear(field);
  await user.paste(text);
}

describe("ProjectForm", () => {
  it("shows the API's refusal next to the field it names", async () => {
    const server = fakeApi({
      "POST /api/v1/projects": {
        status: 422,
        body: invalid(
          fieldError(["body", "validation_settings", "max_retries"], "Input should be less than or equal to 20", "less_than_equal"),
          fieldError(
            ["body", "deployment_settings", "health_check_url"],
            "must be a path on the deployed app, starting with '/' (or empty)",
          ),
        ),
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await fillRequired(user);
    await user.clear(screen.getByLabelText("Max retries"));
    await user.type(screen.getByLabelText("Max retries"), "50");
    await user.type(screen.getByLabelText("Health check URL"), "health");
    await user.click(screen.getByRole("button", { name: "Create project" }));

    const retries = screen.getByLabelText("Max retries");
    await waitFor(() => expect(retries).toHaveAttribute("aria-invalid", "true"));
    expect(retries).toHaveAccessibleDescription("Input should be less than or equal to 20");
    expect(screen.getByLabelText("Health check URL")).toHaveAccessibleDescription(
      expect.stringContaining("Must be a path on the deployed app"),
    );
    expect(screen.getByRole("alert")).toHaveTextContent("2 values need a change");
    expect(screen.getByLabelText("Name")).not.toHaveAttribute("aria-invalid");
    expect(server.calls[0]?.body).toMatchObject({
      name: "shop",
      agent: { provider: "scripted", recipe: RECIPE },
      validation_settings: { max_retries: 50 },
      deployment_settings: { health_check_url: "health" },
    });
  });

  it("takes the recipe as YAML text in a text area, and shows what the API finds wrong with it", async () => {
    const server = fakeApi({
      "POST /api/v1/projects": {
        status: 422,
        body: invalid(fieldError(["body", "agent", "recipe"], "turn 2 has none of reply, plan, files or fail")),
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    const recipe = screen.getByLabelText("Recipe");
    expect(recipe.tagName).toBe("TEXTAREA");
    expect(recipe).toHaveAccessibleDescription(expect.stringContaining("as YAML (it replays them; it is not an AI)"));
    await fillRequired(user);
    expect(recipe).toHaveValue(RECIPE);
    await user.click(screen.getByRole("button", { name: "Create project" }));
    await waitFor(() => expect(recipe).toHaveAttribute("aria-invalid", "true"));
    expect(recipe).toHaveAccessibleDescription(expect.stringContaining("Turn 2 has none of reply, plan, files or fail"));
    expect(recipe).toHaveFocus();
    expect(server.calls[0]?.body).toMatchObject({ agent: { provider: "scripted", recipe: RECIPE } });
  });

  it("chooses Codegen as the agent, sends its optional repository id and model, ", async () => {
    const server = fakeApi({ "POST /api/v1/projects": { body: project() } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await user.type(screen.getByLabelText("Name"), "shop");
    await user.type(screen.getByLabelText("Repository"), "acme/shop");
    await user.selectOptions(screen.getByLabelText("Agent"), "Codegen");
    expect(screen.queryByLabelText("Recipe")).not.toBeInTheDocument();
    await enter(user, "Codegen repository id", "seven");
    await user.click(screen.getByRole("button", { name: "Create project" }));
    expect(screen.getByLabelText("Codegen repository id")).toHaveAccessibleDescription(
      expect.stringContaining("Enter a whole number."),
    );
    expect(server.calls).toEqual([]);

    await enter(user, "Codegen repository id", "7");
    await user.click(screen.getByRole("button", { name: "Create project" }));
    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect(server.calls[0]?.body).toMatchObject({ agent: { provider: "codegen", repo_id: 7, model: null } });
  });

  it("says what is wrong with a number before asking the API", async () => {
    const server = fakeApi();
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await fillRequired(user);
    await user.clear(screen.getByLabelText("Port"));
    await user.type(screen.getByLabelText("Port"), "eighty");
    await user.click(screen.getByRole("button", { name: "Create project" }));
    expect(screen.getByLabelText("Port")).toHaveAccessibleDescription("Enter a whole number.");
    expect(server.calls).toEqual([]);
  });

  it("edits a project's settings and sends them whole", async () => {
    const server = fakeApi({ "PUT /api/v1/projects/1": { body: project({ name: "shop" }) } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={project()} />);
    expect(screen.getByLabelText("Deploy command")).toHaveValue("python3 app.py");
    expect(screen.getByLabelText("Recipe")).toHaveValue(RECIPE);
    expect(screen.getByRole("checkbox", { name: "Health check passes" })).toBeChecked();
    await user.click(screen.getByRole("checkbox", { name: "Tests" }));
    await user.type(screen.getByLabelText("Environment variables"), "APP_MODE=demo");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect(server.calls[0]?.body).toMatchObject({
      validation_settings: { required_checks: ["health", "test"] },
      deployment_settings: { environment_variables: { APP_MODE: "demo" }, port: 8080 },
    });
    await waitFor(() => expect(window.location.pathname).toBe("/projects/1"));
  });

  it("groups the sandbox settings and sends them typed: numbers, a list entry a line, NAME=value maps", async () => {
    const server = fakeApi({ "POST /api/v1/projects": { body: project() } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await fillRequired(user);
    const sandbox = screen.getByRole("group", { name: "Sandbox" });
    expect(sandbox).toContainElement(screen.getByLabelText("Memory (MB)"));
    expect(sandbox).toContainElement(screen.getByLabelText("Extra allowed hosts"));
    expect(screen.getByRole("option", { name: "Process — NOT ISOLATED" })).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Sandbox"), "Bubblewrap");
    await enter(user, "CPUs", "1.5");
    await enter(user, "Memory (MB)", "2048");
    await enter(user, "Processes", "512");
    await enter(user, "Disk (MB)", "4096");
    await enter(user, "Tools first on PATH", ".venv/bin\n\nnode_modules/.bin\n");
    await enter(user, "Extra allowed hosts", "pypi.example.com\n\n*.example.org");
    await enter(user, "Build environment", "NODE_ENV=development\n\nCC=gcc -O2");
    await enter(user, "Service environment", "NODE_ENV=production");
    await enter(user, "Health check timeout (s)", "90");
    expect(screen.getByLabelText("Network")).toHaveValue("registries");
    await user.selectOptions(screen.getByLabelText("Network"), "None");
    await user.click(screen.getByRole("button", { name: "Create project" }));

    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect(server.calls[0]?.body).toMatchObject({
      deployment_settings: {
        sandbox: "bubblewrap",
        image: "",
        resources: { cpus: 1.5, memory_mb: 2048, pids: 512, disk_mb: 4096 },
        path_prepend: [".venv/bin", "node_modules/.bin"],
        network: "none",
        allowed_hosts: ["pypi.example.com", "*.example.org"],
        build_environment: { NODE_ENV: "development", CC: "gcc -O2" },
        service_environment: { NODE_ENV: "production" },
        health_check_timeout_seconds: 90,
        environment_variables: {},
      },
    });
  });

  it("shows a refusal of a nested setting next to its own field", async () => {
    fakeApi({
      "POST /api/v1/projects": {
        status: 422,
        body: invalid(
          fieldError(
            ["body", "deployment_settings", "resources", "memory_mb"],
            "Input should be greater than or equal to 64",
            "greater_than_equal",
          ),
          fieldError(
            ["body", "deployment_settings", "allowed_hosts", 0],
            "String should have at most 253 characters",
            "string_too_long",
          ),
        ),
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await fillRequired(user);
    await enter(user, "Memory (MB)", "8");
    await enter(user, "Extra allowed hosts", `${"a".repeat(250)}.example.com`);
    await user.click(screen.getByRole("button", { name: "Create project" }));

    const memory = screen.getByLabelText("Memory (MB)");
    await waitFor(() => expect(memory).toHaveAttribute("aria-invalid", "true"));
    expect(memory).toHaveAccessibleDescription("Input should be greater than or equal to 64");
    expect(memory).toHaveFocus();
    const hosts = screen.getByLabelText("Extra allowed hosts");
    expect(hosts).toHaveAttribute("aria-invalid", "true");
    expect(hosts).toHaveAccessibleDescription(expect.stringContaining("String should have at most 253 characters"));
    expect(screen.getByRole("alert")).toHaveTextContent(/^The project was not saved: 2 values need a change\.$/);
    for (const other of ["CPUs", "Processes", "Disk (MB)", "Port", "Sandbox"]) {
      expect(screen.getByLabelText(other)).not.toHaveAttribute("aria-invalid");
    }
  });

  it("asks for an image when Docker is chosen, and shows the API's answer next to Image", async () => {
    const server = fakeApi({
      "POST /api/v1/projects": {
        status: 422,
        body: invalid(
          fieldError(["body", "deployment_settings", "image"], "is required when sandbox is 'docker' (e.g. node:20-slim)"),
        ),
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await fillRequired(user);
    const image = screen.getByLabelText("Image");
    expect(image).not.toBeRequired();
    await user.selectOptions(screen.getByLabelText("Sandbox"), "Docker");
    expect(image).toBeRequired();
    expect(image).toHaveAccessibleDescription(expect.stringContaining("Required for Docker"));
    await user.click(screen.getByRole("button", { name: "Create project" }));

    await waitFor(() => expect(image).toHaveAttribute("aria-invalid", "true"));
    expect(image).toHaveAccessibleDescription(
      expect.stringContaining("Is required when sandbox is 'docker' (e.g. node:20-slim)"),
    );
    expect(image).toHaveFocus();
    expect(screen.getByLabelText("Sandbox")).not.toHaveAttribute("aria-invalid");
    expect(server.calls[0]?.body).toMatchObject({ deployment_settings: { sandbox: "docker", image: "" } });
  });

  it("says which line of the build environment is not NAME=value before asking the API", async () => {
    const server = fakeApi();
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await fillRequired(user);
    await enter(user, "Build environment", "NODE_ENV=development\nproduction");
    await user.click(screen.getByRole("button", { name: "Create project" }));
    expect(screen.getByLabelText("Build environment")).toHaveAccessibleDescription(
      expect.stringContaining("Line 2 is not NAME=value."),
    );
    expect(screen.getByLabelText("Service environment")).not.toHaveAttribute("aria-invalid");
    expect(server.calls).toEqual([]);
  });

  it("shows an edited project's sandbox settings and sends back what was not changed", async () => {
    const stored = project({
      deployment_settings: {
        ...project().deployment_settings,
        sandbox: "docker",
        image: "python:3.12-slim",
        resources: { cpus: 0.5, memory_mb: 512, pids: 64, disk_mb: 1024 },
        path_prepend: [".venv/bin"],
        allowed_hosts: ["*.example.org"],
        service_environment: { NODE_ENV: "production" },
      },
    });
    const server = fakeApi({ "PUT /api/v1/projects/1": { body: stored } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={stored} />);
    expect(screen.getByLabelText("Sandbox")).toHaveValue("docker");
    expect(screen.getByLabelText("CPUs")).toHaveValue("0.5");
    expect(screen.getByLabelText("Service environment")).toHaveValue("NODE_ENV=production");
    await enter(user, "Disk (MB)", "2048");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect(server.calls[0]?.body).toMatchObject({
      deployment_settings: { ...stored.deployment_settings, resources: { cpus: 0.5, memory_mb: 512, pids: 64, disk_mb: 2048 } },
    });
  });

  it("sends where the repository lives, how and whose pull requests to merge, and whether drafts are validated", async () => {
    const server = fakeApi({ "POST /api/v1/projects": { body: project({ forge: "github", repository: "octo-org/shop" }) } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    const repository = screen.getByLabelText("Repository");
    expect(screen.getByLabelText("Where the repository lives")).toHaveValue("local");
    expect(repository).toHaveAccessibleDescription(expect.stringContaining("under one of the server's repository roots"));
    await user.selectOptions(screen.getByLabelText("Where the repository lives"), "GitHub");
    expect(repository).toHaveAccessibleDescription(expect.stringContaining("OWNER/NAME"));
    await user.type(screen.getByLabelText("Name"), "shop");
    await enter(user, "Repository", "octo-org/shop");
    await enter(user, "Recipe", RECIPE);
    expect(screen.getByLabelText("Merge method")).toHaveValue("merge");
    await user.selectOptions(screen.getByLabelText("Merge method"), "Squash");
    await enter(user, "Also merge automatically the pull requests of", "dependabot[bot]\n\n  alice \n");
    const drafts = screen.getByRole("checkbox", { name: "Validate draft pull requests" });
    expect(drafts).not.toBeChecked();
    await user.click(drafts);
    await user.click(screen.getByRole("button", { name: "Create project" }));

    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect(server.calls[0]?.body).toMatchObject({
      forge: "github",
      repository: "octo-org/shop",
      validation_settings: { merge_method: "squash", auto_merge_authors: ["dependabot[bot]", "alice"], validate_drafts: true },
    });
  });

  it("shows the API's refusal of where the repository lives, and of one login, next to their fields", async () => {
    fakeApi({
      "POST /api/v1/projects": {
        status: 422,
        body: invalid(
          fieldError(
            ["body", "forge"],
            "GitHub is not configured on this server: set GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY (or _FILE)",
          ),
          fieldError(
            ["body", "validation_settings", "auto_merge_authors", 0],
            "String should match pattern '^[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:\\[bot\\])?$'",
            "string_pattern_mismatch",
          ),
        ),
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await fillRequired(user);
    await user.selectOptions(screen.getByLabelText("Where the repository lives"), "GitHub");
    await enter(user, "Also merge automatically the pull requests of", "@alice");
    await user.click(screen.getByRole("button", { name: "Create project" }));

    const forge = screen.getByLabelText("Where the repository lives");
    await waitFor(() => expect(forge).toHaveAttribute("aria-invalid", "true"));
    expect(forge).toHaveAccessibleDescription(expect.stringMatching(/^GitHub is not configured on this server: set GITHUB_TOKEN/));
    expect(forge).toHaveFocus();
    const authors = screen.getByLabelText("Also merge automatically the pull requests of");
    expect(authors).toHaveAttribute("aria-invalid", "true");
    expect(authors).toHaveAccessibleDescription(expect.stringContaining("String should match pattern"));
    expect(screen.getByRole("alert")).toHaveTextContent(/^The project was not saved: 2 values need a change\.$/);
    for (const other of ["Repository", "Merge method"]) {
      expect(screen.getByLabelText(other)).not.toHaveAttribute("aria-invalid");
    }
  });

  it("keeps an edited project's forge and merge settings, and shows its repository as OWNER/NAME", async () => {
    const stored = project({
      forge: "github",
      repository: "octo-org/shop",
      validation_settings: {
        ...project().validation_settings,
        merge_method: "rebase",
        auto_merge_authors: ["dependabot[bot]", "alice"],
        validate_drafts: true,
      },
    });
    const server = fakeApi({ "PUT /api/v1/projects/1": { body: stored } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={stored} />);
    expect(screen.getByLabelText("Where the repository lives")).toHaveValue("github");
    expect(screen.getByLabelText("Repository")).toHaveAccessibleDescription(expect.stringContaining("OWNER/NAME"));
    expect(screen.getByLabelText("Merge method")).toHaveValue("rebase");
    expect(screen.getByLabelText("Also merge automatically the pull requests of")).toHaveValue("dependabot[bot]\nalice");
    expect(screen.getByRole("checkbox", { name: "Validate draft pull requests" })).toBeChecked();
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect(server.calls[0]?.body).toMatchObject({
      forge: "github",
      repository: "octo-org/shop",
      validation_settings: stored.validation_settings,
    });
  });
});
