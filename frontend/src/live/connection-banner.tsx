// Says so when live updates are not arriving, and that they will catch up.
import { WifiOff } from "lucide-react";
import type { LiveStatus } from "./use-events";

export function ConnectionBanner({ status }: { status: LiveStatus }) {
  return (
    <div role="status" aria-live="polite">
      {status === "offline" && (
        <p className="flex items-center justify-center gap-2 bg-amber-100 px-4 py-2 text-sm font-medium text-amber-950">
          <WifiOff aria-hidden="true" className="size-4" />
          Offline: live updates are paused. Reconnecting; what happened meanwhile will catch up.
        </p>
      )}
    </div>
  );
}

export function LiveIndicator({ status }: { status: LiveStatus }) {
  const word = { connecting: "Connecting", online: "Live", offline: "Offline" }[status];
  const dot = { connecting: "bg-slate-400", online: "bg-green-400", offline: "bg-amber-400" }[status];
  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-slate-200">
      <span aria-hidden="true" className={`size-2 rounded-full ${dot}`} />
      {word}
    </span>
  );
}
