import { fakeApi } from "../testing/fake-api";
import { ApiError, api, configureClient } from "./client";

describe("the API client", () => {
  it("sends the token and reports a 401 so the dashboard signs out", async () => {
    const server = fakeApi({ "GET /api/v1/projects": { status: 401, body: { detail: "a valid access token is required" } } });
    const refused: string[] = [];
    configureClient({ token: "t0k", onUnauthorized: (message) => refused.push(message) });
    await expect(api.projects.list()).rejects.toMatchObject({ status: 401 });
    expect(server.calls[0]?.auth).toBe("Bearer t0k");
    expect(refused).toEqual(["a valid access token is required"]);
  });

  it("keeps a 422's field problems and a 409's message", async () => {
    fakeApi({
      "POST /api/v1/agent-runs": {
        status: 422,
        body: { detail: [{ loc: ["body", "goal"], msg: "must not be empty", type: "value_error" }] },
      },
      "POST /api/v1/agent-runs/4/cancel": { status: 409, body: { detail: "agent run 4 is already completed" } },
    });
    const refusal = await api.agentRuns.start({ project_id: 1, goal: "" }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ApiError);
    expect((refusal as ApiError).problems[0]?.loc).toEqual(["body", "goal"]);
    await expect(api.agentRuns.cancel(4)).rejects.toThrow("agent run 4 is already completed");
  });

  it("says so when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(api.projects.list()).rejects.toMatchObject({ status: 0, message: "The server could not be reached." });
  });
});
