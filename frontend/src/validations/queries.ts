// Reads of validations and of their steps' logs.
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";
import type { StepName, Validation } from "../api/types";
import { loadStepLog } from "../live/step-log-buffer";

export function useRunValidations(agentRunId: number) {
  return useQuery({
    queryKey: queryKeys.validations.ofRun(agentRunId),
    queryFn: () => api.validations.list({ agent_run_id: agentRunId, limit: 200 }),
  });
}

export function useValidation(id: number, listed: Validation | undefined) {
  return useQuery({
    queryKey: queryKeys.validations.detail(id),
    queryFn: () => api.validations.get(id),
    initialData: listed,
    // What the list showed is a start; the detail is read once to be sure.
    initialDataUpdatedAt: 0,
  });
}

export function useStepLog(id: number, step: StepName, enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.validations.log(id, step),
    queryFn: () => loadStepLog(id, step),
    enabled,
    // Live lines keep it current; it is read stored again on reconnect.
    staleTime: Number.POSITIVE_INFINITY,
  });
}
