// The agent's plan, waiting for the person: confirm it, or say what to change.
import { Check, PencilLine, Send } from "lucide-react";
import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import type { AgentRun } from "../api/types";
import { Button } from "../controls/button";
import { TextArea } from "../controls/field";
import { Problem } from "../controls/problem";
import { readable } from "../projects/field-errors";
import { useAnswerPlan } from "./run-actions";

export function PlanPanel({ run }: { run: AgentRun }) {
  const answer = useAnswerPlan(run.id);
  const [modifying, setModifying] = useState(false);
  const [changes, setChanges] = useState("");
  const error = answer.error;
  const textError = error instanceof ApiError ? error.problems.find((p) => p.loc.at(-1) === "text")?.msg : undefined;

  const send = (event: FormEvent) => {
    event.preventDefault();
    answer.mutate({ action: "modify", text: changes });
  };

  return (
    <section aria-label="Plan" className="space-y-3 rounded-lg border-2 border-amber-400 bg-amber-50 p-4">
      <h3 className="text-base font-semibold text-amber-950">The agent proposes a plan: waiting for you</h3>
      <pre className="whitespace-pre-wrap break-words rounded-md bg-white p-3 font-sans text-sm">{run.plan}</pre>
      <div className="flex flex-wrap gap-2">
        <Button look="primary" onClick={() => answer.mutate({ action: "confirm", text: "" })} disabled={answer.isPending}>
          <Check aria-hidden="true" className="size-4" />
          Confirm plan
        </Button>
        <Button onClick={() => setModifying(true)} disabled={answer.isPending} aria-expanded={modifying}>
          <PencilLine aria-hidden="true" className="size-4" />
          Modify plan
        </Button>
      </div>
      {modifying && (
        <form onSubmit={send} noValidate className="space-y-2">
          <TextArea
            label="Plan changes"
            rows={3}
            value={changes}
            onChange={(event) => setChanges(event.target.value)}
            error={textError ? readable(textError) : undefined}
            autoFocus
          />
          <Button look="primary" type="submit" disabled={answer.isPending}>
            <Send aria-hidden="true" className="size-4" />
            Send
          </Button>
        </form>
      )}
      {error && !textError && <Problem>{error.message}</Problem>}
    </section>
  );
}
