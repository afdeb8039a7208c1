// The project form's "Sandbox" group: where a validation runs, what it may use, what it may reach.
import { SelectField, TextArea, TextField } from "../controls/field";
import { chosen, type GroupProps } from "./form-parts";
import type { Network, Sandbox } from "./project-draft";

const SANDBOXES: ReadonlyArray<{ value: Sandbox | ""; label: string }> = [
  { value: "", label: "Server default" },
  { value: "bubblewrap", label: "Bubblewrap" },
  { value: "docker", label: "Docker" },
  { value: "process", label: "Process — NOT ISOLATED" },
];

const NETWORKS: ReadonlyArray<{ value: Network; label: string }> = [
  { value: "registries", label: "Package registries (PyPI, npm, Debian) through the egress proxy" },
  { value: "none", label: "None" },
];

export function SandboxFields({ draft, bind, change, error }: GroupProps) {
  const docker = draft.sandbox === "docker";
  return (
    <fieldset className="min-w-0 rounded-md border border-slate-200 p-3 sm:col-span-2">
      <legend className="px-1 text-sm font-semibold text-slate-900">Sandbox</legend>
      <div className="grid gap-3 sm:grid-cols-2">
        <SelectField
          label="Sandbox"
          hint="Where validations run. Process runs them on the server itself, without isolation."
          value={draft.sandbox}
          onChange={(event) => {
            const sandbox = chosen(SANDBOXES, event.target.value);
            if (sandbox !== undefined) change("sandbox", sandbox);
          }}
          error={error("deployment_settings.sandbox")}
        >
          {SANDBOXES.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Image"
          required={docker}
          hint={
            docker
              ? "Required for Docker: a container image such as python:3.12-slim."
              : "The container image, for the Docker sandbox only."
          }
          className="font-mono"
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          {...bind("image")}
          error={error("deployment_settings.image")}
        />
        <fieldset className="min-w-0 sm:col-span-2">
          <legend className="mb-1 text-sm text-slate-600">Limits for one validation, all its processes together</legend>
          <div className="grid grid-cols-2 gap-3 sm:grid-cols-4">
            <TextField label="CPUs" inputMode="decimal" {...bind("cpus")} error={error("deployment_settings.resources.cpus")} />
            <TextField
              label="Memory (MB)"
              inputMode="numeric"
              {...bind("memory_mb")}
              error={error("deployment_settings.resources.memory_mb")}
            />
            <TextField label="Processes" inputMode="numeric" {...bind("pids")} error={error("deployment_settings.resources.pids")} />
            <TextField label="Disk (MB)" inputMode="numeric" {...bind("disk_mb")} error={error("deployment_settings.resources.disk_mb")} />
          </div>
        </fieldset>
        <div className="sm:col-span-2">
          <TextArea
            label="Tools first on PATH"
            hint="One directory a line, relative to the checkout (.venv/bin, node_modules/.bin) or absolute."
            rows={2}
            className="font-mono"
            spellCheck={false}
            autoCapitalize="off"
            autoCorrect="off"
            {...bind("path_prepend")}
            error={error("deployment_settings.path_prepend")}
          />
        </div>
        <SelectField
          label="Network"
          hint="What the build, test and security commands may reach; the deployed app reaches nothing."
          value={draft.network}
          onChange={(event) => {
            const network = chosen(NETWORKS, event.target.value);
            if (network !== undefined) change("network", network);
          }}
          error={error("deployment_settings.network")}
        >
          {NETWORKS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </SelectField>
        <TextArea
          label="Extra allowed hosts"
          hint="One a line: pypi.example.com, or *.example.com for its subdomains. Used with package registries only."
          rows={2}
          className="font-mono"
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          {...bind("allowed_hosts")}
          error={error("deployment_settings.allowed_hosts")}
        />
      </div>
    </fieldset>
  );
}
