// A finished run goes on with a new message to the agent.
import { MessageSquarePlus } from "lucide-react";
import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { Button } from "../controls/button";
import { TextArea } from "../controls/field";
import { Problem } from "../controls/problem";
import { readable } from "../projects/field-errors";
import { useContinueRun } from "./run-actions";

export function ContinueForm({ runId }: { runId: number }) {
  const [message, setMessage] = useState("");
  const continuation = useContinueRun(runId);
  const error = continuation.error;
  const messageError =
    error instanceof ApiError ? error.problems.find((p) => p.loc.at(-1) === "message")?.msg : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    continuation.mutate(message, { onSuccess: () => setMessage("") });
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Continue the run" className="space-y-2">
      <TextArea
        label="Message"
        rows={2}
        placeholder="Tell the agent what to do next"
        value={message}
        onChange={(event) => setMessage(event.target.value)}
        error={messageError ? readable(messageError) : undefined}
      />
      {error && !messageError && <Problem>{error.message}</Problem>}
      <Button type="submit" disabled={continuation.isPending}>
        <MessageSquarePlus aria-hidden="true" className="size-4" />
        Continue
      </Button>
    </form>
  );
}
