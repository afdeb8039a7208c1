import { parseRoute, paths } from "./routes";

describe("parseRoute", () => {
  it("reads every address the dashboard makes back into its page", () => {
    expect(parseRoute(paths.overview())).toEqual({ page: "overview" });
    expect(parseRoute(paths.newProject())).toEqual({ page: "new-project" });
    expect(parseRoute(paths.project(3))).toEqual({ page: "project", projectId: 3, runId: null });
    expect(parseRoute(paths.run(3, 9))).toEqual({ page: "project", projectId: 3, runId: 9 });
    expect(parseRoute(paths.editProject(3))).toEqual({ page: "edit-project", projectId: 3 });
    expect(parseRoute("/somewhere/else")).toEqual({ page: "overview" });
  });
});
