// Reads of validations and of their steps' logs.
import { useQueries, useQuery } from "@tanstack/react-query";
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

/** How many pull-request validations a page of a project's list holds. */
export const PULL_REQUESTS_PAGE = 20;

/** A project's pull-request validations, newest first: the first `pages` pages, read as separate
 * queries so that live patches of a listed validation reach each page as they reach any list.
 * A validation moved across a page boundary by a newer one is listed once. */
export function useProjectPullRequests(projectId: number, pages: number) {
  return useQueries({
    queries: Array.from({ length: pages }, (_, page) => {
      const offset = page * PULL_REQUESTS_PAGE;
      return {
        queryKey: queryKeys.validations.pullRequestPage(projectId, offset),
        queryFn: () =>
          api.validations.list({ project_id: projectId, kind: "pull_request", limit: PULL_REQUESTS_PAGE, offset }),
      };
    }),
    combine: (results) => {
      const seen = new Set<number>();
      const items: Validation[] = [];
      for (const result of results) {
        for (const validation of result.data?.items ?? []) {
          if (!seen.has(validation.id)) items.push(validation);
          seen.add(validation.id);
        }
      }
      return {
        items,
        total: results[0]?.data?.total ?? null,
        isPending: results.some((result) => result.isPending),
        error: results.find((result) => result.error)?.error ?? null,
      };
    },
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
