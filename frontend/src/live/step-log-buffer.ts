// A step's log is loaded stored, then grows with live `validation_log` chunks. Chunks that
// arrive while the stored log is being read may or may not be in it already (the server
// stores a chunk, then streams it): they are held, and only the ones missing are added.
import type { QueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";
import type { StepName } from "../api/types";

const arriving = new Map<string, string[]>();
const name = (validationId: number, step: string) => `${validationId}:${step}`;

/** The query function of a step's log. */
export async function loadStepLog(validationId: number, step: StepName): Promise<string> {
  const held: string[] = [];
  arriving.set(name(validationId, step), held);
  try {
    const stored = await api.validations.log(validationId, step);
    return joinLive(stored, held);
  } finally {
    // A newer read of the same log may have begun meanwhile: its chunks are its own.
    if (arriving.get(name(validationId, step)) === held) arriving.delete(name(validationId, step));
  }
}

/** Live text for a step's log; kept only where someone is reading that log. */
export function appendLiveLog(client: QueryClient, validationId: number, step: string, text: string): void {
  const held = arriving.get(name(validationId, step));
  if (held) {
    held.push(text);
    return;
  }
  client.setQueryData<string>(queryKeys.validations.log(validationId, step), (log) =>
    log === undefined ? undefined : log + text,
  );
}

/** The stored log, plus those chunks it does not end with already. */
export function joinLive(stored: string, chunks: string[]): string {
  for (let count = chunks.length; count > 0; count--) {
    if (stored.endsWith(chunks.slice(0, count).join(""))) {
      return stored + chunks.slice(count).join("");
    }
  }
  return stored + chunks.join("");
}
