// The one configured API client: the access token on every request, errors as `ApiError`
// (with the API's field problems kept for inline display), a 401 that signs out, and an
// idempotency key on every POST that creates something.
import type {
  AgentInteractionPage,
  AgentInteractionQuery,
  AgentRun,
  AgentRunCreate,
  AgentRunPage,
  AgentRunQuery,
  ErrorBody,
  Event,
  EventQuery,
  FieldProblem,
  PlanResponse,
  Project,
  ProjectCreate,
  ProjectPage,
  ProjectSecret,
  ProjectSecretCreate,
  ProjectSecretPage,
  ProjectStats,
  ProjectUpdate,
  StepName,
  Validation,
  ValidationPage,
  ValidationQuery,
} from "./types";

export class ApiError extends Error {
  /** `status` 0: the server could not be reached. `message`: the API's `detail`, one line for
   * a person. `problems`: its `errors`, the fields at fault (a 422 lists each one). */
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
type Options = {
  query?: Query;
  body?: unknown;
  text?: boolean;
  /** Read the answer as bytes (a screenshot, a file to save), whatever its type. */
  blob?: boolean;
  token?: string;
  first?: boolean;
  /** A POST that creates something: it carries an `Idempotency-Key` (see `keyFor`). */
  idempotent?: boolean;
};

function url(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const search = params.toString();
  return `/api/v1${path}${search ? `?${search}` : ""}`;
}

function isFieldProblem(value: unknown): value is FieldProblem {
  if (typeof value !== "object" || value === null) return false;
  const { loc, msg } = value as Partial<FieldProblem>;
  return Array.isArray(loc) && typeof msg === "string";
}

/** Every error answer is an `ErrorBody`; a proxy's page or an empty body is not, and then the
 * status says enough. */
async function failure(response: Response): Promise<ApiError> {
  const fallback = response.statusText || `The server answered ${response.status}.`;
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: the fallback it is.
  }
  const { detail, errors } = (typeof body === "object" && body !== null ? body : {}) as Partial<ErrorBody>;
  const problems = Array.isArray(errors) ? errors.filter(isFieldProblem) : [];
  return new ApiError(response.status, typeof detail === "string" && detail ? detail : fallback, problems);
}

/** A fresh idempotency key. `crypto.randomUUID` exists only in secure contexts (https,
 * localhost), so a dashboard opened over plain http elsewhere makes one from `getRandomValues`. */
export function newIdempotencyKey(): string {
  const random = globalThis.crypto;
  if (typeof random.randomUUID === "function") return random.randomUUID();
  const bytes = random.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40; // version 4
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // the RFC 9562 variant
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** For each creating route, the last body sent whose outcome is not known yet (in flight, no
 * answer, or a 5xx) and its key. Sending that body again (a second click, a retry after the
 * network failed) reuses the key, so the server makes one thing, and answers it to both; an
 * answer (2xx or 4xx) settles it, and the next request is a new one. The server refuses a key
 * that comes with another body, so another body gets another key. */
const unsettled = new Map<string, { body: string; key: string }>();

function keyFor(route: string, body: string): string {
  const held = unsettled.get(route);
  if (held?.body === body) return held.key;
  const key = newIdempotencyKey();
  unsettled.set(route, { body, key });
  return key;
}

function settle(route: string, key: string): void {
  if (unsettled.get(route)?.key === key) unsettled.delete(route);
}

async function call<T>(method: string, path: string, options: Options = {}): Promise<T> {
  if (method === "GET" && !options.first) await config.readsWaitFor.catch(() => undefined);
  const token = options.token ?? config.token;
  const accept = options.blob ? "*/*" : options.text ? "text/plain" : "application/json";
  const headers: Record<string, string> = { Accept: accept };
  if (token) headers.Authorization = `Bearer ${token}`;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const route = `${method} ${path}`;
  const key = options.idempotent ? keyFor(route, body ?? "") : undefined;
  if (key !== undefined) headers["Idempotency-Key"] = key;
  let response: Response;
  try {
    response = await fetch(url(path, options.query), { method, headers, body });
  } catch {
    throw new ApiError(0, "The server could not be reached.");
  }
  if (key !== undefined && response.status < 500) settle(route, key);
  if (!response.ok) {
    const error = await failure(response);
    // A token given explicitly is being tried out (signing in): its caller reports the 401.
    if (response.status === 401 && options.token === undefined) config.onUnauthorized(error.message);
    throw error;
  }
  if (response.status === 204) return undefined as T;
  if (options.blob) return (await response.blob()) as T;
  return (options.text ? await response.text() : await response.json()) as T;
}

export const api = {
  projects: {
    list: () => call<ProjectPage>("GET", "/projects", { query: { limit: 200 } }),
    get: (id: number) => call<Project>("GET", `/projects/${id}`),
    stats: (id: number) => call<ProjectStats>("GET", `/projects/${id}/stats`),
    create: (body: ProjectCreate) => call<Project>("POST", "/projects", { body, idempotent: true }),
    update: (id: number, body: ProjectUpdate) => call<Project>("PUT", `/projects/${id}`, { body }),
    /** Names and times only: the API never returns a value, and nothing here keeps one. */
    secrets: {
      list: (projectId: number) => call<ProjectSecretPage>("GET", `/projects/${projectId}/secrets`),
      /** Creates the secret, or replaces the value of the one with that name. */
      set: (projectId: number, body: ProjectSecretCreate) =>
        call<ProjectSecret>("POST", `/projects/${projectId}/secrets`, { body }),
      delete: (projectId: number, name: string) =>
        call<void>("DELETE", `/projects/${projectId}/secrets/${encodeURIComponent(name)}`),
    },
  },
  agentRuns: {
    list: (query: AgentRunQuery) => call<AgentRunPage>("GET", "/agent-runs", { query }),
    get: (id: number) => call<AgentRun>("GET", `/agent-runs/${id}`),
    start: (body: AgentRunCreate) => call<AgentRun>("POST", "/agent-runs", { body, idempotent: true }),
    answerPlan: (id: number, body: PlanResponse) =>
      call<AgentRun>("POST", `/agent-runs/${id}/plan-response`, { body }),
    continue: (id: number, message: string) =>
      call<AgentRun>("POST", `/agent-runs/${id}/continue`, { body: { message } }),
    cancel: (id: number) => call<AgentRun>("POST", `/agent-runs/${id}/cancel`),
    /** Lets a held change (`waiting_approval`) go on to validation; 409 if it no longer waits. */
    approveChange: (id: number) => call<AgentRun>("POST", `/agent-runs/${id}/approve-change`),
    /** The run's turns, oldest first: each prompt sent to its agent and the answer. */
    interactions: (id: number, query: AgentInteractionQuery) =>
      call<AgentInteractionPage>("GET", `/agent-runs/${id}/interactions`, { query }),
  },
  validations: {
    list: (query: ValidationQuery) => call<ValidationPage>("GET", "/validations", { query }),
    get: (id: number) => call<Validation>("GET", `/validations/${id}`),
    retry: (id: number) => call<Validation>("POST", `/validations/${id}/retry`),
    merge: (id: number) => call<Validation>("POST", `/validations/${id}/merge`),
    log: (id: number, step: StepName) =>
      call<string>("GET", `/validations/${id}/steps/${step}/log`, { text: true }),
    /** One of the validation's `artifacts`, by name: fetched with the token, so an <img src> or
     * a plain link cannot load it; the caller shows it through `URL.createObjectURL`. */
    artifact: (id: number, name: string) =>
      call<Blob>("GET", `/validations/${id}/artifacts/${encodeURIComponent(name)}`, { blob: true }),
    /** The findings artifact, parsed: its shape is the evaluator's, so it arrives `unknown`. */
    artifactJson: (id: number, name: string) =>
      call<unknown>("GET", `/validations/${id}/artifacts/${encodeURIComponent(name)}`),
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
