// Reads of projects, through their query keys (live events keep them current).
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";

export function useProjects() {
  return useQuery({ queryKey: queryKeys.projects.list(), queryFn: api.projects.list });
}

export function useProject(id: number) {
  return useQuery({ queryKey: queryKeys.projects.detail(id), queryFn: () => api.projects.get(id) });
}

export function useProjectStats(id: number) {
  return useQuery({ queryKey: queryKeys.projects.stats(id), queryFn: () => api.projects.stats(id) });
}

export function useProjectSecrets(id: number) {
  return useQuery({ queryKey: queryKeys.projects.secrets(id), queryFn: () => api.projects.secrets.list(id) });
}
