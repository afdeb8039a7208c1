// The API's shapes, named as the back end names them. Every type comes from the generated
// schema (scripts/generate-api-types); nothing here is written by hand.
import type { components, paths } from "./schema";

type Schemas = components["schemas"];

export type Project = Schemas["ProjectRead"];
/** Where a project's repository lives: a path on this server, or GitHub. */
export type ForgeKind = Schemas["ForgeKind"];
export type ProjectCreate = Schemas["ProjectCreate"];
export type ProjectUpdate = Schemas["ProjectUpdate"];
export type ProjectStats = Schemas["ProjectStatsRead"];
/** The newest validation of a project's base branch, as its stats name it. */
export type BaselineSummary = Schemas["BaselineSummary"];
export type ProjectPage = Schemas["Page_ProjectRead_"];
export type DeploymentSettings = Schemas["DeploymentSettings"];
export type ValidationSettings = Schemas["ValidationSettings"];
export type NotificationSettings = Schemas["NotificationSettings"];
export type AgentSettings = Schemas["ProjectRead"]["agent"];
/** What a project lets its agent spend; null: no limit. */
export type AgentBudgets = Schemas["AgentBudgets"];
export type ProjectSecret = Schemas["ProjectSecretRead"];
export type ProjectSecretCreate = Schemas["ProjectSecretCreate"];
export type ProjectSecretPage = Schemas["Page_ProjectSecretRead_"];

export type AgentRun = Schemas["AgentRunRead"];
export type AgentRunPage = Schemas["Page_AgentRunRead_"];
export type AgentRunCreate = Schemas["AgentRunCreate"];
export type AgentRunStatus = Schemas["AgentRunStatus"];
export type PlanResponse = Schemas["PlanResponse"];
/** One turn of a run: the prompt sent to its agent, and the answer (null while it works). */
export type AgentInteraction = Schemas["AgentInteractionRead"];
export type AgentInteractionPage = Schemas["AgentInteractionPage"];
/** What a turn used, as its agent reported it (a command-line agent may; Codegen never does). */
export type AgentUsage = Schemas["UsageRead"];
/** A run's usage summed over the turns that reported any. */
export type AgentUsageTotals = Schemas["UsageTotalsRead"];
/** The agent's change that bends the gate, held for a person's approval. */
export type HeldChange = Schemas["HeldChangeRead"];
export type IntegrityKind = Schemas["IntegrityKind"];
/** How the pull request keeps to the plan a person confirmed. */
export type PlanDrift = Schemas["PlanDriftRead"];
export type PullRequest = Schemas["PullRequestRead"];
/** The pull request a validation checked; `author` null: one of this server's agent runs. */
export type PullRequestSummary = Schemas["PullRequestSummary"];

export type Validation = Schemas["ValidationRead"];
export type ValidationPage = Schemas["Page_ValidationRead_"];
export type ValidationStatus = Schemas["ValidationStatus"];
export type ValidationKind = Schemas["ValidationKind"];
export type Fault = Schemas["Fault"];
/** Evidence a validation kept: a screenshot, the findings, a page's text. */
export type Artifact = Schemas["ArtifactRead"];
export type Step = Schemas["StepRead"];
export type StepName = Schemas["StepName"];
export type StepStatus = Schemas["StepStatus"];
export type CheckName = Schemas["CheckName"];
export type CheckStatus = Schemas["CheckStatus"];

export type Event = Schemas["EventRead"];
export type EventType = Schemas["EventType"];
/** What the WebSocket sends: an event, or a live log line (`validation_log`), which has no id. */
export type LiveEvent = Omit<Event, "id"> & { id: number | null };

/** What every error answer carries: `detail` for a person, `errors` naming each field at fault. */
export type ErrorBody = Schemas["ErrorBody"];
export type FieldProblem = Schemas["FieldError"];

export type EventQuery = NonNullable<paths["/api/v1/events"]["get"]["parameters"]["query"]>;
export type AgentRunQuery = NonNullable<paths["/api/v1/agent-runs"]["get"]["parameters"]["query"]>;
export type AgentInteractionQuery = NonNullable<
  paths["/api/v1/agent-runs/{run_id}/interactions"]["get"]["parameters"]["query"]
>;
export type ValidationQuery = NonNullable<
  paths["/api/v1/validations"]["get"]["parameters"]["query"]
>;
