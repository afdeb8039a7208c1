// A titled region of the page: the heading names the region for screen readers.
import { useId, type ReactNode } from "react";

type Props = {
  title: ReactNode;
  /** The region's accessible name when the visible title is not plain text. */
  label?: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
};

export function Panel({ title, label, actions, children, className = "" }: Props) {
  const headingId = useId();
  return (
    <section
      aria-labelledby={label ? undefined : headingId}
      aria-label={label}
      className={`min-w-0 rounded-lg border border-slate-200 bg-white p-4 shadow-xs ${className}`}
    >
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 id={headingId} className="text-base font-semibold text-slate-900">
          {title}
        </h2>
        {actions}
      </div>
      {children}
    </section>
  );
}
