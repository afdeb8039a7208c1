// The project form's values as typed, and the API body they make.
import type { CheckName, Project, ProjectCreate } from "../api/types";

export type Draft = {
  name: string;
  repository: string;
  default_branch: string;
  /** The scripted agent's recipe: the YAML text itself (the API takes up to 262,144 characters). */
  recipe: string;
  build_command: string;
  deploy_command: string;
  health_check_url: string;
  port: string;
  environment: string;
  test_command: string;
  security_command: string;
  required_checks: CheckName[];
  auto_merge: boolean;
  max_retries: string;
  timeout_minutes: string;
  slack_webhook: string;
  email_notifications: boolean;
  github_status_updates: boolean;
};

/** Every field the form shows, by its path in the API body. */
export const FIELDS = [
  "name",
  "repository",
  "default_branch",
  "agent",
  "agent.recipe",
  "deployment_settings.build_command",
  "deployment_settings.deploy_command",
  "deployment_settings.health_check_url",
  "deployment_settings.port",
  "deployment_settings.environment_variables",
  "validation_settings.test_command",
  "validation_settings.security_command",
  "validation_settings.required_checks",
  "validation_settings.auto_merge",
  "validation_settings.max_retries",
  "validation_settings.timeout_minutes",
  "notification_settings.slack_webhook",
  "notification_settings.email_notifications",
  "notification_settings.github_status_updates",
] as const;

export function draftOf(project?: Project): Draft {
  const deployment = project?.deployment_settings;
  const validation = project?.validation_settings;
  const notification = project?.notification_settings;
  return {
    name: project?.name ?? "",
    repository: project?.repository ?? "",
    default_branch: project?.default_branch ?? "main",
    recipe: project?.agent.recipe ?? "",
    build_command: deployment?.build_command ?? "",
    deploy_command: deployment?.deploy_command ?? "",
    health_check_url: deployment?.health_check_url ?? "",
    port: String(deployment?.port ?? 8000),
    environment: Object.entries(deployment?.environment_variables ?? {})
      .map(([name, value]) => `${name}=${value}`)
      .join("\n"),
    test_command: validation?.test_command ?? "",
    security_command: validation?.security_command ?? "",
    required_checks: validation?.required_checks ?? [],
    auto_merge: validation?.auto_merge ?? true,
    max_retries: String(validation?.max_retries ?? 3),
    timeout_minutes: String(validation?.timeout_minutes ?? 30),
    slack_webhook: notification?.slack_webhook ?? "",
    email_notifications: notification?.email_notifications ?? true,
    github_status_updates: notification?.github_status_updates ?? true,
  };
}

export type Built = { body: ProjectCreate; problems: Record<string, string> };

const WHOLE_NUMBER = /^\s*-?\d+\s*$/;

/** The body to send, or the problems found before sending (only what the API cannot be told:
 * text that is not a number, an environment line that is not NAME=value). */
export function bodyOf(draft: Draft): Built {
  const problems: Record<string, string> = {};
  const whole = (field: string, text: string): number => {
    if (!WHOLE_NUMBER.test(text)) problems[field] = "Enter a whole number.";
    return Number.parseInt(text, 10);
  };
  const environment: Record<string, string> = {};
  draft.environment.split("\n").forEach((line, index) => {
    if (!line.trim()) return;
    const cut = line.indexOf("=");
    if (cut <= 0) {
      problems["deployment_settings.environment_variables"] = `Line ${index + 1} is not NAME=value.`;
      return;
    }
    environment[line.slice(0, cut).trim()] = line.slice(cut + 1);
  });
  const body: ProjectCreate = {
    name: draft.name,
    repository: draft.repository,
    default_branch: draft.default_branch,
    agent: { provider: "scripted", recipe: draft.recipe },
    deployment_settings: {
      build_command: draft.build_command,
      deploy_command: draft.deploy_command,
      health_check_url: draft.health_check_url,
      port: whole("deployment_settings.port", draft.port),
      environment_variables: environment,
    },
    validation_settings: {
      test_command: draft.test_command,
      security_command: draft.security_command,
      required_checks: draft.required_checks,
      auto_merge: draft.auto_merge,
      max_retries: whole("validation_settings.max_retries", draft.max_retries),
      timeout_minutes: whole("validation_settings.timeout_minutes", draft.timeout_minutes),
    },
    notification_settings: {
      slack_webhook: draft.slack_webhook,
      email_notifications: draft.email_notifications,
      github_status_updates: draft.github_status_updates,
    },
  };
  return { body, problems };
}
