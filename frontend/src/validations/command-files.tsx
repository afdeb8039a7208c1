// The files a failed command pointed to (npm's debug log, a test report), read from the sandbox
// before it was removed: each saved through a blob URL, since the API wants the token.
import type { Validation } from "../api/types";
import { ArtifactLink } from "./artifact-link";

export function CommandFiles({ validation }: { validation: Validation }) {
  const files = validation.artifacts.filter((artifact) => artifact.kind === "command_file");
  if (!files.length) return null;
  return (
    <section aria-labelledby={`command-files-${validation.id}`} className="space-y-1">
      <h4 id={`command-files-${validation.id}`} className="text-sm font-semibold">
        Files the failed command pointed to
      </h4>
      <ul className="space-y-1 text-sm">
        {files.map((artifact) => (
          <li key={artifact.name}>
            <ArtifactLink validationId={validation.id} artifact={artifact} label={`${artifact.name} (${artifact.size.toLocaleString()} bytes)`} />
          </li>
        ))}
      </ul>
    </section>
  );
}
