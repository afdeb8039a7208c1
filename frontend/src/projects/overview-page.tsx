// Every project as a card, and everything that happens anywhere.
import { Plus } from "lucide-react";
import { ActivityFeed } from "../activity/activity-feed";
import { Problem, errorText } from "../controls/problem";
import { Link } from "../routing/link";
import { paths } from "../routing/routes";
import { ProjectCards } from "./project-cards";
import { useProjects } from "./queries";

export function OverviewPage() {
  const projects = useProjects();
  const items = projects.data?.items;
  return (
    <div className="grid gap-6 lg:grid-cols-3">
      <div className="min-w-0 space-y-4 lg:col-span-2">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <h1 className="text-xl font-semibold">Projects</h1>
          <Link
            to={paths.newProject()}
            className="inline-flex min-h-9 items-center gap-1.5 rounded-md bg-blue-700 px-3 text-sm font-medium text-white hover:bg-blue-800"
          >
            <Plus aria-hidden="true" className="size-4" />
            New project
          </Link>
        </div>
        {projects.isError && <Problem>Could not load the projects: {errorText(projects.error)}</Problem>}
        {items?.length === 0 && (
          <p className="rounded-lg border border-dashed border-slate-300 bg-white p-6 text-sm text-slate-600">
            No projects yet. Create one to give its agent a goal.
          </p>
        )}
        {items && items.length > 0 && <ProjectCards projects={items} />}
      </div>
      <ActivityFeed projectId={null} projects={items} />
    </div>
  );
}
