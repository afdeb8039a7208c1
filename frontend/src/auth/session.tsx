// Who is signed in: the token, signing in (the token is tried against the API first) and out.
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { ApiError, api, configureClient } from "../api/client";
import { loadToken, storeToken, takeTokenFromAddress } from "./token";

type Session = {
  token: string | null;
  /** Why the person was signed out, shown on the sign-in form. */
  notice: string | null;
  signIn: (token: string) => Promise<void>;
  signOut: (notice?: string) => void;
};

const SessionContext = createContext<Session | null>(null);

export const REFUSED_TOKEN = "The server did not accept this access token. Sign in again.";

function initialToken(): string | null {
  const fromAddress = takeTokenFromAddress();
  if (fromAddress !== null) storeToken(fromAddress);
  return fromAddress ?? loadToken();
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState(initialToken);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback(
    (why?: string) => {
      storeToken(null);
      configureClient({ token: null });
      queryClient.clear();
      setNotice(why ?? null);
      setToken(null);
    },
    [queryClient],
  );

  const signIn = useCallback(async (candidate: string) => {
    const trimmed = candidate.trim();
    if (!trimmed) throw new Error("Enter the access token the server printed at its first start.");
    try {
      await api.events.latestId(trimmed);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        throw new Error("That access token was not accepted.");
      }
      throw error;
    }
    storeToken(trimmed);
    configureClient({ token: trimmed });
    setNotice(null);
    setToken(trimmed);
  }, []);

  // Set while rendering, before any child's query runs: children's effects run first.
  configureClient({ token, onUnauthorized: () => signOut(REFUSED_TOKEN) });

  const session = useMemo(() => ({ token, notice, signIn, signOut }), [token, notice, signIn, signOut]);
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession needs a SessionProvider");
  return session;
}
