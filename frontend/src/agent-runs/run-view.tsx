// One agent run, live: status, progress, plan, a change held for approval, reply, pull request
// (and how it keeps to the plan), the conversation with its agent, and its validations.
import { GitPullRequest, XCircle } from "lucide-react";
import type { AgentRun, Project } from "../api/types";
import { Button } from "../controls/button";
import { Panel } from "../controls/panel";
import { Problem, errorText } from "../controls/problem";
import { dateTime } from "../format/format";
import { StateBadge } from "../states/state-badge";
import { FINAL_RUN_STATES, MERGED, RUN_STATES } from "../states/state-words";
import { ValidationPanel } from "../validations/validation-panel";
import { AgentLabel } from "./agent-label";
import { ContinueForm } from "./continue-form";
import { Conversation } from "./conversation";
import { HeldChangeSection } from "./held-change";
import { PlanDriftNote } from "./plan-drift-note";
import { PlanPanel } from "./plan-panel";
import { useRun } from "./queries";
import { useCancelRun } from "./run-actions";
import { RunProgress } from "./run-progress";

export function RunView({ runId, project }: { runId: number; project: Project | undefined }) {
  const query = useRun(runId);
  if (query.isError) return <Problem>Could not load run {runId}: {errorText(query.error)}</Problem>;
  if (!query.data) return <p className="text-sm text-slate-500">Loading run {runId}…</p>;
  return <LoadedRun run={query.data} project={project} />;
}

function LoadedRun({ run, project }: { run: AgentRun; project: Project | undefined }) {
  const cancel = useCancelRun(run.id);
  const final = FINAL_RUN_STATES.has(run.status);
  const waitingOnPlan = run.status === "waiting_input" && run.plan;
  // The held change's panel offers the cancel, beside the approval: one button for it, not two.
  const waitingOnApproval = run.status === "waiting_approval" && run.held_change?.approved === false;
  return (
    <div className="space-y-4">
      <Panel
        title={`Run #${run.id}`}
        label={`Run ${run.id}`}
        actions={
          !final &&
          !waitingOnApproval && (
            <Button look="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
              <XCircle aria-hidden="true" className="size-4" />
              Cancel run
            </Button>
          )
        }
      >
        <div className="space-y-4">
          <div className="space-y-1">
            <p className="text-base break-words">{run.goal}</p>
            <p className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
              <span aria-live="polite" className="inline-flex items-center gap-1">
                <span className="sr-only">Status:</span>
                <StateBadge state={RUN_STATES[run.status]} />
              </span>
              <AgentLabel
                provider={run.agent.driver ?? project?.agent.provider}
                isAi={run.agent.is_ai}
              />
              <span className="text-xs text-slate-500">started {dateTime(run.created_at)}</span>
            </p>
          </div>
          {cancel.isError && <Problem>{errorText(cancel.error)}</Problem>}
          {waitingOnPlan && <PlanPanel run={run} />}
          <HeldChangeSection run={run} />
          <RunProgress runId={run.id} />
          {run.plan && !waitingOnPlan && (
            <details className="text-sm">
              <summary className="cursor-pointer font-semibold">Plan</summary>
              <pre className="mt-1 whitespace-pre-wrap break-words font-sans">{run.plan}</pre>
            </details>
          )}
          {run.pull_request && (
            <p className="flex flex-wrap items-center gap-2 text-sm">
              <GitPullRequest aria-hidden="true" className="size-4" />
              <a href={run.pull_request.url} target="_blank" rel="noreferrer" className="text-blue-800 underline">
                Pull request #{run.pull_request.number}
              </a>
              <span className="font-mono text-xs text-slate-600">{run.pull_request.branch}</span>
              {run.pull_request.merged && <StateBadge state={MERGED} />}
            </p>
          )}
          {run.plan_drift && <PlanDriftNote drift={run.plan_drift} />}
          {final && run.result && (
            <div>
              <h3 className="text-sm font-semibold">Reply</h3>
              <p className="text-sm break-words whitespace-pre-wrap">{run.result}</p>
            </div>
          )}
          <Conversation runId={run.id} />
          {(run.status === "completed" || run.status === "failed") && <ContinueForm runId={run.id} />}
        </div>
      </Panel>
      <ValidationPanel run={run} project={project} />
    </div>
  );
}
