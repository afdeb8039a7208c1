// The project form's "Agent" group: who works on the project's goals, and what it may spend.
import { SelectField, TextArea, TextField } from "../controls/field";
import { AgentBudgetFields } from "./agent-budget-fields";
import { CliAgentFields } from "./cli-agent-fields";
import { chosen, type GroupProps } from "./form-parts";
import type { AgentProvider } from "./project-draft";

const PROVIDERS: ReadonlyArray<{ value: AgentProvider; label: string }> = [
  { value: "scripted", label: "Scripted agent (not AI)" },
  { value: "codegen", label: "Codegen" },
  { value: "cli", label: "Command-line agent" },
];

const PROVIDERS_HINT =
  "The scripted agent replays a recipe: it is not an AI. Codegen works through the server's Codegen " +
  "account, on GitHub projects. A command-line agent, such as aider or Claude Code, runs in the " +
  "project's sandbox, and CodegenApp commits its changes.";

export function AgentFields(group: GroupProps) {
  const { draft, change, error } = group;
  return (
    <>
      <SelectField
        label="Agent"
        hint={PROVIDERS_HINT}
        value={draft.provider}
        onChange={(event) => {
          const provider = chosen(PROVIDERS, event.target.value);
          if (provider !== undefined) change("provider", provider);
        }}
        // A refusal of the agent as a whole: the recipe's field shows it for the scripted agent.
        error={error("agent.provider") ?? (draft.provider === "scripted" ? undefined : error("agent"))}
      >
        {PROVIDERS.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </SelectField>
      {draft.provider === "codegen" && <CodegenFields {...group} />}
      {draft.provider === "cli" && <CliAgentFields {...group} />}
      {draft.provider === "scripted" && <ScriptedFields {...group} />}
      <AgentBudgetFields {...group} />
    </>
  );
}

function CodegenFields({ bind, error }: GroupProps) {
  return (
    <>
      <TextField
        label="Codegen repository id"
        hint="Codegen's id of the repository; empty for the organization's default."
        inputMode="numeric"
        {...bind("codegen_repo_id")}
        error={error("agent.repo_id")}
      />
      <TextField
        label="Model"
        hint="The model Codegen should use; empty for the organization's default."
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        {...bind("codegen_model")}
        error={error("agent.model")}
      />
    </>
  );
}

function ScriptedFields({ bind, error }: GroupProps) {
  return (
    <div className="sm:col-span-2">
      <TextArea
        label="Recipe"
        hint="The scripted agent's turns, as YAML (it replays them; it is not an AI)."
        rows={12}
        wrap="off"
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        className="font-mono"
        {...bind("recipe")}
        error={error("agent.recipe") ?? error("agent")}
      />
    </div>
  );
}
