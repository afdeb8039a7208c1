// Merging a passed validation's pull request on a person's request (after a refused merge,
// say): the validation comes back merged, and its run completes.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";
import type { Validation } from "../api/types";

/** POSTs the merge; its error (a 409 naming why it was not merged) is the mutation's, for the
 * control that asked to show inline. */
export function useMergeValidation(validation: Pick<Validation, "id" | "agent_run_id">) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.validations.merge(validation.id),
    onSuccess: (merged) => {
      client.setQueryData(queryKeys.validations.detail(merged.id), merged);
      void client.invalidateQueries({ queryKey: queryKeys.validations.ofProject(merged.project_id) });
      if (validation.agent_run_id !== null) {
        void client.invalidateQueries({ queryKey: queryKeys.validations.ofRun(validation.agent_run_id) });
        void client.invalidateQueries({ queryKey: queryKeys.agentRuns.detail(validation.agent_run_id) });
      }
    },
  });
}
