// A link that saves one of a validation's artifacts: the blob URL is made once the artifact
// has loaded, since a plain link to the API would go without the token.
import { FileText } from "lucide-react";
import type { Artifact } from "../api/types";
import { errorText } from "../controls/problem";
import { useArtifactUrl } from "./artifacts";

export function ArtifactLink({ validationId, artifact, label }: { validationId: number; artifact: Artifact; label: string }) {
  const { url, error } = useArtifactUrl(validationId, artifact.name);
  if (error) return <span className="text-red-800">{label}: could not be loaded ({errorText(error)})</span>;
  if (url === null) return <span className="text-slate-600">{label} (loading…)</span>;
  return (
    <a href={url} download={artifact.name} className="inline-flex items-center gap-1 text-blue-800 underline">
      <FileText aria-hidden="true" className="size-4" />
      {label}
    </a>
  );
}
