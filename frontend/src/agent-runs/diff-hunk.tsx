// A hunk of a diff as git prints it: added and removed lines tinted, their +/- kept in the text
// so that the colour is never the only cue.
function lineLook(line: string): string {
  if (line.startsWith("@@")) return "text-slate-500";
  if (line.startsWith("+")) return "bg-green-50 text-green-900";
  if (line.startsWith("-")) return "bg-red-50 text-red-900";
  return "";
}

export function DiffHunk({ hunk, label }: { hunk: string; label: string }) {
  const lines = hunk.replace(/\n$/, "").split("\n");
  return (
    <pre
      aria-label={label}
      tabIndex={0}
      className="max-h-64 overflow-auto rounded-md border border-slate-200 bg-white py-1 font-mono text-xs leading-5"
    >
      {/* As wide as the longest line, so that a tint spans it when scrolled sideways. */}
      <span className="block w-max min-w-full">
        {lines.map((line, index) => (
          <span key={index} className={`block px-2 ${lineLook(line)}`}>
            {line || " "}
          </span>
        ))}
      </span>
    </pre>
  );
}
