// Signing in with the access token the server printed at its first start.
import { LogIn } from "lucide-react";
import { useState, type FormEvent } from "react";
import { Button } from "../controls/button";
import { TextField } from "../controls/field";
import { errorText } from "../controls/problem";
import { useSession } from "./session";

export function SignIn() {
  const { signIn, notice } = useSession();
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await signIn(token);
    } catch (error) {
      setProblem(errorText(error));
      setBusy(false);
    }
  };

  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <form
        onSubmit={(event) => void submit(event)}
        noValidate
        aria-label="Sign in"
        className="w-full max-w-md space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm"
      >
        <h1 className="text-xl font-semibold">Sign in to CodegenApp</h1>
        {notice && (
          <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-950">
            {notice}
          </p>
        )}
        <TextField
          label="Access token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(event) => setToken(event.target.value)}
          hint="The server printed a sign-in URL at its first start; the token is also in .codegenapp/admin-token."
          error={problem ?? undefined}
        />
        <Button look="primary" type="submit" disabled={busy} className="w-full">
          <LogIn aria-hidden="true" className="size-4" />
          Sign in
        </Button>
      </form>
    </main>
  );
}
