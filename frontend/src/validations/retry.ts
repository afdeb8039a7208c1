// Retrying a validation, and what the new one makes stale. A pull request's retry is its next
// attempt; a baseline's validates the base branch again as it is now, and becomes the project's
// base-branch line at once.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";
import type { BaselineSummary, ProjectStats, Validation } from "../api/types";

type Retried = Pick<Validation, "id" | "project_id" | "agent_run_id">;

/** POSTs the retry; its error (a 409 while one is under way, a 422) is the mutation's, for the
 * control that asked to show inline. */
export function useRetryValidation(validation: Retried) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.validations.retry(validation.id),
    onSuccess: (created) => {
      if (created.kind === "baseline") {
        client.setQueryData<ProjectStats>(queryKeys.projects.stats(created.project_id), (stats) =>
          stats && { ...stats, baseline: baselineOf(created) },
        );
        void client.invalidateQueries({ queryKey: queryKeys.validations.lists() });
      } else {
        void client.invalidateQueries({ queryKey: queryKeys.validations.ofProject(created.project_id) });
      }
      if (validation.agent_run_id !== null) {
        void client.invalidateQueries({ queryKey: queryKeys.validations.ofRun(validation.agent_run_id) });
      }
    },
  });
}

/** A baseline as a project's stats name it. */
export function baselineOf(validation: Validation): BaselineSummary {
  return {
    id: validation.id,
    branch: validation.base_branch,
    sha: validation.head_sha,
    status: validation.status,
    failed_step: validation.failed_step,
    failed_check: validation.failed_check,
    reason: validation.reason,
    finished_at: validation.finished_at,
  };
}
