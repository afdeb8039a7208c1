// The project form's "Merging" group: whether a green pull request is merged without a person,
// how, and whose besides this server's own agent runs'.
import { SelectField, TextArea } from "../controls/field";
import { Toggle, chosen, type GroupProps } from "./form-parts";
import type { MergeMethod } from "./project-draft";

const MERGE_METHODS: ReadonlyArray<{ value: MergeMethod; label: string }> = [
  { value: "merge", label: "Merge commit" },
  { value: "squash", label: "Squash" },
  { value: "rebase", label: "Rebase" },
];

export function MergeFields({ draft, bind, change, error }: GroupProps) {
  return (
    <fieldset className="min-w-0 rounded-md border border-slate-200 p-3 sm:col-span-2">
      <legend className="px-1 text-sm font-semibold text-slate-900">Merging</legend>
      <div className="grid gap-3 sm:grid-cols-2">
        <Toggle
          label="Merge automatically when green"
          checked={draft.auto_merge}
          onChange={(on) => change("auto_merge", on)}
          error={error("validation_settings.auto_merge")}
        />
        <SelectField
          label="Merge method"
          hint="How a validated pull request is merged."
          value={draft.merge_method}
          onChange={(event) => {
            const method = chosen(MERGE_METHODS, event.target.value);
            if (method !== undefined) change("merge_method", method);
          }}
          error={error("validation_settings.merge_method")}
        >
          {MERGE_METHODS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </SelectField>
        <div className="sm:col-span-2">
          <TextArea
            label="Also merge automatically the pull requests of"
            hint="One GitHub login a line, such as dependabot[bot]. This server's own runs' pull requests are merged automatically; anyone else's are validated and reported only."
            rows={2}
            className="font-mono"
            spellCheck={false}
            autoCapitalize="off"
            autoCorrect="off"
            {...bind("auto_merge_authors")}
            error={error("validation_settings.auto_merge_authors")}
          />
        </div>
      </div>
    </fieldset>
  );
}
