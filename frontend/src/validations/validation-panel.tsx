// A run's validations: one attempt shown at a time, the newest unless the person picks one.
import { useState } from "react";
import type { AgentRun, Project } from "../api/types";
import { Panel } from "../controls/panel";
import { Problem, errorText } from "../controls/problem";
import { StateBadge } from "../states/state-badge";
import { VALIDATION_STATES } from "../states/state-words";
import { FaultTag } from "./fault-note";
import { useRunValidations } from "./queries";
import { ValidationView } from "./validation-view";

export function ValidationPanel({ run, project }: { run: AgentRun; project: Project | undefined }) {
  const validations = useRunValidations(run.id);
  const [chosen, setChosen] = useState<number | null>(null);
  const attempts = [...(validations.data?.items ?? [])].sort((a, b) => a.attempt - b.attempt || a.id - b.id);
  if (validations.isError) return <Problem>Could not load the validations: {errorText(validations.error)}</Problem>;
  if (!attempts.length) return null;
  const shown = attempts.find((v) => v.id === chosen) ?? attempts[attempts.length - 1];
  if (!shown) return null;
  const maxAttempts = project ? project.validation_settings.max_retries + 1 : null;
  return (
    <Panel title="Validations">
      <div role="group" aria-label="Validation attempts" className="mb-4 flex flex-wrap gap-2">
        {attempts.map((validation) => (
          <button
            key={validation.id}
            type="button"
            aria-pressed={validation.id === shown.id}
            onClick={() => setChosen(validation.id)}
            className="inline-flex items-center gap-2 rounded-md border border-slate-300 px-2.5 py-1 text-sm hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-blue-600 aria-pressed:border-blue-500 aria-pressed:bg-blue-50"
          >
            Attempt {validation.attempt}
            <StateBadge state={VALIDATION_STATES[validation.status]} />
            <FaultTag fault={validation.fault} />
          </button>
        ))}
      </div>
      <ValidationView key={shown.id} listed={shown} attempts={maxAttempts} pullRequest={run.pull_request} />
    </Panel>
  );
}
