// The project form's "Agent" group: who works on the project's goals.
import { SelectField, TextArea, TextField } from "../controls/field";
import { chosen, type GroupProps } from "./form-parts";
import type { AgentProvider } from "./project-draft";

const PROVIDERS: ReadonlyArray<{ value: AgentProvider; label: string }> = [
  { value: "scripted", label: "Scripted agent (not AI)" },
  { value: "codegen", label: "Codegen" },
];

export function AgentFields({ draft, bind, change, error }: GroupProps) {
  return (
    <>
      <SelectField
        label="Agent"
        hint="Codegen works through the server's Codegen account, on GitHub projects."
        value={draft.provider}
        onChange={(event) => {
          const provider = chosen(PROVIDERS, event.target.value);
          if (provider !== undefined) change("provider", provider);
        }}
        error={error("agent.provider") ?? (draft.provider === "codegen" ? error("agent") : undefined)}
      >
        {PROVIDERS.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </SelectField>
      {draft.provider === "codegen" ? (
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
      ) : (
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
      )}
    </>
  );
}
