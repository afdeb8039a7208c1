// The one configured API client: the access token on every request, errors as `ApiError`
// (with the API's field problems kept for inline display), and a 401 that signs out.
import type {
  AgentRun,
  AgentRunCreate,
  AgentRunPage,
  AgentRunQuery,
  Event,
  EventQuery,
  FieldProblem,
  PlanResponse,
  Project,
  ProjectCreate,
  ProjectPage,
  ProjectStats,
  ProjectUpdate,
  StepName,
  Validation,
  ValidationPage,
  ValidationQuery,
} from "./types";

export class ApiError extends Error {
  /** `status` 0: the server could not be reached. `problems`: a 422's field-by-field list. */
  constructor(
    readonly status: number,
    message: string,
    readonly problems: FieldProblem[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Config = {
  token: string | null;
  onUnauthorized: (message: string) => void;
  /** Reads wait for this: the live stream's starting point (see live/use-events). */
  readsWaitFor: Promise<unknown>;
};
const config: Config = { token: null, onUnauthorized: () => undefined, readsWaitFor: Promise.resolve() };

export function configureClient(next: Partial<Config>): void {
  Object.assign(config, next);
}

type Query = Record<string, string | number | boolean | null | undefined>;
type Options = { query?: Query; body?: unknown; text?: boolean; token?: string; first?: boolean };

function url(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const search = params.toString();
  return `/api/v1${path}${search ? `?${search}` : ""}`;
}

async function failure(response: Response): Promise<ApiError> {
  let detail: unknown = response.statusText;
  try {
    detail = ((await response.json()) as { detail?: unknown }).detail ?? detail;
  } catch {
    // Not JSON (a proxy's error page): the status text says enough.
  }
  if (Array.isArray(detail)) {
    const problems = detail as FieldProblem[];
    return new ApiError(response.status, problems.map((p) => p.msg).join("; "), problems);
  }
  return new ApiError(response.status, typeof detail === "string" ? detail : response.statusText);
}

async function call<T>(method: string, path: string, options: Options = {}): Promise<T> {
  if (method === "GET" && !options.first) await config.readsWaitFor.catch(() => undefined);
  const token = options.token ?? config.token;
  const headers: Record<string, string> = { Accept: options.text ? "text/plain" : "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(url(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, "The server could not be reached.");
  }
  if (!response.ok) {
    const error = await failure(response);
    // A token given explicitly is being tried out (signing in): its caller reports the 401.
    if (response.status === 401 && options.token === undefined) config.onUnauthorized(error.message);
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (options.text ? await response.text() : await response.json()) as T;
}

export const api = {
  projects: {
    list: () => call<ProjectPage>("GET", "/projects", { query: { limit: 200 } }),
    get: (id: number) => call<Project>("GET", `/projects/${id}`),
    stats: (id: number) => call<ProjectStats>("GET", `/projects/${id}/stats`),
    create: (body: ProjectCreate) => call<Project>("POST", "/projects", { body }),
    update: (id: number, body: ProjectUpdate) => call<Project>("PUT", `/projects/${id}`, { body }),
  },
  agentRuns: {
    list: (query: AgentRunQuery) => call<AgentRunPage>("GET", "/agent-runs", { query }),
    get: (id: number) => call<AgentRun>("GET", `/agent-runs/${id}`),
    start: (body: AgentRunCreate) => call<AgentRun>("POST", "/agent-runs", { body }),
    answerPlan: (id: number, body: PlanResponse) =>
      call<AgentRun>("POST", `/agent-runs/${id}/plan-response`, { body }),
    continue: (id: number, message: string) =>
      call<AgentRun>("POST", `/agent-runs/${id}/continue`, { body: { message } }),
    cancel: (id: number) => call<AgentRun>("POST", `/agent-runs/${id}/cancel`),
  },
  validations: {
    list: (query: ValidationQuery) => call<ValidationPage>("GET", "/validations", { query }),
    get: (id: number) => call<Validation>("GET", `/validations/${id}`),
    retry: (id: number) => call<Validation>("POST", `/validations/${id}/retry`),
    log: (id: number, step: StepName) =>
      call<string>("GET", `/validations/${id}/steps/${step}/log`, { text: true }),
  },
  events: {
    list: (query: EventQuery) => call<Event[]>("GET", "/events", { query }),
    /** The id of the newest event (0 when there is none); `token` to try one out. It is read
     * before anything else, so it never waits for other reads. */
    latestId: async (token?: string): Promise<number> => {
      const options: Options = { query: { order: "newest_first", limit: 1 }, first: true };
      if (token !== undefined) options.token = token;
      const newest = await call<Event[]>("GET", "/events", options);
      return newest[0]?.id ?? 0;
    },
  },
};
