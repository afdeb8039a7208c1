// The project form's building blocks: what a group of fields is given, a titled group, a
// labelled checkbox with its error, and reading a <select>'s value back as one of its options.
import { useId, type ChangeEvent, type ReactNode } from "react";
import { FieldError } from "../controls/field";
import type { Draft, Field, TextKey } from "./project-draft";

/** A text field's value and change handler. */
export type Bind = (key: TextKey) => {
  value: string;
  onChange: (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => void;
};

/** What a group of the form's fields is given: the values, and what the API said of them. */
export type GroupProps = {
  draft: Draft;
  bind: Bind;
  change: <K extends keyof Draft>(key: K, value: Draft[K]) => void;
  error: (field: Field) => string | undefined;
};

export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="rounded-lg border border-slate-200 bg-white p-4">
      <legend className="px-1 text-sm font-semibold text-slate-900">{title}</legend>
      <div className="grid gap-3 sm:grid-cols-2">{children}</div>
    </fieldset>
  );
}

type ToggleProps = {
  label: string;
  checked: boolean;
  onChange: (on: boolean) => void;
  error?: string | undefined;
};

export function Toggle({ label, checked, onChange, error }: ToggleProps) {
  const errorId = `${useId()}-error`;
  return (
    <div className="min-w-0">
      <label className="inline-flex min-h-9 items-center gap-2 text-sm">
        <input
          type="checkbox"
          checked={checked}
          onChange={(event) => onChange(event.target.checked)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          className="size-4 accent-blue-700"
        />
        {label}
      </label>
      {error && <FieldError id={errorId}>{error}</FieldError>}
    </div>
  );
}

/** The option whose value the select reports (a <select> only ever reports one of its own). */
export function chosen<T extends string>(options: ReadonlyArray<{ value: T }>, value: string): T | undefined {
  return options.find((option) => option.value === value)?.value;
}
