// Every project at a glance: repository, last run, last verdict, its base branch, success rate.
import { FolderGit2 } from "lucide-react";
import type { Project } from "../api/types";
import { AgentLabel } from "../agent-runs/agent-label";
import { dateTime, percent } from "../format/format";
import { Link } from "../routing/link";
import { paths } from "../routing/routes";
import { StateBadge } from "../states/state-badge";
import { RUN_STATES, VALIDATION_STATES } from "../states/state-words";
import { BaseBranchStatus } from "./base-branch";
import { ForgeLabel } from "./forge-label";
import { useProjectStats } from "./queries";

export function ProjectCards({ projects }: { projects: Project[] }) {
  return (
    <ul aria-label="Projects" className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
      {projects.map((project) => (
        <li key={project.id} className="min-w-0">
          <ProjectCard project={project} />
        </li>
      ))}
    </ul>
  );
}

export function ProjectCard({ project }: { project: Project }) {
  const stats = useProjectStats(project.id).data;
  const run = stats?.last_run;
  const validation = stats?.last_validation;
  return (
    <article
      aria-label={`Project ${project.name}`}
      className="flex h-full flex-col gap-3 rounded-lg border border-slate-200 bg-white p-4 shadow-xs"
    >
      <header className="min-w-0">
        <h3 className="truncate text-lg font-semibold">
          <Link to={paths.project(project.id)} className="text-blue-800 hover:underline">
            {project.name}
          </Link>
        </h3>
        <p className="flex min-w-0 items-center gap-1 text-sm text-slate-600" title={project.repository}>
          <FolderGit2 aria-hidden="true" className="size-4 shrink-0" />
          <span className="sr-only">Repository: </span>
          <span className="truncate font-mono text-xs">{project.repository}</span>
          <ForgeLabel forge={project.forge} />
        </p>
        <AgentLabel provider={project.agent.provider} isAi={null} />
      </header>
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-2 text-sm">
        <dt className="text-slate-500">Last run</dt>
        <dd className="min-w-0">
          {run ? (
            <span className="flex min-w-0 flex-wrap items-center gap-1.5">
              <StateBadge state={RUN_STATES[run.status]} />
              <span className="truncate" title={run.goal}>
                {run.goal}
              </span>
              <span className="text-xs text-slate-500">{dateTime(run.updated_at)}</span>
            </span>
          ) : (
            "No runs yet"
          )}
        </dd>
        <dt className="text-slate-500">Last validation</dt>
        <dd>
          {validation ? (
            <span className="flex flex-wrap items-center gap-1.5">
              <StateBadge state={VALIDATION_STATES[validation.status]} />
              <span className="text-slate-600">
                PR #{validation.pr_number}, attempt {validation.attempt}
              </span>
            </span>
          ) : (
            "None yet"
          )}
        </dd>
        <dt className="text-slate-500">Base branch</dt>
        <dd className="min-w-0">
          <BaseBranchStatus project={project} baseline={stats?.baseline} />
        </dd>
        <dt className="text-slate-500">Success rate</dt>
        <dd>
          {stats?.pass_rate == null
            ? "No verdicts yet"
            : `${percent(stats.pass_rate)} of ${stats.validations_passed + stats.validations_failed} validations passed`}
        </dd>
      </dl>
    </article>
  );
}
