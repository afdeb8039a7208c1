import { NO_LIMITS, project } from "../testing/samples";
import { bodyOf, draftOf } from "./project-draft";

describe("bodyOf", () => {
  it("sends numbers as numbers, a list entry a line without the blank ones, and NAME=value lines as maps", () => {
    const draft = {
      ...draftOf(),
      sandbox: "docker" as const,
      image: " node:20-slim ",
      cpus: "1.5",
      memory_mb: "2048",
      pids: "256",
      disk_mb: "4096",
      health_check_timeout_seconds: "90",
      path_prepend: ".venv/bin\n\n  node_modules/.bin  \n",
      network: "none" as const,
      allowed_hosts: "pypi.example.com\n\n*.example.org",
      build_environment: "NODE_ENV=development\n\nPIP_INDEX_URL=https://pypi.example.com/simple?a=b",
      service_environment: "NODE_ENV=production",
    };
    const { body, problems } = bodyOf(draft);
    expect(problems).toEqual({});
    expect(body.deployment_settings).toMatchObject({
      sandbox: "docker",
      image: "node:20-slim",
      resources: { cpus: 1.5, memory_mb: 2048, pids: 256, disk_mb: 4096 },
      health_check_timeout_seconds: 90,
      path_prepend: [".venv/bin", "node_modules/.bin"],
      network: "none",
      allowed_hosts: ["pypi.example.com", "*.example.org"],
      build_environment: { NODE_ENV: "development", PIP_INDEX_URL: "https://pypi.example.com/simple?a=b" },
      service_environment: { NODE_ENV: "production" },
    });
  });

  it("validates a new project's base branch unless the person turns it off", () => {
    expect(bodyOf(draftOf()).body.validation_settings?.validate_base_branch).toBe(true);
    const off = bodyOf({ ...draftOf(), validate_base_branch: false }).body;
    expect(off.validation_settings?.validate_base_branch).toBe(false);
  });

  it("sends the server's default sandbox as null, and a new project's limits as the API's defaults", () => {
    const { body } = bodyOf(draftOf());
    expect(body.deployment_settings).toMatchObject({
      sandbox: null,
      image: "",
      resources: { cpus: 2, memory_mb: 4096, pids: 4096, disk_mb: 10240 },
      network: "registries",
      allowed_hosts: [],
      path_prepend: [],
      health_check_timeout_seconds: 30,
    });
  });

  it("sends an untouched project's settings back exactly as they came", () => {
    const stored = project({
      deployment_settings: {
        ...project().deployment_settings,
        environment_variables: { APP_MODE: "demo" },
        build_environment: { NODE_ENV: "development" },
        service_environment: { NODE_ENV: "production", GREETING: "a=b" },
        sandbox: "docker",
        image: "python:3.12-slim",
        resources: { cpus: 0.5, memory_mb: 512, pids: 64, disk_mb: 1024 },
        path_prepend: [".venv/bin", "/opt/tools/bin"],
        network: "none",
        allowed_hosts: ["pypi.example.com", "*.example.org"],
        health_check_timeout_seconds: 120,
      },
    });
    const { body, problems } = bodyOf(draftOf(stored), stored);
    expect(problems).toEqual({});
    expect(body.deployment_settings).toEqual(stored.deployment_settings);
    expect(body.validation_settings).toEqual(stored.validation_settings);
    expect(body.notification_settings).toEqual(stored.notification_settings);
    expect(body.agent).toEqual(stored.agent);
  });

  it("keeps the settings of an edited project that the form has no field for", () => {
    const stored = project();
    const newer = {
      ...stored,
      deployment_settings: {
        ...stored.deployment_settings,
        seccomp: "strict",
        resources: { cpus: 2, memory_mb: 4096, pids: 4096, disk_mb: 10240, swap_mb: 0 },
      },
    };
    const { body } = bodyOf({ ...draftOf(newer), memory_mb: "1024" }, newer);
    expect(body.deployment_settings).toMatchObject({
      seccomp: "strict",
      resources: { memory_mb: 1024, swap_mb: 0 },
    });
  });

  it("names what is not a number, and the first line of each environment that is not NAME=value", () => {
    const { problems } = bodyOf({
      ...draftOf(),
      cpus: "two",
      memory_mb: "1.5",
      health_check_timeout_seconds: "",
      build_environment: "NODE_ENV=development\n\nnot a variable\nalso not",
      service_environment: "=production",
    });
    expect(problems).toEqual({
      "deployment_settings.resources.cpus": "Enter a number, such as 2 or 0.5.",
      "deployment_settings.resources.memory_mb": "Enter a whole number.",
      "deployment_settings.health_check_timeout_seconds": "Enter a whole number.",
      "deployment_settings.build_environment": "Line 3 is not NAME=value.",
      "deployment_settings.service_environment": "Line 1 is not NAME=value.",
    });
  });

  it("sends a new project as local with the API's merge defaults, and an edited one's forge as it was", () => {
    expect(bodyOf(draftOf()).body).toMatchObject({
      forge: "local",
      validation_settings: { merge_method: "merge", auto_merge_authors: [], validate_drafts: false },
    });
    const stored = project({ forge: "github", repository: "octo-org/shop" });
    expect(bodyOf(draftOf(stored), stored).body).toMatchObject({ forge: "github", repository: "octo-org/shop" });
  });

  it("sends the logins whose pull requests also merge automatically one a line, without the blank ones", () => {
    const { body } = bodyOf({ ...draftOf(), auto_merge_authors: " dependabot[bot]\n\nalice\n" });
    expect(body.validation_settings?.auto_merge_authors).toEqual(["dependabot[bot]", "alice"]);
  });

  it("sends a command-line agent back exactly as it came, with what the form has no field for", () => {
    const agent = {
      provider: "cli" as const,
      command: "aider --yes-always --message {prompt}",
      allowed_hosts: ["api.anthropic.com", "*.example.com"],
      secrets: ["ANTHROPIC_API_KEY"],
      plan_first: true,
      timeout_minutes: 0.25,
      budgets: NO_LIMITS,
    };
    const stored = project({ agent });
    expect(bodyOf(draftOf(stored), stored)).toEqual({ body: expect.objectContaining({ agent }), problems: {} });
    const newer = project({ agent: { ...agent, budgets: { runs_per_day: 20, minutes_per_run: 45 } } });
    expect(bodyOf(draftOf(newer), newer).body.agent).toEqual(newer.agent);
  });

  it("keeps each agent's values while another is chosen, and sends only the chosen one's", () => {
    const stored = project({ agent: { provider: "codegen", repo_id: 7, model: "claude", budgets: NO_LIMITS } });
    const draft = { ...draftOf(stored), provider: "cli" as const, cli_command: "claude -p {prompt}" };
    expect(bodyOf(draft, stored).body.agent).toEqual({
      provider: "cli",
      command: "claude -p {prompt}",
      allowed_hosts: [],
      secrets: [],
      plan_first: false,
      timeout_minutes: 30,
      budgets: NO_LIMITS,
    });
    expect(bodyOf({ ...draft, provider: "codegen" }, stored).body.agent).toEqual(stored.agent);
  });

  it("keeps the project's agent budgets when another agent is chosen", () => {
    const budgets = { runs_per_day: 20, minutes_per_run: 45 };
    const stored = project({ agent: { provider: "scripted", recipe: "turns: []", budgets } });
    const draft = { ...draftOf(stored), provider: "cli" as const, cli_command: "aider --message {prompt}" };
    expect(bodyOf(draft, stored).body.agent).toMatchObject({ provider: "cli", budgets });
    expect(bodyOf(draftOf(), undefined).body.agent).toHaveProperty("budgets", NO_LIMITS);
  });

  it("sends an empty budget as no limit, and keeps one the form has no field for", () => {
    const budgets = { runs_per_day: 20, minutes_per_run: 45, tokens_per_run: 90_000 };
    const stored = project({ agent: { provider: "scripted", recipe: "turns: []", budgets } });
    const draft = { ...draftOf(stored), budget_runs_per_day: " ", budget_minutes_per_run: "7.5" };
    expect(bodyOf(draft, stored)).toEqual({
      body: expect.objectContaining({
        agent: { provider: "scripted", recipe: "turns: []", budgets: { ...budgets, runs_per_day: null, minutes_per_run: 7.5 } },
      }),
      problems: {},
    });
  });

  it("names a budget that is not a number, or not a whole one where runs are counted", () => {
    const { problems } = bodyOf({ ...draftOf(), budget_runs_per_day: "2.5", budget_minutes_per_run: "an hour" });
    expect(problems).toEqual({
      "agent.budgets.runs_per_day": "Enter a whole number.",
      "agent.budgets.minutes_per_run": "Enter a number, such as 2 or 0.5.",
    });
  });

  it("names a command-line agent's timeout that is not a number", () => {
    const { problems } = bodyOf({ ...draftOf(), provider: "cli", cli_command: "aider", cli_timeout_minutes: "soon" });
    expect(problems).toEqual({ "agent.timeout_minutes": "Enter a number, such as 2 or 0.5." });
  });
});
