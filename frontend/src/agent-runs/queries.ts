// Reads of agent runs, of the events that tell a run's story, and of its turns with its agent.
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";

export const RUNS_LISTED = 30;
/** Turns of a run's conversation read at a time; "Load more" reads the next as many. */
export const TURNS_PER_PAGE = 50;

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

/** The run's turns, oldest first, a page at a time: a new turn is the last page's, and a page
 * read again (a live event of the run) keeps its place. */
export function useInteractions(id: number) {
  return useInfiniteQuery({
    queryKey: queryKeys.agentRuns.interactions(id),
    queryFn: ({ pageParam }) => api.agentRuns.interactions(id, { limit: TURNS_PER_PAGE, offset: pageParam }),
    initialPageParam: 0,
    getNextPageParam: (last, pages) => {
      const loaded = pages.reduce((count, page) => count + page.items.length, 0);
      // An empty page ends it too, whatever the total says: never ask for one offset forever.
      return last.items.length > 0 && loaded < last.total ? loaded : undefined;
    },
  });
}
