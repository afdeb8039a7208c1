// A stand-in for the server in component tests: answers fetch() by method and path, like the
// real API (JSON bodies, every error an `ErrorBody`), and records what was asked.
import { vi } from "vitest";
import { errorBody } from "./samples";

/** `unreachable`: the request is recorded, and fetch() fails as when the network is down. */
type Answer = { status?: number; body?: unknown; text?: string; unreachable?: boolean };
type Route = Answer | ((request: { url: URL; body: unknown }) => Answer);

export type FakeApi = {
  calls: Array<{
    method: string;
    path: string;
    query: URLSearchParams;
    body: unknown;
    auth: string | null;
    headers: Headers;
  }>;
  on: (route: string, answer: Route) => void;
};

export function fakeApi(routes: Record<string, Route> = {}): FakeApi {
  const table = new Map(Object.entries(routes));
  const api: FakeApi = {
    calls: [],
    on: (route, answer) => void table.set(route, answer),
  };
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string, init: RequestInit = {}) => {
      const url = new URL(input, "http://dashboard.test");
      const method = init.method ?? "GET";
      const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
      const headers = new Headers(init.headers);
      api.calls.push({
        method,
        path: url.pathname,
        query: url.searchParams,
        body,
        auth: headers.get("Authorization"),
        headers,
      });
      const route = table.get(`${method} ${url.pathname}`);
      if (route === undefined) {
        return new Response(JSON.stringify(errorBody("Not Found")), {
          status: 404,
          headers: { "Content-Type": "application/json" },
        });
      }
      const answer = typeof route === "function" ? route({ url, body }) : route;
      if (answer.unreachable) throw new TypeError("Failed to fetch");
      if (answer.status === 204) return new Response(null, { status: 204 });
      if (answer.text !== undefined) return new Response(answer.text, { status: answer.status ?? 200 });
      return new Response(JSON.stringify(answer.body ?? null), {
        status: answer.status ?? 200,
        headers: { "Content-Type": "application/json" },
      });
    }),
  );
  return api;
}
