// A stand-in for the server in component tests: answers fetch() by method and path, like the
// real API (JSON bodies, FastAPI's error shapes), and records what was asked.
import { vi } from "vitest";

type Answer = { status?: number; body?: unknown; text?: string };
type Route = Answer | ((request: { url: URL; body: unknown }) => Answer);

export type FakeApi = {
  calls: Array<{ method: string; path: string; query: URLSearchParams; body: unknown; auth: string | null }>;
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
      api.calls.push({ method, path: url.pathname, query: url.searchParams, body, auth: headers.get("Authorization") });
      const route = table.get(`${method} ${url.pathname}`);
      if (route === undefined) {
        return new Response(JSON.stringify({ detail: "Not Found" }), { status: 404 });
      }
      const answer = typeof route === "function" ? route({ url, body }) : route;
      if (answer.text !== undefined) return new Response(answer.text, { status: answer.status ?? 200 });
      return new Response(JSON.stringify(answer.body ?? null), {
        status: answer.status ?? 200,
        headers: { "Content-Type": "application/json" },
      });
    }),
  );
  return api;
}
