// The project form's values as typed, and the API body they make.
import type { CheckName, DeploymentSettings, ForgeKind, Project, ProjectCreate, ValidationSettings } from "../api/types";
import { AGENT_FIELDS, agentDraftOf, agentOf, type AgentDraft } from "./agent-draft";
import { draftReader, listOf } from "./draft-text";

export type { AgentProvider } from "./agent-draft";
export type Sandbox = NonNullable<DeploymentSettings["sandbox"]>;
export type Network = DeploymentSettings["network"];
export type MergeMethod = ValidationSettings["merge_method"];

export type Draft = AgentDraft & {
  name: string;
  /** Where the repository lives; it says what `repository` is (a path, or OWNER/NAME). */
  forge: ForgeKind;
  repository: string;
  default_branch: string;
  build_command: string;
  deploy_command: string;
  health_check_url: string;
  health_check_timeout_seconds: string;
  port: string;
  /** NAME=value lines, one text per map: for every command, for the builds only, for the service only. */
  environment: string;
  build_environment: string;
  service_environment: string;
  /** "" is the server's default sandbox (the API's null). */
  sandbox: Sandbox | "";
  image: string;
  cpus: string;
  memory_mb: string;
  pids: string;
  disk_mb: string;
  /** One directory a line. */
  path_prepend: string;
  network: Network;
  /** One host name or *.wildcard a line. */
  allowed_hosts: string;
  test_command: string;
  security_command: string;
  required_checks: CheckName[];
  auto_merge: boolean;
  merge_method: MergeMethod;
  /** One GitHub login a line. */
  auto_merge_authors: string;
  validate_drafts: boolean;
  validate_base_branch: boolean;
  max_retries: string;
  timeout_minutes: string;
  slack_webhook: string;
  email_notifications: boolean;
  github_status_updates: boolean;
};

/** The draft's free-text values (not the choices, lists and switches). */
export type TextKey = { [K in keyof Draft]: string extends Draft[K] ? K : never }[keyof Draft];

/** Every field the form shows, by its path in the API body. */
export const FIELDS = [
  "name",
  "forge",
  "repository",
  "default_branch",
  ...AGENT_FIELDS,
  "deployment_settings.build_command",
  "deployment_settings.deploy_command",
  "deployment_settings.health_check_url",
  "deployment_settings.health_check_timeout_seconds",
  "deployment_settings.port",
  "deployment_settings.environment_variables",
  "deployment_settings.build_environment",
  "deployment_settings.service_environment",
  "deployment_settings.sandbox",
  "deployment_settings.image",
  "deployment_settings.resources.cpus",
  "deployment_settings.resources.memory_mb",
  "deployment_settings.resources.pids",
  "deployment_settings.resources.disk_mb",
  "deployment_settings.path_prepend",
  "deployment_settings.network",
  "deployment_settings.allowed_hosts",
  "validation_settings.test_command",
  "validation_settings.security_command",
  "validation_settings.required_checks",
  "validation_settings.auto_merge",
  "validation_settings.merge_method",
  "validation_settings.auto_merge_authors",
  "validation_settings.validate_drafts",
  "validation_settings.validate_base_branch",
  "validation_settings.max_retries",
  "validation_settings.timeout_minutes",
  "notification_settings.slack_webhook",
  "notification_settings.email_notifications",
  "notification_settings.github_status_updates",
] as const;

export type Field = (typeof FIELDS)[number];

// The API's defaults, shown in a new project's form (ResourceSettings, DeploymentSettings).
const DEFAULT_RESOURCES = { cpus: 2, memory_mb: 4096, pids: 4096, disk_mb: 10240 };

const linesOfEnvironment = (variables: Record<string, string> | undefined) =>
  Object.entries(variables ?? {})
    .map(([name, value]) => `${name}=${value}`)
    .join("\n");

export function draftOf(project?: Project): Draft {
  const deployment = project?.deployment_settings;
  const resources = { ...DEFAULT_RESOURCES, ...deployment?.resources };
  const validation = project?.validation_settings;
  const notification = project?.notification_settings;
  return {
    name: project?.name ?? "",
    forge: project?.forge ?? "local",
    repository: project?.repository ?? "",
    default_branch: project?.default_branch ?? "main",
    ...agentDraftOf(project?.agent),
    build_command: deployment?.build_command ?? "",
    deploy_command: deployment?.deploy_command ?? "",
    health_check_url: deployment?.health_check_url ?? "",
    health_check_timeout_seconds: String(deployment?.health_check_timeout_seconds ?? 30),
    port: String(deployment?.port ?? 8000),
    environment: linesOfEnvironment(deployment?.environment_variables),
    build_environment: linesOfEnvironment(deployment?.build_environment),
    service_environment: linesOfEnvironment(deployment?.service_environment),
    sandbox: deployment?.sandbox ?? "",
    image: deployment?.image ?? "",
    cpus: String(resources.cpus),
    memory_mb: String(resources.memory_mb),
    pids: String(resources.pids),
    disk_mb: String(resources.disk_mb),
    path_prepend: (deployment?.path_prepend ?? []).join("\n"),
    network: deployment?.network ?? "registries",
    allowed_hosts: (deployment?.allowed_hosts ?? []).join("\n"),
    test_command: validation?.test_command ?? "",
    security_command: validation?.security_command ?? "",
    required_checks: validation?.required_checks ?? [],
    auto_merge: validation?.auto_merge ?? true,
    merge_method: validation?.merge_method ?? "merge",
    auto_merge_authors: (validation?.auto_merge_authors ?? []).join("\n"),
    validate_drafts: validation?.validate_drafts ?? false,
    validate_base_branch: validation?.validate_base_branch ?? true,
    max_retries: String(validation?.max_retries ?? 3),
    timeout_minutes: String(validation?.timeout_minutes ?? 30),
    slack_webhook: notification?.slack_webhook ?? "",
    email_notifications: notification?.email_notifications ?? true,
    github_status_updates: notification?.github_status_updates ?? true,
  };
}

export type Built = { body: ProjectCreate; problems: Record<string, string> };

/** The body to send, or the problems found before sending (only what the API cannot be told:
 * text that is not a number, an environment line that is not NAME=value).
 *
 * `kept` is the project being edited: whatever of its settings the form does not show is sent
 * back as it came, so saving the form never resets a setting it has no field for. */
export function bodyOf(draft: Draft, kept?: Project): Built {
  const read = draftReader();
  const { whole, decimal, environment } = read;
  const deployment = kept?.deployment_settings;
  const body: ProjectCreate = {
    name: draft.name,
    forge: draft.forge,
    repository: draft.repository,
    default_branch: draft.default_branch,
    agent: agentOf(draft, read, kept?.agent),
    deployment_settings: {
      ...deployment,
      build_command: draft.build_command,
      deploy_command: draft.deploy_command,
      health_check_url: draft.health_check_url,
      health_check_timeout_seconds: whole(
        "deployment_settings.health_check_timeout_seconds",
        draft.health_check_timeout_seconds,
      ),
      port: whole("deployment_settings.port", draft.port),
      environment_variables: environment("deployment_settings.environment_variables", draft.environment),
      build_environment: environment("deployment_settings.build_environment", draft.build_environment),
      service_environment: environment("deployment_settings.service_environment", draft.service_environment),
      sandbox: draft.sandbox || null,
      image: draft.image.trim(),
      resources: {
        ...deployment?.resources,
        cpus: decimal("deployment_settings.resources.cpus", draft.cpus),
        memory_mb: whole("deployment_settings.resources.memory_mb", draft.memory_mb),
        pids: whole("deployment_settings.resources.pids", draft.pids),
        disk_mb: whole("deployment_settings.resources.disk_mb", draft.disk_mb),
      },
      path_prepend: listOf(draft.path_prepend),
      network: draft.network,
      allowed_hosts: listOf(draft.allowed_hosts),
    },
    validation_settings: {
      ...kept?.validation_settings,
      test_command: draft.test_command,
      security_command: draft.security_command,
      required_checks: draft.required_checks,
      auto_merge: draft.auto_merge,
      merge_method: draft.merge_method,
      auto_merge_authors: listOf(draft.auto_merge_authors),
      validate_drafts: draft.validate_drafts,
      max_retries: whole("validation_settings.max_retries", draft.max_retries),
      timeout_minutes: whole("validation_settings.timeout_minutes", draft.timeout_minutes),
      validate_base_branch: draft.validate_base_branch,
    },
    notification_settings: {
      ...kept?.notification_settings,
      slack_webhook: draft.slack_webhook,
      email_notifications: draft.email_notifications,
      github_status_updates: draft.github_status_updates,
      // Not on the form yet: an edit keeps the project's name, a new project gets the default.
      check_run_name: kept?.notification_settings.check_run_name ?? "codegenapp",
    },
  };
  return { body, problems: read.problems };
}
