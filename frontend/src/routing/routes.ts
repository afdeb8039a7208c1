// The dashboard's addresses. Every page has one, so a reload or a shared link opens it again.
import { useSyncExternalStore } from "react";

export type Route =
  | { page: "overview" }
  | { page: "new-project" }
  | { page: "project"; projectId: number; runId: number | null }
  | { page: "edit-project"; projectId: number };

export const paths = {
  overview: () => "/",
  newProject: () => "/projects/new",
  project: (projectId: number) => `/projects/${projectId}`,
  editProject: (projectId: number) => `/projects/${projectId}/edit`,
  run: (projectId: number, runId: number) => `/projects/${projectId}/runs/${runId}`,
};

export function parseRoute(pathname: string): Route {
  if (pathname === "/projects/new") return { page: "new-project" };
  const run = /^\/projects\/(\d+)\/runs\/(\d+)\/?$/.exec(pathname);
  if (run) return { page: "project", projectId: Number(run[1]), runId: Number(run[2]) };
  const edit = /^\/projects\/(\d+)\/edit\/?$/.exec(pathname);
  if (edit) return { page: "edit-project", projectId: Number(edit[1]) };
  const project = /^\/projects\/(\d+)\/?$/.exec(pathname);
  if (project) return { page: "project", projectId: Number(project[1]), runId: null };
  return { page: "overview" };
}

const CHANGED = "codegenapp:navigate";

export function navigate(path: string): void {
  if (path === window.location.pathname) return;
  window.history.pushState(null, "", path);
  window.dispatchEvent(new Event(CHANGED));
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGED, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGED, onChange);
  };
}

export function useRoute(): Route {
  const pathname = useSyncExternalStore(subscribe, () => window.location.pathname);
  return parseRoute(pathname);
}
