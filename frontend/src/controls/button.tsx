// Buttons in three weights. The visible text is the accessible name; icon-only buttons must
// pass `aria-label`. The ref is the <button> (to move the keyboard to it).
import { forwardRef, type ButtonHTMLAttributes } from "react";

const looks = {
  primary: "bg-blue-700 text-white hover:bg-blue-800 disabled:bg-blue-300",
  secondary: "border border-slate-300 bg-white text-slate-800 hover:bg-slate-100 disabled:text-slate-400",
  danger: "border border-red-300 bg-white text-red-700 hover:bg-red-50 disabled:text-red-300",
  onDark: "border border-slate-600 bg-slate-800 text-white hover:bg-slate-700",
} as const;

type Props = ButtonHTMLAttributes<HTMLButtonElement> & { look?: keyof typeof looks };

export const Button = forwardRef<HTMLButtonElement, Props>(function Button(
  { look = "secondary", className = "", type = "button", ...props },
  ref,
) {
  return (
    <button
      ref={ref}
      type={type}
      className={`inline-flex min-h-9 items-center justify-center gap-1.5 rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600 disabled:cursor-not-allowed ${looks[look]} ${className}`}
      {...props}
    />
  );
});
