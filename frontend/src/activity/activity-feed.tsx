// Everything that happens, newest first, as it happens.
import type { Project } from "../api/types";
import { Panel } from "../controls/panel";
import { Problem, errorText } from "../controls/problem";
import { clockTime } from "../format/format";
import { describeEvent } from "./describe-event";
import { useFeed } from "./queries";
import type { Tone } from "../states/state-words";

const marks: Record<Tone, string> = {
  neutral: "bg-slate-400",
  active: "bg-blue-500",
  waiting: "bg-amber-500",
  good: "bg-green-600",
  bad: "bg-red-600",
};

type Props = { projectId: number | null; projects?: Project[] | undefined };

export function ActivityFeed({ projectId, projects }: Props) {
  const feed = useFeed(projectId);
  const names = new Map(projects?.map((project) => [project.id, project.name]));
  return (
    <Panel title="Activity" label="Activity">
      {feed.isError && <Problem>Could not load the activity: {errorText(feed.error)}</Problem>}
      {feed.data?.length === 0 && <p className="text-sm text-slate-500">Nothing has happened yet.</p>}
      <ol aria-label="Events, newest first" className="max-h-[32rem] space-y-1.5 overflow-y-auto pr-1 text-sm">
        {feed.data?.map((event) => {
          const line = describeEvent(event);
          const project = event.project_id === null ? undefined : names.get(event.project_id);
          return (
            <li key={event.id} className="flex min-w-0 gap-2">
              <span aria-hidden="true" className={`mt-1.5 size-2 shrink-0 rounded-full ${marks[line.tone]}`} />
              <span className="min-w-0 flex-1 break-words">
                <time dateTime={event.ts} className="font-mono text-xs text-slate-500">
                  {clockTime(event.ts)}
                </time>{" "}
                {projectId === null && project && <span className="font-medium">{project}: </span>}
                {line.text}
              </span>
            </li>
          );
        })}
      </ol>
    </Panel>
  );
}
