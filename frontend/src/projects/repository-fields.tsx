// The project form's repository: where it lives (a path on this server, or GitHub), and its
// path or OWNER/NAME, the hint saying which the chosen place takes.
import type { ForgeKind } from "../api/types";
import { SelectField, TextField } from "../controls/field";
import { chosen, type GroupProps } from "./form-parts";

const FORGES: ReadonlyArray<{ value: ForgeKind; label: string; hint: string }> = [
  {
    value: "local",
    label: "Local path on this server",
    hint: "A path to a git repository (bare or not) under one of the server's repository roots.",
  },
  {
    value: "github",
    label: "GitHub",
    hint: "OWNER/NAME, such as octo-org/shop (https://github.com/OWNER/NAME is read the same).",
  },
];

export function RepositoryFields({ draft, bind, change, error }: GroupProps) {
  const forge = FORGES.find((option) => option.value === draft.forge);
  return (
    <>
      <SelectField
        label="Where the repository lives"
        value={draft.forge}
        onChange={(event) => {
          const value = chosen(FORGES, event.target.value);
          if (value !== undefined) change("forge", value);
        }}
        error={error("forge")}
      >
        {FORGES.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </SelectField>
      <TextField
        label="Repository"
        required
        hint={forge?.hint}
        className="font-mono"
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        {...bind("repository")}
        error={error("repository")}
      />
    </>
  );
}
