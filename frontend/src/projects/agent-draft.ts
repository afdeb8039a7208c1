// The project form's "Agent" values as typed, and the `agent` settings they make. Every
// provider's values stay in the draft, so switching the provider back and forth loses nothing.
import type { AgentBudgets, AgentSettings } from "../api/types";
import { listOf, type DraftReader } from "./draft-text";

export type AgentProvider = AgentSettings["provider"];

export type AgentDraft = {
  provider: AgentProvider;
  /** The scripted agent's recipe: the YAML text itself (the API takes up to 262,144 characters). */
  recipe: string;
  /** Codegen's repository id and model; "" for the organization's defaults. */
  codegen_repo_id: string;
  codegen_model: string;
  /** The command-line agent's shell command, sent as typed (the API refuses a blank one). */
  cli_command: string;
  /** One host name or *.wildcard a line. */
  cli_allowed_hosts: string;
  /** One secret name a line. */
  cli_secrets: string;
  cli_plan_first: boolean;
  cli_timeout_minutes: string;
  /** What the project lets its agent spend, whichever agent it is; "" for no limit. */
  budget_runs_per_day: string;
  budget_minutes_per_run: string;
};

/** The agent's fields, by their path in the API body (an error on `agent` itself has no field). */
export const AGENT_FIELDS = [
  "agent",
  "agent.provider",
  "agent.recipe",
  "agent.repo_id",
  "agent.model",
  "agent.command",
  "agent.allowed_hosts",
  "agent.secrets",
  "agent.plan_first",
  "agent.timeout_minutes",
  "agent.budgets.runs_per_day",
  "agent.budgets.minutes_per_run",
] as const;

// The API's default (CliAgentSettings), shown when a person first picks the command-line agent.
const CLI_TIMEOUT_MINUTES = 30;

export function agentDraftOf(agent?: AgentSettings): AgentDraft {
  const codegen = agent?.provider === "codegen" ? agent : undefined;
  const cli = agent?.provider === "cli" ? agent : undefined;
  return {
    provider: agent?.provider ?? "scripted",
    recipe: agent?.provider === "scripted" ? agent.recipe : "",
    codegen_repo_id: String(codegen?.repo_id ?? ""),
    codegen_model: codegen?.model ?? "",
    cli_command: cli?.command ?? "",
    cli_allowed_hosts: (cli?.allowed_hosts ?? []).join("\n"),
    cli_secrets: (cli?.secrets ?? []).join("\n"),
    cli_plan_first: cli?.plan_first ?? false,
    cli_timeout_minutes: String(cli?.timeout_minutes ?? CLI_TIMEOUT_MINUTES),
    budget_runs_per_day: String(agent?.budgets?.runs_per_day ?? ""),
    budget_minutes_per_run: String(agent?.budgets?.minutes_per_run ?? ""),
  };
}

/** The chosen provider's settings. `kept` is the project's stored agent: when the provider is
 * unchanged, whatever of it the form has no field for is sent back as it came. */
export function agentOf(draft: AgentDraft, read: DraftReader, kept?: AgentSettings): AgentSettings {
  // What the project lets its agent spend is the project's limit, whichever agent spends it: the
  // same two fields say it for every provider, and a change of provider keeps it.
  const budgets = budgetsOf(draft, read, kept?.budgets);
  switch (draft.provider) {
    case "codegen": {
      const repoId = draft.codegen_repo_id.trim();
      return {
        ...(kept?.provider === "codegen" ? kept : {}),
        provider: "codegen",
        repo_id: repoId ? read.whole("agent.repo_id", repoId) : null,
        model: draft.codegen_model.trim() || null,
        budgets,
      };
    }
    case "cli":
      return {
        ...(kept?.provider === "cli" ? kept : {}),
        provider: "cli",
        command: draft.cli_command,
        allowed_hosts: listOf(draft.cli_allowed_hosts),
        secrets: listOf(draft.cli_secrets),
        plan_first: draft.cli_plan_first,
        timeout_minutes: read.decimal("agent.timeout_minutes", draft.cli_timeout_minutes),
        budgets,
      };
    case "scripted":
      return { ...(kept?.provider === "scripted" ? kept : {}), provider: "scripted", recipe: draft.recipe, budgets };
  }
}

/** An empty field is no limit (null). A budget the form has no field for yet is sent back as it
 * came. */
function budgetsOf(draft: AgentDraft, read: DraftReader, kept?: AgentBudgets): AgentBudgets {
  const runs = draft.budget_runs_per_day.trim();
  const minutes = draft.budget_minutes_per_run.trim();
  return {
    ...kept,
    runs_per_day: runs ? read.whole("agent.budgets.runs_per_day", runs) : null,
    minutes_per_run: minutes ? read.decimal("agent.budgets.minutes_per_run", minutes) : null,
  };
}
