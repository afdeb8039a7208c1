// The project dropdown: every project, or all of them at once.
import { useProjects } from "../projects/queries";
import { navigate, paths } from "../routing/routes";

export function ProjectPicker({ projectId }: { projectId: number | null }) {
  const projects = useProjects().data?.items ?? [];
  return (
    <div className="flex min-w-0 items-center gap-2">
      <label htmlFor="project-picker" className="text-sm font-medium text-slate-200">
        Project
      </label>
      <select
        id="project-picker"
        value={projectId ?? ""}
        onChange={(event) => navigate(event.target.value ? paths.project(Number(event.target.value)) : paths.overview())}
        className="min-w-0 max-w-[14rem] rounded-md border border-slate-500 bg-slate-800 px-2 py-1.5 text-sm text-white focus-visible:outline-2 focus-visible:outline-blue-400"
      >
        <option value="">All projects</option>
        {projects.map((project) => (
          <option key={project.id} value={project.id}>
            {project.name}
          </option>
        ))}
        {projectId !== null && !projects.some((project) => project.id === projectId) && (
          <option value={projectId}>Project {projectId}</option>
        )}
      </select>
    </div>
  );
}
