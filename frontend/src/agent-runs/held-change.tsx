// A change of the agent's that bends the gate (tests deleted or skipped, assertions dropped, CI
// or test-runner configuration edited) is not validated until a person approves it: a green
// validation of such a head would prove nothing, and could merge it.
import { Check, ShieldAlert, ShieldCheck, XCircle } from "lucide-react";
import { useId } from "react";
import type { AgentRun, HeldChange } from "../api/types";
import { Button } from "../controls/button";
import { Problem, errorText } from "../controls/problem";
import { FINAL_RUN_STATES, INTEGRITY_KINDS } from "../states/state-words";
import { DiffHunk } from "./diff-hunk";
import { useApproveChange, useCancelRun } from "./run-actions";

/** A commit as a held change names it: enough to find it, short enough to read. */
const sha12 = (sha: string) => sha.slice(0, 12);
const FULL_SHA = /^[0-9a-f]{40}$/i;

/** The run's held change: the panel while it waits for a person, a one-line note after. */
export function HeldChangeSection({ run }: { run: AgentRun }) {
  const held = run.held_change;
  if (held === null) return null;
  if (held.approved) {
    return (
      <p className="flex items-center gap-1.5 text-sm text-slate-700">
        <ShieldCheck aria-hidden="true" className="size-4 shrink-0 text-green-700" />
        <span>
          Change approved at <code className="font-mono text-xs">{sha12(held.head_sha)}</code>{" "}
          <span className="text-slate-500">(pull request #{held.pr_number})</span>
        </span>
      </p>
    );
  }
  if (run.status === "waiting_approval") return <HeldChangePanel runId={run.id} held={held} />;
  if (!FINAL_RUN_STATES.has(run.status)) return null;
  // The run ended while it waited (cancelled): say why it never went on to validate.
  return (
    <p className="text-sm text-slate-600">
      The change held at <code className="font-mono text-xs">{sha12(held.head_sha)}</code> was not approved.
    </p>
  );
}

function HeldChangePanel({ runId, held }: { runId: number; held: HeldChange }) {
  const approve = useApproveChange(runId);
  const cancel = useCancelRun(runId);
  const headingId = useId();
  const busy = approve.isPending || cancel.isPending;
  // A 409 (someone approved or cancelled first) says so in its detail.
  const failure = approve.error ?? cancel.error;
  return (
    <section aria-labelledby={headingId} className="space-y-3 rounded-lg border-2 border-amber-400 bg-amber-50 p-4">
      <h3 id={headingId} className="flex items-center gap-1.5 text-base font-semibold text-amber-950">
        <ShieldAlert aria-hidden="true" className="size-5" />
        This change needs your approval
      </h3>
      <p className="text-sm">
        Pull request #{held.pr_number} at <code className="font-mono text-xs">{sha12(held.head_sha)}</code> changes
        what checks it. It is not validated until you approve it; cancel the run to refuse it.
      </p>
      {held.unchecked !== null && (
        // Nothing in it was checked, so nothing in it can be waved through.
        <p className="text-sm font-medium text-amber-950">
          Not checked: {held.unchecked}. The whole change is held.
        </p>
      )}
      {held.findings.length > 0 && <Findings held={held} />}
      <div className="flex flex-wrap gap-2">
        <Button
          look="primary"
          onClick={() => {
            cancel.reset();
            approve.mutate();
          }}
          disabled={busy}
        >
          <Check aria-hidden="true" className="size-4" />
          Approve change
        </Button>
        <Button
          look="danger"
          onClick={() => {
            approve.reset();
            cancel.mutate();
          }}
          disabled={busy}
        >
          <XCircle aria-hidden="true" className="size-4" />
          Cancel run
        </Button>
      </div>
      {failure && <Problem>{errorText(failure)}</Problem>}
    </section>
  );
}

function Findings({ held }: { held: HeldChange }) {
  // Read since the base branch, or since the head a person approved last in this run.
  const since = FULL_SHA.test(held.since) ? `the head approved last, ${sha12(held.since)}` : held.since;
  return (
    <div className="space-y-2">
      <p className="text-xs text-slate-600">Found in the changes since {since}:</p>
      <ul aria-label="What the change does to the checks" className="space-y-3">
        {held.findings.map((finding, index) => {
          const kind = INTEGRITY_KINDS[finding.kind];
          return (
            <li key={`${index}-${finding.path}`} className="min-w-0 space-y-1">
              <p className="flex flex-wrap items-baseline gap-x-2 text-sm">
                <span className="font-semibold">{kind}</span>
                <code className="font-mono text-xs break-all">{finding.path}</code>
              </p>
              <DiffHunk hunk={finding.hunk} label={`${kind}: ${finding.path}`} />
            </li>
          );
        })}
      </ul>
      {held.omitted > 0 && (
        <p className="text-sm">
          and {held.omitted} more {held.omitted === 1 ? "finding" : "findings"}, not listed
        </p>
      )}
    </div>
  );
}
