// Reads of agent runs and of the events that tell a run's story.
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";

export const RUNS_LISTED = 30;

export function useRuns(projectId: number) {
  return useQuery({
    queryKey: queryKeys.agentRuns.list(projectId),
    queryFn: () => api.agentRuns.list({ project_id: projectId, limit: RUNS_LISTED }),
  });
}

export function useRun(id: number) {
  return useQuery({ queryKey: queryKeys.agentRuns.detail(id), queryFn: () => api.agentRuns.get(id) });
}

export function useRunEvents(id: number) {
  return useQuery({
    queryKey: queryKeys.events.ofRun(id),
    queryFn: () => api.events.list({ agent_run_id: id, limit: 1000 }),
  });
}
