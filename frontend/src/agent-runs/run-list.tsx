// The project's recent runs; the one shown is marked as current.
import type { AgentRun } from "../api/types";
import { dateTime } from "../format/format";
import { Link } from "../routing/link";
import { paths } from "../routing/routes";
import { StateBadge } from "../states/state-badge";
import { RUN_STATES } from "../states/state-words";

export function RunList({ runs, shownId }: { runs: AgentRun[]; shownId: number | null }) {
  if (!runs.length) return <p className="text-sm text-slate-500">No runs yet: give the agent a goal.</p>;
  return (
    <ul aria-label="Agent runs" className="space-y-1">
      {runs.map((run) => (
        <li key={run.id}>
          <Link
            to={paths.run(run.project_id, run.id)}
            aria-current={run.id === shownId ? "page" : undefined}
            className="flex min-w-0 flex-col gap-0.5 rounded-md px-2 py-1.5 text-sm hover:bg-slate-100 aria-[current=page]:bg-blue-50 aria-[current=page]:ring-1 aria-[current=page]:ring-blue-300"
          >
            <span className="flex min-w-0 items-center gap-2">
              <span className="font-mono text-xs text-slate-500">#{run.id}</span>
              <span className="truncate font-medium">{run.goal}</span>
            </span>
            <span className="flex items-center gap-2">
              <StateBadge state={RUN_STATES[run.status]} />
              <span className="text-xs text-slate-500">{dateTime(run.created_at)}</span>
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}
