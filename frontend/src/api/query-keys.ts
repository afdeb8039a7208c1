// One query-key factory per resource. The live-event hook patches and invalidates exactly
// these keys, so every read of a resource goes through one of them.
export const queryKeys = {
  projects: {
    all: ["projects"] as const,
    list: () => ["projects", "list"] as const,
    detail: (id: number) => ["projects", "detail", id] as const,
    stats: (id: number) => ["projects", "stats", id] as const,
    /** A project's secrets: names and times, never a value. */
    secrets: (id: number) => ["projects", "secrets", id] as const,
  },
  agentRuns: {
    all: ["agent-runs"] as const,
    lists: () => ["agent-runs", "list"] as const,
    list: (projectId: number) => ["agent-runs", "list", projectId] as const,
    detail: (id: number) => ["agent-runs", "detail", id] as const,
    /** A run's turns, every page of them loaded so far. */
    interactions: (id: number) => ["agent-runs", "interactions", id] as const,
  },
  validations: {
    all: ["validations"] as const,
    lists: () => ["validations", "list"] as const,
    ofRun: (agentRunId: number) => ["validations", "list", "run", agentRunId] as const,
    /** Every list of a project's validations (the prefix of its pages): what its events make stale. */
    ofProject: (projectId: number) => ["validations", "list", "project", projectId] as const,
    /** One page of a project's pull-request validations, newest first, from `offset`. */
    pullRequestPage: (projectId: number, offset: number) =>
      ["validations", "list", "project", projectId, "pull_request", offset] as const,
    detail: (id: number) => ["validations", "detail", id] as const,
    logs: () => ["validations", "log"] as const,
    log: (id: number, step: string) => ["validations", "log", id, step] as const,
    /** An artifact's content; a retry is a new validation, so a name's content never changes. */
    artifact: (id: number, name: string) => ["validations", "artifact", id, name] as const,
    /** The findings artifact, parsed as JSON (its bytes are never read as a blob). */
    findings: (id: number, name: string) => ["validations", "findings", id, name] as const,
  },
  events: {
    all: ["events"] as const,
    feeds: () => ["events", "feed"] as const,
    /** The activity feed: every project's events (`null`) or one project's. */
    feed: (projectId: number | null) => ["events", "feed", projectId] as const,
    ofRun: (agentRunId: number) => ["events", "run", agentRunId] as const,
  },
};
