// The pages around the project form: a new project, or an existing one's settings.
import { Problem, errorText } from "../controls/problem";
import { ProjectForm } from "./project-form";
import { useProject } from "./queries";

export function NewProjectPage() {
  return (
    <div className="mx-auto max-w-3xl space-y-4">
      <h1 className="text-xl font-semibold">New project</h1>
      <ProjectForm />
    </div>
  );
}

export function EditProjectPage({ projectId }: { projectId: number }) {
  const project = useProject(projectId);
  return (
    <div className="mx-auto max-w-3xl space-y-4">
      <h1 className="text-xl font-semibold">Settings of {project.data?.name ?? `project ${projectId}`}</h1>
      {project.isError && <Problem>Could not load the project: {errorText(project.error)}</Problem>}
      {project.data && <ProjectForm key={project.data.id} project={project.data} />}
    </div>
  );
}
