// The project form's text read as the API's values: numbers, lists and NAME=value maps. What
// does not read is a problem named by its field, said before anything is sent.
import type { Field } from "./project-draft";

const WHOLE_NUMBER = /^\s*-?\d+\s*$/;
const DECIMAL_NUMBER = /^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/;

/** The text's lines, trimmed, without the blank ones. */
export function listOf(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

export type DraftReader = {
  /** What did not read, by field: only what the API cannot be told (text that is not a number,
   * an environment line that is not NAME=value). The API judges the rest. */
  problems: Record<string, string>;
  whole: (field: Field, text: string) => number;
  decimal: (field: Field, text: string) => number;
  environment: (field: Field, text: string) => Record<string, string>;
};

export function draftReader(): DraftReader {
  const problems: Record<string, string> = {};
  return {
    problems,
    whole: (field, text) => {
      if (!WHOLE_NUMBER.test(text)) problems[field] = "Enter a whole number.";
      return Number.parseInt(text, 10);
    },
    decimal: (field, text) => {
      if (!DECIMAL_NUMBER.test(text)) problems[field] = "Enter a number, such as 2 or 0.5.";
      return Number.parseFloat(text);
    },
    environment: (field, text) => {
      const variables: Record<string, string> = {};
      text.split("\n").forEach((line, index) => {
        if (!line.trim()) return;
        const cut = line.indexOf("=");
        if (cut <= 0) {
          problems[field] ??= `Line ${index + 1} is not NAME=value.`;
          return;
        }
        variables[line.slice(0, cut).trim()] = line.slice(cut + 1);
      });
      return variables;
    },
  };
}
