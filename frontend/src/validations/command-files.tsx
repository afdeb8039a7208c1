// The files a failed command pointed to (npm's debug log, a test report), read from the sandbox
// before it was removed: each saved through a blob URL, since the API wants the token.
import { FileText } from "lucide-react";
import type { Artifact, Validation } from "../api/types";
import { errorText } from "../controls/problem";
import { useArtifactUrl } from "./artifacts";

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
            <CommandFileLink validationId={validation.id} artifact={artifact} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function CommandFileLink({ validationId, artifact }: { validationId: number; artifact: Artifact }) {
  const { url, error } = useArtifactUrl(validationId, artifact.name);
  const label = `${artifact.name} (${artifact.size.toLocaleString()} bytes)`;
  if (error) return <span className="text-red-800">{label}: could not be loaded ({errorText(error)})</span>;
  if (url === null) return <span className="text-slate-600">{label} (loading…)</span>;
  return (
    <a href={url} download={artifact.name} className="inline-flex items-center gap-1 text-blue-800 underline">
      <FileText aria-hidden="true" className="size-4" />
      {label}
    </a>
  );
}
