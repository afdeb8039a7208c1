// The activity feed's read: the newest events, newest first.
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";
import { FEED_LENGTH } from "../live/apply-event";

export function useFeed(projectId: number | null) {
  return useQuery({
    queryKey: queryKeys.events.feed(projectId),
    queryFn: () =>
      api.events.list({ order: "newest_first", limit: FEED_LENGTH, project_id: projectId }),
  });
}
