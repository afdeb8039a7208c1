// One project: give its agent a goal, follow the run, see its runs, pull requests, trends,
// secrets and activity.
import { Settings } from "lucide-react";
import { ActivityFeed } from "../activity/activity-feed";
import { AgentLabel } from "../agent-runs/agent-label";
import { useRuns } from "../agent-runs/queries";
import { RunList } from "../agent-runs/run-list";
import { RunView } from "../agent-runs/run-view";
import { StartRunForm } from "../agent-runs/start-run-form";
import { ApiError } from "../api/client";
import { ProjectCharts } from "../charts/project-charts";
import { Panel } from "../controls/panel";
import { Problem, errorText } from "../controls/problem";
import { Link } from "../routing/link";
import { paths } from "../routing/routes";
import { ProjectPullRequests } from "../validations/project-pull-requests";
import { BaseBranchStatus } from "./base-branch";
import { ForgeLabel } from "./forge-label";
import { ProjectSecrets } from "./project-secrets";
import { useProject, useProjectStats } from "./queries";

export function ProjectPage({ projectId, runId }: { projectId: number; runId: number | null }) {
  const project = useProject(projectId);
  const runs = useRuns(projectId);
  const stats = useProjectStats(projectId);
  if (project.error instanceof ApiError && project.error.status === 404) {
    return <Problem>Project {projectId} does not exist (it may have been deleted).</Problem>;
  }
  const shownRun = runId ?? runs.data?.items[0]?.id ?? null;
  return (
    <div className="space-y-4">
      <header className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h1 className="text-xl font-semibold break-words">{project.data?.name ?? `Project ${projectId}`}</h1>
          {project.data && (
            <p className="flex flex-wrap items-center gap-x-3 text-sm text-slate-600">
              <span className="inline-flex min-w-0 items-center gap-1.5">
                <span className="font-mono text-xs break-all">{project.data.repository}</span>
                <ForgeLabel forge={project.data.forge} />
              </span>
              {/* Whether the agent is an AI is the driver's to say, once a run starts it: claim neither here. */}
              <AgentLabel provider={project.data.agent.provider} isAi={null} />
            </p>
          )}
          {project.data && (
            <dl className="mt-2 flex flex-wrap items-start gap-x-2 gap-y-1 text-sm">
              <dt className="text-slate-500">Base branch</dt>
              <dd className="min-w-0">
                <BaseBranchStatus project={project.data} baseline={stats.data?.baseline} />
              </dd>
            </dl>
          )}
        </div>
        <Link
          to={paths.editProject(projectId)}
          className="inline-flex min-h-9 items-center gap-1.5 rounded-md border border-slate-300 bg-white px-3 text-sm font-medium hover:bg-slate-100"
        >
          <Settings aria-hidden="true" className="size-4" />
          Edit project
        </Link>
      </header>
      {project.isError && <Problem>Could not load the project: {errorText(project.error)}</Problem>}
      <div className="grid gap-4 lg:grid-cols-3">
        <div className="min-w-0 space-y-4 lg:col-span-2">
          <Panel title="New run">
            <StartRunForm projectId={projectId} />
          </Panel>
          {shownRun !== null && <RunView key={shownRun} runId={shownRun} project={project.data} />}
          <ProjectPullRequests key={projectId} projectId={projectId} project={project.data} />
        </div>
        <div className="min-w-0 space-y-4">
          <Panel title="Runs">
            {runs.isError ? <Problem>{errorText(runs.error)}</Problem> : <RunList runs={runs.data?.items ?? []} shownId={shownRun} />}
          </Panel>
          <Panel title="Trends">
            {stats.data ? <ProjectCharts stats={stats.data} /> : <p className="text-sm text-slate-500">Loading…</p>}
          </Panel>
          <ProjectSecrets projectId={projectId} />
          <ActivityFeed projectId={projectId} />
        </div>
      </div>
    </div>
  );
}
