// A project's base branch as its newest baseline found it: passes, fails (and what to do about
// it), running, or not validated yet. Live events keep the baseline in the stats current.
import { RotateCcw } from "lucide-react";
import type { BaselineSummary, Project } from "../api/types";
import { Button } from "../controls/button";
import { Problem, errorText } from "../controls/problem";
import { branchAt } from "../format/format";
import { Link } from "../routing/link";
import { paths } from "../routing/routes";
import { StateBadge } from "../states/state-badge";
import { BASELINE_STATES, failedAt } from "../states/state-words";
import { useRetryValidation } from "../validations/retry";

type Props = {
  project: Project;
  /** `undefined` while the stats load; `null` when the base branch was never validated. */
  baseline: BaselineSummary | null | undefined;
};

/** The value of a "Base branch" line; the caller names it. */
export function BaseBranchStatus({ project, baseline }: Props) {
  if (baseline === undefined) return <span className="text-slate-500">Loading…</span>;
  if (baseline === null) {
    return (
      <span>
        {project.validation_settings.validate_base_branch
          ? "Not validated yet"
          : "Not validated (turned off in the project's settings)"}
      </span>
    );
  }
  const where = baseline.status === "failed" ? failedAt(baseline.failed_step, baseline.failed_check) : null;
  const retriable = baseline.status === "failed" || baseline.status === "error" || baseline.status === "cancelled";
  return (
    <div className="min-w-0 space-y-1.5">
      <p className="flex min-w-0 flex-wrap items-center gap-x-1.5 gap-y-0.5" title={baseline.reason ?? undefined}>
        <StateBadge state={BASELINE_STATES[baseline.status]} />
        {where && <span>at {where}</span>}
        <span className="font-mono text-xs break-all text-slate-600">{branchAt(baseline.branch, baseline.sha)}</span>
      </p>
      {retriable && baseline.reason && (
        <details className="text-sm">
          <summary className="cursor-pointer text-slate-700">
            {baseline.status === "failed" ? "Why it fails" : "Details"}
          </summary>
          <p className="mt-1 break-words text-slate-700">{baseline.reason}</p>
        </details>
      )}
      {baseline.status === "failed" && (
        <p className="text-xs text-slate-700">
          Pull requests failing the same way are reported as setup problems, not sent to the agent. Fix{" "}
          <Link to={paths.editProject(project.id)} className="text-blue-800 underline">
            the project's settings
          </Link>
          , then Retry.
        </p>
      )}
      {retriable && <RetryBaseBranch key={baseline.id} projectId={project.id} baselineId={baseline.id} />}
    </div>
  );
}

function RetryBaseBranch({ projectId, baselineId }: { projectId: number; baselineId: number }) {
  const retry = useRetryValidation({ id: baselineId, project_id: projectId, agent_run_id: null });
  return (
    <div className="flex flex-wrap items-center gap-2">
      <Button onClick={() => retry.mutate()} disabled={retry.isPending}>
        <RotateCcw aria-hidden="true" className="size-4" />
        Retry base branch
      </Button>
      {retry.isError && <Problem>{errorText(retry.error)}</Problem>}
    </div>
  );
}
