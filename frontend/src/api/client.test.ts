import { fakeApi } from "../testing/fake-api";
import { errorBody, fieldError, invalid, project, run, secret } from "../testing/samples";
import { ApiError, api, configureClient, newIdempotencyKey } from "./client";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("the API client", () => {
  it("sends the token and reports a 401 so the dashboard signs out", async () => {
    const server = fakeApi({
      "GET /api/v1/projects": { status: 401, body: errorBody("a valid access token is required") },
    });
    const refused: string[] = [];
    configureClient({ token: "t0k", onUnauthorized: (message) => refused.push(message) });
    await expect(api.projects.list()).rejects.toMatchObject({ status: 401 });
    expect(server.calls[0]?.auth).toBe("Bearer t0k");
    expect(refused).toEqual(["a valid access token is required"]);
  });

  it("reads every error as the API's one line, with the fields at fault", async () => {
    fakeApi({
      "POST /api/v1/agent-runs": {
        status: 422,
        body: errorBody("1 value is not valid", [fieldError(["body", "goal"], "must not be empty")]),
      },
      "POST /api/v1/agent-runs/4/cancel": { status: 409, body: errorBody("agent run 4 is already completed") },
    });
    const refusal = await api.agentRuns.start({ project_id: 1, goal: "" }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal).toMatchObject({ status: 422, message: "1 value is not valid" });
    expect((refusal as ApiError).problems).toEqual([
      { loc: ["body", "goal"], msg: "must not be empty", type: "value_error" },
    ]);
    const conflict = await api.agentRuns.cancel(4).catch((error: unknown) => error);
    expect(conflict).toMatchObject({ status: 409, message: "agent run 4 is already completed", problems: [] });
  });

  it("falls back on the status when an error is not the API's", async () => {
    const answer = (body: string, init: ResponseInit) => vi.fn().mockResolvedValue(new Response(body, init));
    vi.stubGlobal("fetch", answer("<h1>Bad gateway</h1>", { status: 502, statusText: "Bad Gateway" }));
    await expect(api.projects.list()).rejects.toMatchObject({ status: 502, message: "Bad Gateway", problems: [] });
    vi.stubGlobal("fetch", answer(JSON.stringify({ errors: [{ nonsense: true }] }), { status: 500 }));
    await expect(api.projects.list()).rejects.toMatchObject({
      status: 500,
      message: "The server answered 500.",
      problems: [],
    });
  });

  it("says so when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(api.projects.list()).rejects.toMatchObject({ status: 0, message: "The server could not be reached." });
  });
});

describe("idempotency keys", () => {
  const keyOf = (server: ReturnType<typeof fakeApi>, index: number) =>
    server.calls[index]?.headers.get("Idempotency-Key");

  it("come with every project created and every run started, and nowhere else", async () => {
    const server = fakeApi({
      "POST /api/v1/projects": { status: 201, body: project() },
      "POST /api/v1/agent-runs": { status: 201, body: run() },
      "PUT /api/v1/projects/1": { body: project() },
      "POST /api/v1/agent-runs/7/cancel": { body: run() },
    });
    const { id: _id, created_at: _c, updated_at: _u, ...body } = project();
    await api.projects.create(body);
    await api.agentRuns.start({ project_id: 1, goal: "Add a /health endpoint" });
    await api.projects.update(1, body);
    await api.agentRuns.cancel(7);
    expect(keyOf(server, 0)).toMatch(UUID);
    expect(keyOf(server, 1)).toMatch(UUID);
    expect(keyOf(server, 0)).not.toBe(keyOf(server, 1));
    expect(keyOf(server, 2)).toBeNull();
    expect(keyOf(server, 3)).toBeNull();
  });

  it("are the same for a request sent again before an answer came, and new after one", async () => {
    const answers: Array<{ status?: number; body?: unknown; unreachable?: boolean }> = [{ unreachable: true }];
    const server = fakeApi({ "POST /api/v1/agent-runs": () => answers.shift() ?? { status: 201, body: run() } });
    const goal = { project_id: 1, goal: "Add a /health endpoint" };
    await expect(api.agentRuns.start(goal)).rejects.toMatchObject({ status: 0 });
    // The retry, and a second click at the same time: one key, so the server starts one run.
    await Promise.all([api.agentRuns.start(goal), api.agentRuns.start(goal)]);
    // Answered: the same goal again is a new run; another goal always was.
    await api.agentRuns.start(goal);
    await api.agentRuns.start({ ...goal, goal: "Something else" });
    const keys = [0, 1, 2, 3, 4].map((index) => keyOf(server, index));
    expect(keys[0]).toMatch(UUID);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).toBe(keys[0]);
    expect(new Set(keys).size).toBe(3);
  });

  it("keep the key after a 5xx, whose outcome is unknown, and drop it after a 4xx", async () => {
    const answers = [
      { status: 503, body: errorBody("the server is restarting") },
      { status: 201, body: project() },
      { status: 422, body: invalid(fieldError(["body", "name"], "must not be empty")) },
    ];
    const server = fakeApi({ "POST /api/v1/projects": () => answers.shift() ?? { status: 201, body: project() } });
    const { id: _id, created_at: _c, updated_at: _u, ...body } = project({ name: "kept-key" });
    await expect(api.projects.create(body)).rejects.toMatchObject({ status: 503 });
    await api.projects.create(body);
    await expect(api.projects.create(body)).rejects.toMatchObject({ status: 422 });
    await api.projects.create(body);
    expect(keyOf(server, 1)).toBe(keyOf(server, 0));
    expect(keyOf(server, 2)).not.toBe(keyOf(server, 1));
    expect(keyOf(server, 3)).not.toBe(keyOf(server, 2));
  });

  it("are made without crypto.randomUUID, which only secure contexts have", () => {
    const real = globalThis.crypto;
    vi.stubGlobal("crypto", { getRandomValues: real.getRandomValues.bind(real) });
    try {
      const keys = new Set(Array.from({ length: 50 }, () => newIdempotencyKey()));
      expect(keys.size).toBe(50);
      for (const key of keys) expect(key).toMatch(UUID);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(globalThis.crypto).toBe(real);
  });
});

describe("project secrets", () => {
  it("lists names, sets one and deletes one, a name with any character safely in the path", async () => {
    const server = fakeApi({
      "GET /api/v1/projects/1/secrets": { body: { items: [secret("API_TOKEN")], total: 1 } },
      "POST /api/v1/projects/1/secrets": { status: 201, body: secret("API_TOKEN") },
      "DELETE /api/v1/projects/1/secrets/A%2FB": { status: 204 },
    });
    expect((await api.projects.secrets.list(1)).items.map((s) => s.name)).toEqual(["API_TOKEN"]);
    expect(await api.projects.secrets.set(1, { name: "API_TOKEN", value: "s3cret-value" })).toEqual(secret("API_TOKEN"));
    await api.projects.secrets.delete(1, "A/B");
    expect(server.calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      "GET /api/v1/projects/1/secrets",
      "POST /api/v1/projects/1/secrets",
      "DELETE /api/v1/projects/1/secrets/A%2FB",
    ]);
    expect(server.calls[1]?.body).toEqual({ name: "API_TOKEN", value: "s3cret-value" });
  });
});
