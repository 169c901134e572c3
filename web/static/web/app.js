// authsite web page: a plain client of the API (no framework, no build step).
//
// The access token lives in the `accessToken` variable of this closure and nowhere
// else: never localStorage, sessionStorage or a cookie, so a script injected into
// another page of the origin cannot read it from storage, and closing the tab forgets
// it. The refresh token is an HttpOnly cookie scoped to /api/auth that this script
// cannot read either; the browser sends it to POST /api/auth/refresh, which is how a
// reload restores the session. Page text is always set with textContent (the page's
// Content-Security-Policy forbids HTML sinks outright via Trusted Types).
"use strict";

(() => {
  const API = {
    register: "/api/auth/register",
    login: "/api/auth/login",
    refresh: "/api/auth/refresh",
    logout: "/api/auth/logout",
    logoutAll: "/api/auth/logout-all",
    sessions: "/api/auth/sessions",
    changePassword: "/api/auth/change-password",
    me: "/api/users/me",
  };

  let accessToken = null; // in memory only
  let accessExpiresAt = null;
  let refreshing = null; // the one refresh in flight; concurrent callers await it

  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(status, code) {
      super(code);
      this.status = status;
      this.code = code;
    }
  }

  // The error code of a failed call: {"detail": "<CODE>"}, or DRF's field errors.
  function errorCode(status, data) {
    if (data && typeof data.detail === "string") return data.detail;
    if (data && typeof data === "object") {
      const fields = Object.entries(data).map(([field, problems]) => {
        const text = Array.isArray(problems) ? problems.join(" ") : JSON.stringify(problems);
        return `${field}: ${text}`;
      });
      if (fields.length) return fields.join("; ");
    }
    return `HTTP_${status}`;
  }

  // One HTTP exchange with JSON in and out; never throws for an HTTP status.
  async function send(method, url, { body, token } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch {
      return { ok: false, status: 0, data: { detail: "NETWORK_ERROR" } };
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    return { ok: response.ok, status: response.status, data };
  }

  function keepTokens(data) {
    accessToken = data.access_token;
    accessExpiresAt = new Date(Date.now() + data.expires_in * 1000);
    $("token-expires").textContent = accessExpiresAt.toLocaleString();
  }

  function forgetTokens() {
    accessToken = null;
    accessExpiresAt = null;
  }

  // POST /api/auth/refresh with the cookie. Serialized: while one is in flight, every
  // other caller gets the same promise, so the page never races itself into presenting
  // a rotated-away token. Resolves to {ok, status, code}.
  function refresh() {
    if (refreshing === null) {
      refreshing = (async () => {
        const result = await send("POST", API.refresh);
        if (result.ok) {
          keepTokens(result.data);
          return { ok: true, status: result.status, code: null };
        }
        if (result.status === 401) forgetTokens(); // the session is over
        return { ok: false, status: result.status, code: errorCode(result.status, result.data) };
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  // An authenticated call. On a 401 it refreshes once and retries once; if the refresh
  // fails with 401 too, the session is over and the page shows the signed-out state.
  async function api(method, url, body) {
    const sentToken = accessToken;
    let result = await send(method, url, { body, token: sentToken });
    if (result.status === 401) {
      // Someone else may have refreshed while this call was out: just retry then.
      if (accessToken === null || accessToken === sentToken) {
        const refreshed = await refresh();
        if (!refreshed.ok) {
          if (refreshed.status === 401) showSignedOut(`Your session has ended (${refreshed.code}).`);
          throw new ApiError(result.status, errorCode(result.status, result.data));
        }
      }
      result = await send(method, url, { body, token: accessToken });
    }
    if (!result.ok) throw new ApiError(result.status, errorCode(result.status, result.data));
    return result.data;
  }

  // --- what the page shows -----------------------------------------------------------

  function showError(label, code) {
    const box = $("error");
    box.textContent = `${label} failed: ${code}`;
    box.hidden = false;
    $("message").hidden = true;
  }

  function showMessage(text) {
    const box = $("message");
    box.textContent = text;
    box.hidden = false;
    $("error").hidden = true;
  }

  function clearNotices() {
    $("error").hidden = true;
    $("message").hidden = true;
  }

  function showSignedOut(statusText) {
    forgetTokens();
    clearNotices();
    $("signed-in").hidden = true;
    $("signed-out").hidden = false;
    $("user-email").textContent = "";
    $("password-username").value = "";
    $("user-id").textContent = "";
    $("user-joined").textContent = "";
    $("token-expires").textContent = "";
    $("sessions").replaceChildren();
    $("status").textContent = statusText || "Not signed in.";
    document.body.dataset.state = "signed-out";
  }

  function showUser(user) {
    $("user-email").textContent = user.email;
    $("password-username").value = user.email;
    $("user-id").textContent = user.id;
    $("user-joined").textContent = new Date(user.date_joined).toLocaleString();
    $("signed-out").hidden = true;
    $("signed-in").hidden = false;
    $("status").textContent = `Signed in as ${user.email}.`;
    document.body.dataset.state = "signed-in";
  }

  function sessionItem(session) {
    const item = document.createElement("li");
    item.dataset.sessionId = session.id;
    if (session.current) item.classList.add("current");

    const details = document.createElement("div");
    details.className = "details";
    const title = document.createElement("strong");
    title.textContent = session.ip_address || "unknown address";
    if (session.current) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "current";
      title.append(badge);
    }
    const agent = document.createElement("span");
    agent.className = "agent";
    agent.textContent = session.user_agent || "unknown device";
    const times = document.createElement("span");
    times.textContent =
      `signed in ${new Date(session.created_at).toLocaleString()}, ` +
      `last used ${new Date(session.last_used_at).toLocaleString()}`;
    details.append(title, agent, times);

    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "revoke";
    revoke.textContent = session.current ? "Revoke (log out)" : "Revoke";
    revoke.addEventListener("click", () => revokeSession(session));

    item.append(details, revoke);
    return item;
  }

  // --- actions ---------------------------------------------------------------------

  async function loadUser() {
    showUser(await api("GET", API.me));
  }

  async function loadSessions() {
    const sessions = await api("GET", API.sessions);
    $("sessions").replaceChildren(...sessions.map(sessionItem));
  }

  async function loadAll() {
    await Promise.all([loadUser(), loadSessions()]);
  }

  // Runs an action; a failure shows its code. `label` names the action in the message.
  function guarded(label, action) {
    return async (event) => {
      if (event) event.preventDefault();
      try {
        await action(event);
      } catch (error) {
        showError(label, error instanceof ApiError ? error.code : String(error));
      }
    };
  }

  async function register(event) {
    const form = event.target;
    const email = $("register-email").value;
    const result = await send("POST", API.register, {
      body: { email, password: $("register-password").value },
    });
    if (!result.ok) throw new ApiError(result.status, errorCode(result.status, result.data));
    form.reset();
    $("login-email").value = email;
    $("login-password").focus();
    showMessage(`Registered ${result.data.email}. You can log in now.`);
  }

  async function login(event) {
    const form = event.target;
    const result = await send("POST", API.login, {
      body: {
        email: $("login-email").value,
        password: $("login-password").value,
        remember_me: $("login-remember").checked,
      },
    });
    if (!result.ok) throw new ApiError(result.status, errorCode(result.status, result.data));
    form.reset();
    keepTokens(result.data);
    clearNotices();
    await loadAll();
  }

  async function logout() {
    // The endpoint takes the bearer token or the cookie alone: an expired access token
    // still logs out. Whatever the answer, the cookie is deleted and the page forgets.
    const result = await send("POST", API.logout, { token: accessToken });
    showSignedOut("Logged out.");
    if (!result.ok && result.status !== 401) {
      throw new ApiError(result.status, errorCode(result.status, result.data));
    }
  }

  async function logoutAll() {
    const data = await api("POST", API.logoutAll);
    showSignedOut("Logged out from all devices.");
    showMessage(data.message);
  }

  async function revokeSession(session) {
    await guarded("Revoke session", async () => {
      await api("DELETE", `${API.sessions}/${encodeURIComponent(session.id)}`);
      if (session.current) {
        // Our own session: the cookie is dead now; have the server delete it too.
        await send("POST", API.logout, { token: accessToken });
        showSignedOut("This session was revoked.");
        return;
      }
      showMessage("Session revoked.");
      await loadSessions();
    })();
  }

  async function changePassword(event) {
    const form = event.target;
    const data = await api("POST", API.changePassword, {
      current_password: $("password-current").value,
      new_password: $("password-new").value,
    });
    form.reset();
    showMessage(`Password changed; ${data.revoked} other session(s) logged out.`);
    await loadSessions();
  }

  async function refreshNow() {
    const refreshed = await refresh();
    if (!refreshed.ok) {
      if (refreshed.status === 401) showSignedOut(`Your session has ended (${refreshed.code}).`);
      throw new ApiError(refreshed.status, refreshed.code);
    }
    showMessage("Access token refreshed.");
    await loadSessions();
  }

  // On load: the access token is gone with the previous page, but the HttpOnly cookie
  // may still hold a live session. A 401 here just means "not signed in".
  async function restore() {
    const refreshed = await refresh();
    if (!refreshed.ok) {
      showSignedOut();
      if (refreshed.status !== 401) showError("Restoring the session", refreshed.code);
      return;
    }
    await loadAll();
  }

  function start() {
    $("register-form").addEventListener("submit", guarded("Register", register));
    $("login-form").addEventListener("submit", guarded("Login", login));
    $("password-form").addEventListener("submit", guarded("Change password", changePassword));
    $("reload").addEventListener("click", guarded("Reload", loadAll));
    $("refresh").addEventListener("click", guarded("Refresh", refreshNow));
    $("logout").addEventListener("click", guarded("Logout", logout));
    $("logout-all").addEventListener("click", guarded("Logout from all devices", logoutAll));
    guarded("Restoring the session", restore)();
  }

  start();
})();
