// A validation's artifacts in the browser: what each is named for a person, and its content
// as a blob URL (the API wants the bearer token, so an <img src> or a plain link cannot load it).
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState, type RefObject } from "react";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";

/** "page-0.png" → "page 1", "scenario-1.txt" → "scenario 2": the evaluator counts from 0,
 * a person from 1; "base-page-0.png" → "page 1 on the base branch" (web_eval's before/after).
 * Any other name is shown as it is. */
export function artifactLabel(name: string): string {
  const numbered = /^(base-)?(page|scenario)-(\d+)\.[a-z]+$/.exec(name);
  if (!numbered) return name;
  return `${numbered[2]} ${Number(numbered[3]) + 1}${numbered[1] ? " on the base branch" : ""}`;
}

/** The artifact's content as a blob URL, null until it has loaded (or while `enabled` is false).
 * The URL belongs to this component: it is revoked when the component unmounts, so a blob is
 * not kept alive by a URL nobody can reach any more. */
export function useArtifactUrl(validationId: number, name: string, enabled = true) {
  const content = useQuery({
    queryKey: queryKeys.validations.artifact(validationId, name),
    queryFn: () => api.validations.artifact(validationId, name),
    enabled,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!content.data) return undefined;
    const made = URL.createObjectURL(content.data);
    setUrl(made);
    return () => {
      URL.revokeObjectURL(made);
      setUrl(null);
    };
  }, [content.data]);
  return { url, error: content.error };
}

/** Whether `target` has come near the viewport: screenshots are only fetched then, since an
 * evaluation of many pages keeps many of them. Where IntersectionObserver is missing, it is
 * true at once. */
export function useNearViewport(target: RefObject<Element>): boolean {
  const [near, setNear] = useState(typeof IntersectionObserver === "undefined");
  useEffect(() => {
    const element = target.current;
    if (near || !element) return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) setNear(true);
      },
      { rootMargin: "200px" },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [near, target]);
  return near;
}
