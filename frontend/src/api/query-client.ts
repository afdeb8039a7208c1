// The one QueryClient. Live events keep cached data current, so nothing polls; a refetch on
// focus is the safety net for anything a sleeping laptop missed.
import { QueryClient } from "@tanstack/react-query";
import { ApiError } from "./client";

function retry(failures: number, error: unknown): boolean {
  // A 4xx will not get better by asking again; a server that is restarting may.
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failures < 2;
}

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 30_000, retry, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
}
