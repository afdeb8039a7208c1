// Renders a component as the dashboard does: a fresh query cache and a signed-in session.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement } from "react";
import { SessionProvider } from "../auth/session";

export const TOKEN = "test-token";

export function makeTestClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Number.POSITIVE_INFINITY } } });
}

export function renderWithCache(
  ui: ReactElement,
  { client = makeTestClient(), signedIn = true }: { client?: QueryClient; signedIn?: boolean } = {},
): RenderResult & { client: QueryClient } {
  if (signedIn) window.localStorage.setItem("codegenapp.token", TOKEN);
  const result = render(
    <QueryClientProvider client={client}>
      <SessionProvider>{ui}</SessionProvider>
    </QueryClientProvider>,
  );
  return { ...result, client };
}
