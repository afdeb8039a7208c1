// Where the access token lives: localStorage, and once in the login URL the server prints.
const STORAGE_KEY = "codegenapp.token";

/** The `?token=` of the login URL, removed from the address bar (and so from history). */
export function takeTokenFromAddress(location: Location = window.location): string | null {
  const url = new URL(location.href);
  const token = url.searchParams.get("token");
  if (token === null) return null;
  url.searchParams.delete("token");
  window.history.replaceState(window.history.state, "", `${url.pathname}${url.search}${url.hash}`);
  return token.trim() || null;
}

export function loadToken(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // Storage refused (a locked-down browser): sign in for this page only.
  }
}

export function storeToken(token: string | null): void {
  try {
    if (token === null) window.localStorage.removeItem(STORAGE_KEY);
    else window.localStorage.setItem(STORAGE_KEY, token);
  } catch {
    // As above: the token then lasts as long as the page.
  }
}
