// A project's secrets: the names the API lists, a form to set one, a two-step delete.
//
// A value is typed into a password field and sent from there: it is never in React state, the
// query cache or a mutation's variables (TanStack keeps those), and the API never returns it.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { KeyRound, Trash2 } from "lucide-react";
import { useEffect, useRef, useState, type FormEvent, type RefObject } from "react";
import { ApiError, api } from "../api/client";
import { queryKeys } from "../api/query-keys";
import type { ProjectSecret, ProjectSecretPage } from "../api/types";
import { Button } from "../controls/button";
import { TextField } from "../controls/field";
import { Panel } from "../controls/panel";
import { Problem, errorText } from "../controls/problem";
import { dateTime } from "../format/format";
import { placeErrors, type PlacedErrors } from "./field-errors";
import { useProjectSecrets } from "./queries";

const FIELDS = ["name", "value"] as const;
const NO_ERRORS: PlacedErrors = { byField: {}, unplaced: [] };
/** The password field's `name` in the form: how the value is read when it is sent. */
const VALUE_FIELD = "secret-value";

export function ProjectSecrets({ projectId }: { projectId: number }) {
  const secrets = useProjectSecrets(projectId);
  const [notice, setNotice] = useState<string | null>(null);
  const nameField = useRef<HTMLInputElement>(null);
  const items = secrets.data?.items ?? [];
  return (
    <Panel title="Secrets">
      <p className="mb-3 text-sm text-slate-600">
        Each secret reaches the project's commands as an environment variable; it is stored encrypted, masked in every
        log, and can never be read back.
      </p>
      {secrets.isError && <Problem>Could not load the secrets: {errorText(secrets.error)}</Problem>}
      {secrets.isPending ? (
        <p className="text-sm text-slate-500">Loading…</p>
      ) : items.length === 0 ? (
        !secrets.isError && <p className="text-sm text-slate-500">No secrets yet.</p>
      ) : (
        <ul aria-label="Secrets of this project" className="divide-y divide-slate-100">
          {items.map((secret) => (
            <SecretRow
              key={secret.name}
              projectId={projectId}
              secret={secret}
              onDeleted={() => {
                setNotice(`Secret ${secret.name} deleted.`);
                // Its row is gone: the keyboard goes on to the form.
                nameField.current?.focus();
              }}
            />
          ))}
        </ul>
      )}
      <SecretForm
        projectId={projectId}
        known={items.map((secret) => secret.name)}
        nameField={nameField}
        onSaved={setNotice}
      />
      <p role="status" className="mt-2 text-sm text-slate-600">
        {notice}
      </p>
    </Panel>
  );
}

function SecretRow({
  projectId,
  secret,
  onDeleted,
}: {
  projectId: number;
  secret: ProjectSecret;
  onDeleted: () => void;
}) {
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  const ask = useRef<HTMLButtonElement>(null);
  const remove = useMutation({
    mutationFn: () => api.projects.secrets.delete(projectId, secret.name),
    onSettled: (_data, error) => {
      // A 404: someone deleted it already, which is what was asked.
      if (error && !(error instanceof ApiError && error.status === 404)) return;
      client.setQueryData<ProjectSecretPage>(queryKeys.projects.secrets(projectId), (page) =>
        page && { items: page.items.filter((s) => s.name !== secret.name), total: Math.max(0, page.total - 1) },
      );
      void client.invalidateQueries({ queryKey: queryKeys.projects.secrets(projectId) });
      onDeleted();
    },
  });
  const shown = useRef(confirming);
  useEffect(() => {
    // The keyboard follows the question: to "Delete" when it is asked, back when it is not.
    if (shown.current === confirming) return;
    shown.current = confirming;
    (confirming ? confirm : ask).current?.focus();
  }, [confirming]);

  return (
    <li className="py-2">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <span className="flex items-center gap-1.5 font-mono text-sm break-all">
            <KeyRound aria-hidden="true" className="size-4 shrink-0 text-slate-400" />
            {secret.name}
          </span>
          <span className="block text-xs text-slate-500">
            updated <time dateTime={secret.updated_at}>{dateTime(secret.updated_at)}</time>
          </span>
        </div>
        {confirming ? (
          <div role="group" aria-label={`Delete secret ${secret.name}?`} className="flex items-center gap-2">
            <span className="text-sm text-slate-700">Delete it?</span>
            <Button
              ref={confirm}
              look="danger"
              aria-label={`Yes, delete secret ${secret.name}`}
              disabled={remove.isPending}
              onClick={() => remove.mutate()}
            >
              Delete
            </Button>
            <Button aria-label={`Keep secret ${secret.name}`} onClick={() => setConfirming(false)}>
              Keep
            </Button>
          </div>
        ) : (
          <Button ref={ask} aria-label={`Delete secret ${secret.name}`} onClick={() => setConfirming(true)}>
            <Trash2 aria-hidden="true" className="size-4" />
          </Button>
        )}
      </div>
      {remove.isError && !(remove.error instanceof ApiError && remove.error.status === 404) && (
        <div className="mt-1">
          <Problem>
            Could not delete {secret.name}: {errorText(remove.error)}
          </Problem>
        </div>
      )}
    </li>
  );
}

function SecretForm({
  projectId,
  known,
  nameField,
  onSaved,
}: {
  projectId: number;
  known: string[];
  nameField: RefObject<HTMLInputElement>;
  onSaved: (notice: string) => void;
}) {
  const client = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<PlacedErrors>(NO_ERRORS);
  const valueInput = (): HTMLInputElement | null => {
    const field = form.current?.elements.namedItem(VALUE_FIELD);
    return field instanceof HTMLInputElement ? field : null;
  };
  useEffect(() => {
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);
  const save = useMutation({
    // The variables are the name alone: the value is read from its field as it is sent.
    mutationFn: (secretName: string) =>
      api.projects.secrets.set(projectId, { name: secretName, value: valueInput()?.value ?? "" }),
    onSuccess: (saved) => {
      const input = valueInput();
      if (input) input.value = "";
      setName("");
      setErrors(NO_ERRORS);
      client.setQueryData<ProjectSecretPage>(queryKeys.projects.secrets(projectId), (page) => {
        if (!page) return page;
        const others = page.items.filter((s) => s.name !== saved.name);
        return { items: [...others, saved].sort((a, b) => a.name.localeCompare(b.name)), total: others.length + 1 };
      });
      void client.invalidateQueries({ queryKey: queryKeys.projects.secrets(projectId) });
      onSaved(`Secret ${saved.name} ${known.includes(saved.name) ? "replaced" : "saved"}.`);
    },
    onError: (error) => {
      setErrors(
        error instanceof ApiError && error.problems.length
          ? placeErrors(error.problems, FIELDS)
          : { byField: {}, unplaced: [errorText(error)] },
      );
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setErrors(NO_ERRORS);
    save.mutate(name.trim());
  };

  return (
    <form
      ref={form}
      noValidate
      onSubmit={submit}
      aria-label="Set a secret"
      className="mt-3 space-y-2 border-t border-slate-100 pt-3"
    >
      {errors.unplaced.length > 0 && (
        <Problem>
          The secret was not saved.
          {errors.unplaced.map((line) => (
            <span key={line} className="block">
              {line}
            </span>
          ))}
        </Problem>
      )}
      <TextField
        ref={nameField}
        label="Secret name"
        hint="An environment variable name, such as API_TOKEN. An existing name gets the new value."
        className="font-mono"
        autoComplete="off"
        autoCapitalize="characters"
        spellCheck={false}
        value={name}
        onChange={(event) => setName(event.target.value)}
        error={errors.byField.name}
      />
      <TextField
        label="Secret value"
        type="password"
        name={VALUE_FIELD}
        autoComplete="off"
        spellCheck={false}
        error={errors.byField.value}
      />
      <Button look="primary" type="submit" disabled={save.isPending}>
        Save secret
      </Button>
    </form>
  );
}
