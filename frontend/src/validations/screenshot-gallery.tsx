// The browser evaluation's screenshots: small thumbnails, each fetched (with the token) only
// when it comes near the viewport, and a button that opens the full-size image in a dialog.
import { X } from "lucide-react";
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { Artifact } from "../api/types";
import { Button } from "../controls/button";
import { Problem, errorText } from "../controls/problem";
import { artifactLabel, useArtifactUrl, useNearViewport } from "./artifacts";

type Props = { validationId: number; screenshots: Artifact[] };

export function ScreenshotGallery({ validationId, screenshots }: Props) {
  return (
    <ul aria-label="Screenshots" className="flex flex-wrap gap-2">
      {screenshots.map((screenshot) => (
        <li key={screenshot.name}>
          <Thumbnail validationId={validationId} name={screenshot.name} />
        </li>
      ))}
    </ul>
  );
}

/** One screenshot as a thumbnail that opens full size; `alt` names it (by default from its
 * artifact's name). */
export function Thumbnail({ validationId, name, alt: named }: { validationId: number; name: string; alt?: string }) {
  const holder = useRef<HTMLButtonElement>(null);
  const near = useNearViewport(holder);
  const { url, error } = useArtifactUrl(validationId, name, near);
  const [open, setOpen] = useState(false);
  const alt = named ?? `Screenshot of ${artifactLabel(name)}`;

  if (error) return <Problem>Could not load the {alt.toLowerCase()}: {errorText(error)}</Problem>;
  return (
    <>
      <button
        ref={holder}
        type="button"
        disabled={url === null}
        aria-label={url === null ? `${alt} (loading)` : undefined}
        onClick={() => setOpen(true)}
        className="block h-24 w-36 overflow-hidden rounded-md border border-slate-300 bg-slate-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600"
      >
        {url !== null && <img src={url} alt={alt} loading="lazy" className="h-full w-full object-cover object-top" />}
      </button>
      {open && url !== null && (
        <ScreenshotDialog
          url={url}
          alt={alt}
          onClose={() => {
            setOpen(false);
            // Back to where the keyboard was before the dialog opened.
            holder.current?.focus();
          }}
        />
      )}
    </>
  );
}

function ScreenshotDialog({ url, alt, onClose }: { url: string; alt: string; onClose: () => void }) {
  const dialog = useRef<HTMLDivElement>(null);
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), []);

  // A modal dialog keeps the keyboard inside it: Tab cycles through its own controls.
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      onClose();
      return;
    }
    if (event.key !== "Tab" || !dialog.current) return;
    const controls = Array.from(dialog.current.querySelectorAll<HTMLElement>("a[href], button"));
    const first = controls[0];
    const last = controls[controls.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last?.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first?.focus();
    }
  };

  return (
    <div className="fixed inset-0 z-50 flex items-center justify-center bg-slate-950/70 p-4" onClick={onClose}>
      <div
        ref={dialog}
        role="dialog"
        aria-modal="true"
        aria-label={alt}
        onKeyDown={onKeyDown}
        onClick={(event) => event.stopPropagation()}
        className="flex max-h-full max-w-5xl flex-col gap-2 rounded-md bg-white p-3 shadow-lg"
      >
        <div className="flex items-center justify-between gap-2">
          <a href={url} target="_blank" rel="noreferrer" className="text-sm text-blue-800 underline">
            Open in a new tab
          </a>
          <Button ref={close} onClick={onClose} aria-label="Close the screenshot">
            <X aria-hidden="true" className="size-4" />
          </Button>
        </div>
        <img src={url} alt={`${alt}, full size`} className="min-h-0 overflow-auto object-contain" />
      </div>
    </div>
  );
}
