// A goal for the project's agent; the new run opens as soon as it starts.
import { Play } from "lucide-react";
import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { Button } from "../controls/button";
import { TextArea } from "../controls/field";
import { Problem } from "../controls/problem";
import { readable } from "../projects/field-errors";
import { navigate, paths } from "../routing/routes";
import { useStartRun } from "./run-actions";

export function StartRunForm({ projectId }: { projectId: number }) {
  const [goal, setGoal] = useState("");
  const start = useStartRun();
  const error = start.error;
  const goalError =
    error instanceof ApiError ? error.problems.find((p) => p.loc.at(-1) === "goal")?.msg : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    start.mutate(
      { project_id: projectId, goal },
      {
        onSuccess: (run) => {
          setGoal("");
          navigate(paths.run(projectId, run.id));
        },
      },
    );
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Start a run" className="space-y-2">
      <TextArea
        label="Goal"
        rows={3}
        placeholder="What should the agent do? For example: Add a /health endpoint"
        value={goal}
        onChange={(event) => setGoal(event.target.value)}
        error={goalError ? readable(goalError) : undefined}
      />
      {error && !goalError && <Problem>{error.message}</Problem>}
      <Button look="primary" type="submit" disabled={start.isPending}>
        <Play aria-hidden="true" className="size-4" />
        Start run
      </Button>
    </form>
  );
}
