// The frame of a small chart: a caption people see, a summary screen readers hear.
import type { ReactNode } from "react";

export const WIDTH = 300;
export const HEIGHT = 120;
export const PAD = { top: 10, right: 8, bottom: 18, left: 34 };
export const PLOT_W = WIDTH - PAD.left - PAD.right;
export const PLOT_H = HEIGHT - PAD.top - PAD.bottom;

type Props = { caption: string; summary: string; yLabels: [string, string]; children: ReactNode; empty?: boolean };

export function ChartFrame({ caption, summary, yLabels, children, empty = false }: Props) {
  return (
    <figure className="min-w-0">
      <figcaption className="mb-1 text-sm font-medium text-slate-700">{caption}</figcaption>
      {empty ? (
        <p className="text-sm text-slate-500">{summary}</p>
      ) : (
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} className="h-auto w-full">
          <g className="fill-slate-500 text-[9px]">
            <text x={PAD.left - 4} y={PAD.top + 3} textAnchor="end">
              {yLabels[1]}
            </text>
            <text x={PAD.left - 4} y={PAD.top + PLOT_H} textAnchor="end">
              {yLabels[0]}
            </text>
          </g>
          <line x1={PAD.left} y1={PAD.top + PLOT_H} x2={WIDTH - PAD.right} y2={PAD.top + PLOT_H} className="stroke-slate-300" />
          <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={PAD.top + PLOT_H} className="stroke-slate-300" />
          {children}
        </svg>
      )}
    </figure>
  );
}

/** Bars for values, left to right, scaled to the largest. */
export function Bars({ values, colors, labels }: { values: number[]; colors: string[]; labels?: string[] }) {
  const max = Math.max(...values, 1e-9);
  const slot = PLOT_W / Math.max(values.length, 1);
  const width = Math.max(2, Math.min(28, slot * 0.7));
  return (
    <g>
      {values.map((value, index) => {
        const height = (value / max) * PLOT_H;
        const x = PAD.left + slot * index + (slot - width) / 2;
        return (
          <g key={index}>
            <rect x={x} y={PAD.top + PLOT_H - height} width={width} height={height} rx={1.5} className={colors[index]} />
            {labels?.[index] && (
              <text x={x + width / 2} y={HEIGHT - 5} textAnchor="middle" className="fill-slate-500 text-[9px]">
                {labels[index]}
              </text>
            )}
          </g>
        );
      })}
    </g>
  );
}
