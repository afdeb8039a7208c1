// A small tag beside a project's repository: where it lives, which says how to read it (a path
// on this server, or GitHub's OWNER/NAME).
import type { ForgeKind } from "../api/types";

const FORGE_WORDS: Record<ForgeKind, string> = { local: "local", github: "GitHub" };

export function ForgeLabel({ forge }: { forge: ForgeKind }) {
  return (
    <span
      title={forge === "github" ? "A GitHub repository" : "A repository on this server"}
      className="inline-flex shrink-0 items-center rounded border border-slate-300 px-1 text-xs leading-4 text-slate-600"
    >
      <span className="sr-only">{", "}</span>
      {FORGE_WORDS[forge]}
      <span className="sr-only">{" repository"}</span>
    </span>
  );
}
