// A browser client of the authsite API, typed from its OpenAPI document.
//
// `npm run generate` writes src/api.d.ts from openapi.json (GET /api/schema/?format=json);
// `npm run typecheck` checks this file against it with tsc --strict. Nothing here is
// written by hand that the document already says: paths, bodies, fields and error codes
// all come from api.d.ts, so a change to the API that breaks this client fails the check.
import createClient from "openapi-fetch";

import type { components, paths } from "./api";

export type Session = components["schemas"]["Session"];
export type User = components["schemas"]["User"];

// What a refresh's error body may say: the documented codes (REFRESH_TOKEN_MISSING, ...).
type RefreshError = NonNullable<
  paths["/api/auth/refresh"]["post"]["responses"][401 | 403 | 429 | 503]["content"]["application/json"]
>["detail"];

export class SignedOut extends Error {
  constructor(readonly code: RefreshError) {
    super(`signed out: ${code}`);
  }
}

export function authClient(baseUrl: string) {
  // The access token lives in memory only; the refresh token is an HttpOnly cookie that
  // the browser sends to /api/auth by itself ("include": also from another origin of
  // the same site, see the CORS settings).
  let accessToken: string | null = null;
  const api = createClient<paths>({ baseUrl, credentials: "include" });
  api.use({
    onRequest({ request }) {
      if (accessToken !== null) {
        request.headers.set("Authorization", `Bearer ${accessToken}`);
      }
      return request;
    },
  });

  async function login(email: string, password: string, rememberMe?: boolean): Promise<void> {
    // remember_me is optional: the documented body without it type-checks.
    const body =
      rememberMe === undefined ? { email, password } : { email, password, remember_me: rememberMe };
    const { data, error } = await api.POST("/api/auth/login", { body });
    if (error !== undefined) {
      throw new Error("detail" in error ? String(error.detail) : "invalid input");
    }
    accessToken = data.access_token;
  }

  async function refresh(): Promise<number> {
    const { data, error, response } = await api.POST("/api/auth/refresh");
    if (error !== undefined) {
      if (response.status === 401) {
        accessToken = null;
        throw new SignedOut(error.detail);
      }
      throw new Error(`refresh answered ${response.status}: ${error.detail}`);
    }
    // "DPoP" only for a session bound to a key (docs/dpop.md): this client sends no
    // proofs, so its sessions are bearer ones, and a DPoP token would be of no use to it.
    const tokenType: "bearer" | "DPoP" = data.token_type;
    accessToken = tokenType === "bearer" ? data.access_token : null;
    return data.expires_in;
  }

  async function me(): Promise<User> {
    const { data, response } = await api.GET("/api/users/me");
    if (data === undefined) {
      throw new Error(`me answered ${response.status}`);
    }
    return data;
  }

  async function sessions(): Promise<Session[]> {
    const { data, response } = await api.GET("/api/auth/sessions");
    if (data === undefined) {
      throw new Error(`sessions answered ${response.status}`);
    }
    return data;
  }

  async function revoke(session: Session): Promise<void> {
    const { response } = await api.DELETE("/api/auth/sessions/{session_id}", {
      params: { path: { session_id: session.id } },
    });
    if (response.status !== 204) {
      throw new Error(`revoke answered ${response.status}`);
    }
  }

  async function logout(): Promise<string> {
    // The cookie alone authenticates a logout, so it works with an expired access token.
    const { data, response } = await api.POST("/api/auth/logout");
    accessToken = null;
    if (data === undefined) {
      throw new Error(`logout answered ${response.status}`);
    }
    return data.message;
  }

  return { login, refresh, me, sessions, revoke, logout };
}

// Every field of a session is in every answer: no `?` in the generated type, so a
// session is described without checks for undefined.
export function describe(session: Session): string {
  const since = new Date(session.created_at).toISOString();
  const seen = new Date(session.last_used_at).toISOString();
  const where = session.ip_address ?? "an unknown address";
  const device: string = session.device;
  const marker = session.current ? " (this device)" : "";
  return `${device}${marker}, ${where}, since ${since}, last seen ${seen} ` +
    `(${session.user_agent.length} characters of User-Agent)`;
}
