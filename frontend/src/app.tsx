// Signed in: the dashboard; otherwise the sign-in form.
import { SignIn } from "./auth/sign-in";
import { useSession } from "./auth/session";
import { AppShell } from "./layout/app-shell";

export function App() {
  const { token } = useSession();
  return token ? <AppShell /> : <SignIn />;
}
