// What a person can do to a run; each answer from the API replaces the cached run at once.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";
import type { AgentRun, PlanResponse } from "../api/types";

function useRunMutation<Input>(run: (input: Input) => Promise<AgentRun>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: (updated) => {
      client.setQueryData(queryKeys.agentRuns.detail(updated.id), updated);
      void client.invalidateQueries({ queryKey: queryKeys.agentRuns.list(updated.project_id) });
    },
  });
}

export const useStartRun = () => useRunMutation((body: { project_id: number; goal: string }) => api.agentRuns.start(body));
export const useAnswerPlan = (id: number) => useRunMutation((body: PlanResponse) => api.agentRuns.answerPlan(id, body));
export const useContinueRun = (id: number) => useRunMutation((message: string) => api.agentRuns.continue(id, message));
export const useApproveChange = (id: number) => useRunMutation((_: void) => api.agentRuns.approveChange(id));
export const useCancelRun = (id: number) => useRunMutation((_: void) => api.agentRuns.cancel(id));
