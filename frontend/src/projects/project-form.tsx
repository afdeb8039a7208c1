// Create or edit a project: repository, agent, and the deployment / validation / notification
// settings. The API judges the values; what it refuses is shown next to the field it names.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError, api } from "../api/client";
import { queryKeys } from "../api/query-keys";
import type { CheckName, Project } from "../api/types";
import { Button } from "../controls/button";
import { TextArea, TextField } from "../controls/field";
import { Problem } from "../controls/problem";
import { Link } from "../routing/link";
import { navigate, paths } from "../routing/routes";
import { placeErrors, type PlacedErrors } from "./field-errors";
import { Section, Toggle, type Bind, type GroupProps } from "./form-parts";
import { MergeFields } from "./merge-fields";
import { FIELDS, bodyOf, draftOf, type Draft, type Field } from "./project-draft";
import { RepositoryFields } from "./repository-fields";
import { AgentFields } from "./agent-fields";
import { SandboxFields } from "./sandbox-fields";

const CHECKS: Array<{ name: CheckName; label: string }> = [
  { name: "build", label: "Build" },
  { name: "test", label: "Tests" },
  { name: "security", label: "Security audit" },
  { name: "deploy", label: "Deploy" },
  { name: "health", label: "Health check passes" },
  { name: "web_eval", label: "Browser evaluation" },
];

const NO_ERRORS: PlacedErrors = { byField: {}, unplaced: [] };

export function ProjectForm({ project }: { project?: Project }) {
  const client = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(project));
  const [errors, setErrors] = useState<PlacedErrors>(NO_ERRORS);
  const form = useRef<HTMLFormElement>(null);
  // Take the keyboard to the first value that needs a change.
  useEffect(() => {
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);
  const save = useMutation({
    mutationFn: (body: ReturnType<typeof bodyOf>["body"]) =>
      project ? api.projects.update(project.id, body) : api.projects.create(body),
    onSuccess: (saved) => {
      client.setQueryData(queryKeys.projects.detail(saved.id), saved);
      void client.invalidateQueries({ queryKey: queryKeys.projects.list() });
      navigate(paths.project(saved.id));
    },
    onError: (error) => {
      if (error instanceof ApiError && error.problems.length) {
        setErrors(placeErrors(error.problems, FIELDS));
      } else {
        setErrors({ byField: {}, unplaced: [error.message] });
      }
    },
  });

  const change = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const set = <K extends keyof Draft>(key: K) => (value: Draft[K]) => change(key, value);
  const text: Bind = (key) => ({ value: draft[key], onChange: (event) => change(key, event.target.value) });
  const error = (field: Field) => errors.byField[field];
  const group: GroupProps = { draft, bind: text, change, error };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { body, problems } = bodyOf(draft, project);
    if (Object.keys(problems).length) {
      setErrors({ byField: problems, unplaced: [] });
      return;
    }
    setErrors(NO_ERRORS);
    save.mutate(body);
  };

  const toggleCheck = (name: CheckName, on: boolean) =>
    set("required_checks")(on ? [...draft.required_checks, name] : draft.required_checks.filter((c) => c !== name));
  const errorCount = Object.keys(errors.byField).length + errors.unplaced.length;

  return (
    <form
      ref={form}
      noValidate
      onSubmit={submit}
      aria-label={project ? `Edit project ${project.name}` : "New project"}
      className="space-y-5"
    >
      {errorCount > 0 && (
        <Problem>
          The project was not saved: {errorCount === 1 ? "one value needs" : `${errorCount} values need`} a change.
          {errors.unplaced.map((line) => (
            <span key={line} className="block">
              {line}
            </span>
          ))}
        </Problem>
      )}
      <Section title="Project">
        <TextField label="Name" required {...text("name")} error={error("name")} />
        <RepositoryFields {...group} />
        <TextField label="Default branch" {...text("default_branch")} error={error("default_branch")} />
      </Section>
      <Section title="Agent">
        <AgentFields {...group} />
      </Section>
      <Section title="Deployment">
        <TextField label="Build command" className="font-mono" {...text("build_command")} error={error("deployment_settings.build_command")} />
        <TextField label="Deploy command" className="font-mono" {...text("deploy_command")} error={error("deployment_settings.deploy_command")} />
        <TextField
          label="Health check URL"
          hint="A path on the deployed app, such as /health; empty to skip."
          className="font-mono"
          {...text("health_check_url")}
          error={error("deployment_settings.health_check_url")}
        />
        <TextField
          label="Health check timeout (s)"
          hint="How long the deployed app may take to answer its health check with 2xx."
          inputMode="numeric"
          {...text("health_check_timeout_seconds")}
          error={error("deployment_settings.health_check_timeout_seconds")}
        />
        <TextField label="Port" inputMode="numeric" {...text("port")} error={error("deployment_settings.port")} />
        <div className="sm:col-span-2">
          <TextArea
            label="Environment variables"
            hint="One NAME=value a line, for every command and the deployed service."
            rows={3}
            className="font-mono"
            {...text("environment")}
            error={error("deployment_settings.environment_variables")}
          />
        </div>
        <TextArea
          label="Build environment"
          hint="One NAME=value a line, added for the build, test and security commands only."
          rows={3}
          className="font-mono"
          {...text("build_environment")}
          error={error("deployment_settings.build_environment")}
        />
        <TextArea
          label="Service environment"
          hint="One NAME=value a line, added for the deployed service only."
          rows={3}
          className="font-mono"
          {...text("service_environment")}
          error={error("deployment_settings.service_environment")}
        />
        <SandboxFields {...group} />
      </Section>
      <Section title="Validation">
        <TextField label="Test command" className="font-mono" {...text("test_command")} error={error("validation_settings.test_command")} />
        <TextField label="Security command" className="font-mono" {...text("security_command")} error={error("validation_settings.security_command")} />
        <fieldset className="sm:col-span-2" aria-describedby={error("validation_settings.required_checks") ? "required-checks-error" : undefined}>
          <legend className="text-sm font-medium text-slate-800">Required checks (must pass before a merge)</legend>
          <div className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
            {CHECKS.map((check) => (
              <Toggle
                key={check.name}
                label={check.label}
                checked={draft.required_checks.includes(check.name)}
                onChange={(on) => toggleCheck(check.name, on)}
              />
            ))}
          </div>
          {error("validation_settings.required_checks") && (
            <p id="required-checks-error" className="mt-1 text-sm font-medium text-red-700">
              ⚠ {error("validation_settings.required_checks")}
            </p>
          )}
        </fieldset>
        <TextField label="Max retries" inputMode="numeric" {...text("max_retries")} error={error("validation_settings.max_retries")} />
        <TextField
          label="Timeout (minutes)"
          inputMode="numeric"
          {...text("timeout_minutes")}
          error={error("validation_settings.timeout_minutes")}
        />
        <Toggle
          label="Validate draft pull requests"
          checked={draft.validate_drafts}
          onChange={set("validate_drafts")}
          error={error("validation_settings.validate_drafts")}
        />
        <Toggle
          label="Validate the base branch too (tells setup problems from the code's)"
          checked={draft.validate_base_branch}
          onChange={set("validate_base_branch")}
          error={error("validation_settings.validate_base_branch")}
        />
        <MergeFields {...group} />
      </Section>
      <Section title="Notifications">
        <TextField label="Slack webhook" {...text("slack_webhook")} error={error("notification_settings.slack_webhook")} />
        <Toggle
          label="Email notifications"
          checked={draft.email_notifications}
          onChange={set("email_notifications")}
          error={error("notification_settings.email_notifications")}
        />
        <Toggle
          label="GitHub status updates"
          checked={draft.github_status_updates}
          onChange={set("github_status_updates")}
          error={error("notification_settings.github_status_updates")}
        />
      </Section>
      <div className="flex flex-wrap gap-2">
        <Button look="primary" type="submit" disabled={save.isPending}>
          {project ? "Save changes" : "Create project"}
        </Button>
        <Link
          to={project ? paths.project(project.id) : paths.overview()}
          className="inline-flex min-h-9 items-center rounded-md px-3 text-sm font-medium text-slate-700 hover:bg-slate-100"
        >
          Cancel
        </Link>
      </div>
    </form>
  );
}
