// A project's stats (its card, charts and base-branch line) as events change them: the baseline
// shown is patched, a newer one is read again, and so are the counts a finished run or
// validation changes.
import type { QueryClient } from "@tanstack/react-query";
import { queryKeys } from "../api/query-keys";
import type { BaselineSummary, Event, ProjectStats } from "../api/types";
import { isValidationStatus } from "../states/state-words";
import { numberIn } from "./event-data";

/** A baseline's event changes its project's base-branch line (the newest baseline, in the
 * stats): patched when it is the baseline shown, read again when it is a newer one. Events of
 * pull requests' validations pass through. */
export function patchBaseline(
  client: QueryClient,
  event: Event,
  change: (baseline: BaselineSummary) => BaselineSummary,
): void {
  const id = numberIn(event.data, "validation_id");
  if (event.data.kind !== "baseline" || event.project_id === null || id === null) return;
  const key = queryKeys.projects.stats(event.project_id);
  const shown = client.getQueryData<ProjectStats>(key)?.baseline;
  if (shown === undefined) return; // nobody is looking at this project's stats
  if (shown === null || shown.id < id) {
    void client.invalidateQueries({ queryKey: key });
    return;
  }
  if (shown.id !== id) return; // an older baseline's late news
  const status = event.data.status;
  client.setQueryData<ProjectStats>(key, (stats) => {
    if (stats?.baseline?.id !== id) return stats;
    const next = change(stats.baseline);
    return { ...stats, baseline: isValidationStatus(status) ? { ...next, status } : next };
  });
}

export function invalidateStats(client: QueryClient, event: Event): void {
  if (event.project_id !== null) {
    void client.invalidateQueries({ queryKey: queryKeys.projects.stats(event.project_id) });
  }
}
