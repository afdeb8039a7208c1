// The command-line agent's settings: the command that runs it in the project's sandbox, what it
// may reach, which of the project's secrets it gets, and how long a turn may take.
import { TextArea, TextField } from "../controls/field";
import { Toggle, type GroupProps } from "./form-parts";

// Shell commands, host names and variable names: no spelling fixes, no capitals added.
const VERBATIM = { spellCheck: false, autoCapitalize: "off", autoCorrect: "off", className: "font-mono" } as const;

export function CliAgentFields({ draft, bind, change, error }: GroupProps) {
  return (
    <>
      <div className="sm:col-span-2">
        <TextField
          label="Agent command"
          required
          placeholder="aider --yes-always --message {prompt}"
          hint="Run with sh -c in the project's sandbox, on a fresh checkout. {prompt} becomes the prompt, shell-quoted; it is in $CODEGENAPP_PROMPT too."
          {...VERBATIM}
          {...bind("cli_command")}
          error={error("agent.command")}
        />
      </div>
      <TextArea
        label="Hosts the agent may reach"
        hint="One a line: api.anthropic.com, or *.example.com for its subdomains. Nothing else is reachable."
        rows={2}
        {...VERBATIM}
        {...bind("cli_allowed_hosts")}
        error={error("agent.allowed_hosts")}
      />
      <TextArea
        label="Secrets the agent gets"
        hint="Names of this project's secrets, one a line (ANTHROPIC_API_KEY): each is set as an environment variable. It gets no other secret."
        rows={2}
        {...VERBATIM}
        {...bind("cli_secrets")}
        error={error("agent.secrets")}
      />
      <TextField
        label="Turn timeout (minutes)"
        hint="How long one turn of the command may run before it is stopped: 0.01 to 1440."
        inputMode="decimal"
        {...bind("cli_timeout_minutes")}
        error={error("agent.timeout_minutes")}
      />
      <Toggle
        label="Plan first: the first turn only proposes a plan, for you to confirm"
        checked={draft.cli_plan_first}
        onChange={(on) => change("cli_plan_first", on)}
        error={error("agent.plan_first")}
      />
    </>
  );
}
