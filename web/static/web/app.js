// authsite web page: a plain client of the API (no framework, no build step).
//
// The access token lives in the `accessToken` variable of this closure and nowhere
// else: never localStorage, sessionStorage or a cookie, so a script injected into
// another page of the origin cannot read it from storage, and closing the tab forgets
// it. The refresh token is an HttpOnly cookie scoped to /api/auth that this script
// cannot read either; the browser sends it to POST /api/auth/refresh, which is how a
// reload restores the session. Page text is always set with textContent (the page's
// Content-Security-Policy forbids HTML sinks outright via Trusted Types).
//
// Both tokens are bound to a key this browser cannot give away (DPoP, RFC 9449; see
// docs/dpop.md): a non-extractable ES256 key made with WebCrypto and kept in IndexedDB,
// which signs a proof for every call. A copy of the cookie or of the access token is
// worth nothing without it. Without WebCrypto or IndexedDB the page works as a bearer
// client.
"use strict";

(() => {
  const API = {
    register: "/api/auth/register",
    login: "/api/auth/login",
    refresh: "/api/auth/refresh",
    logout: "/api/auth/logout",
    logoutAll: "/api/auth/logout-all",
    reauthenticate: "/api/auth/reauthenticate",
    sessions: "/api/auth/sessions",
    changePassword: "/api/auth/change-password",
    notifications: "/api/auth/notifications",
    me: "/api/users/me",
  };

  let accessToken = null; // in memory only
  let tokenType = "bearer"; // "DPoP" when the session is bound to this browser's key
  let accessExpiresAt = null;
  let refreshing = null; // the one refresh in flight; concurrent callers await it

  const $ = (id) => document.getElementById(id);
  const formatTime = (value) =>
    new Date(value).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

  // What a person reads for each error code the API (tokens/errors.py) or the page itself
  // can produce; the code is shown beside it in small type, for a support request.
  const SENTENCES = {
    LOGIN_BAD_CREDENTIALS: "The email or password is not right.",
    REGISTER_USER_ALREADY_EXISTS: "An account with this email already exists. Log in instead.",
    CHANGE_PASSWORD_INVALID_CURRENT: "The current password is not right.",
    REFRESH_TOKEN_MISSING: "You are not signed in.",
    REFRESH_TOKEN_INVALID: "This session has ended. Please log in again.",
    USER_INACTIVE: "This account has been deactivated.",
    ACCESS_TOKEN_INVALID: "Your sign-in is no longer valid. Please log in again.",
    NOT_AUTHENTICATED: "You are not signed in.",
    REAUTHENTICATION_REQUIRED: "For this, confirm it is you with your password.",
    REAUTHENTICATE_BAD_PASSWORD: "The password is not right.",
    ORIGIN_NOT_ALLOWED: "The request came from a page this site does not trust.",
    RATE_LIMITED: "Too many attempts. Please wait a minute and try again.",
    SERVICE_UNAVAILABLE: "The service is unavailable right now. Please try again shortly.",
    MALFORMED_BODY: "The server could not read the request. Reload the page and try again.",
    BAD_REQUEST: "The server could not accept the request. Reload the page and try again.",
    PERMISSION_DENIED: "You are not allowed to do this.",
    NOT_FOUND: "It was not found; it may be gone already. Reload to see what is left.",
    METHOD_NOT_ALLOWED: "The server does not accept this request. Reload the page and try again.",
    NOT_ACCEPTABLE: "The server does not accept this request. Reload the page and try again.",
    UNSUPPORTED_MEDIA_TYPE: "The server does not accept this request. Reload the page and try again.",
    REQUEST_TOO_LARGE: "What you entered is too long.",
    SERVER_ERROR: "Something went wrong on the server. Please try again later.",
    NETWORK_ERROR: "The server could not be reached. Check your connection and try again.",
    // DPoP (docs/dpop.md): this browser's key signs every call; these mean it could not.
    DPOP_PROOF_INVALID: "This browser could not prove it holds the session's key. Reload the page.",
    DPOP_PROOF_WRONG_REQUEST: "This browser could not prove it holds the session's key. Reload the page.",
    DPOP_PROOF_WRONG_TOKEN: "This browser could not prove it holds the session's key. Reload the page.",
    DPOP_PROOF_EXPIRED: "This device's clock seems wrong. Set it right and reload the page.",
    DPOP_PROOF_REPLAYED: "The request was sent twice. Reload the page and try again.",
    DPOP_PROOF_REQUIRED: "This session belongs to a key this browser does not have. Please log in again.",
    DPOP_KEY_MISMATCH: "This session belongs to a key this browser does not have. Please log in again.",
    DPOP_NONCE_REQUIRED: "The server asked this browser to sign again. Reload the page and try again.",
  };
  const UNKNOWN_ERROR = "Something went wrong.";

  // The labels of the form fields that DRF's field errors name.
  const FIELD_LABELS = {
    email: "Email",
    password: "Password",
    current_password: "Current password",
    new_password: "New password",
    remember_me: "Remember me",
    new_device: "Email me when my account signs in from a new device",
  };

  const SESSION_ENDED_ELSEWHERE = "This session was ended on another device or by an administrator.";
  const SIGNED_OUT_ELSEWHERE = "You were logged out in another tab or window.";

  const plural = (count, one, many) => (count === 1 ? one : many);

  // A failed call: a stable code ({"detail": "<CODE>"}), or DRF's field errors as
  // [[field, [message, ...]], ...], never both.
  class ApiError extends Error {
    constructor(status, data) {
      const code = codeOf(status, data);
      super(code || "field errors");
      this.status = status;
      this.code = code;
      this.fields = code ? [] : Object.entries(data);
    }
  }

  // The page has already said why it is signed out now (in a notice).
  class SessionEnded extends Error {}

  function codeOf(status, data) {
    if (data && typeof data.detail === "string") return data.detail;
    if (data && typeof data === "object" && !Array.isArray(data) && Object.keys(data).length) {
      return null; // field errors
    }
    return `HTTP_${status}`;
  }

  // The sentence for a failure, and the code to show beside it (null for field errors).
  function describe(error) {
    if (!(error instanceof ApiError)) return { text: UNKNOWN_ERROR, code: String(error) };
    if (error.code) return { text: SENTENCES[error.code] || UNKNOWN_ERROR, code: error.code };
    const text = error.fields.map(([field, problems]) => {
      const messages = (Array.isArray(problems) ? problems : [problems]).map(String).join(" ");
      const label = FIELD_LABELS[field];
      return label ? `${label}: ${messages}` : messages;
    });
    return { text: text.join(" "), code: null };
  }

  // The DPoP key: made once per browser profile, kept in IndexedDB. The private half is
  // not extractable: not even this script can read it, only sign with it. Resolves to
  // null where WebCrypto or IndexedDB is missing (the page then sends no proofs).
  const DPOP_DB = "authsite-dpop";
  const DPOP_KEY = "session-key";
  let dpopKey = null; // the promise of {privateKey, jwk}, loaded on first use
  // The server's clock minus ours (ms), from each answer's Date header: a proof's iat must
  // be within a minute of the server's time, and a device's clock may be further off.
  let clockSkew = 0;
  // The server's nonce for proofs (DPoP-Nonce), when it asks for one (RFC 9449 section 8).
  let dpopNonce = null;

  function keyStore(mode, action) {
    return new Promise((resolve, reject) => {
      const opening = indexedDB.open(DPOP_DB, 1);
      opening.onupgradeneeded = () => opening.result.createObjectStore("keys");
      opening.onerror = () => reject(opening.error);
      opening.onsuccess = () => {
        const db = opening.result;
        const transaction = db.transaction("keys", mode);
        const request = action(transaction.objectStore("keys"));
        transaction.oncomplete = () => {
          db.close();
          resolve(request.result);
        };
        transaction.onerror = transaction.onabort = () => {
          db.close();
          reject(transaction.error);
        };
      };
    });
  }

  async function loadKey() {
    let pair = await keyStore("readonly", (store) => store.get(DPOP_KEY));
    if (!pair) {
      const made = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
        "sign",
        "verify",
      ]);
      // Another tab may store its key first: add() keeps the first, and all read it back.
      await keyStore("readwrite", (store) => store.add(made, DPOP_KEY)).catch(() => null);
      pair = await keyStore("readonly", (store) => store.get(DPOP_KEY));
    }
    const { crv, kty, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
    return { privateKey: pair.privateKey, jwk: { crv, kty, x, y } };
  }

  const bytes = (text) => new TextEncoder().encode(text);
  const base64url = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  const encoded = (object) => base64url(bytes(JSON.stringify(object)));

  // A DPoP proof for one request (RFC 9449 section 4.2), with the access token's hash
  // when it goes with one; null without a key.
  async function dpopProof(method, url, token) {
    if (dpopKey === null) dpopKey = loadKey().catch(() => null);
    const key = await dpopKey;
    if (!key) return null;
    const target = new URL(url, window.location.href);
    const claims = {
      jti: crypto.randomUUID(),
      htm: method,
      htu: target.origin + target.pathname,
      iat: Math.floor((Date.now() + clockSkew) / 1000),
    };
    if (token) claims.ath = base64url(await crypto.subtle.digest("SHA-256", bytes(token)));
    if (dpopNonce) claims.nonce = dpopNonce;
    const input = `${encoded({ typ: "dpop+jwt", alg: "ES256", jwk: key.jwk })}.${encoded(claims)}`;
    // WebCrypto's ECDSA signature is r || s, as JWS wants it (RFC 7518 section 3.4).
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      key.privateKey,
      bytes(input),
    );
    return `${input}.${base64url(signature)}`;
  }

  // One HTTP exchange with JSON in and out; never throws for an HTTP status. A proof
  // refused as expired, or without the server's nonce, is signed again once, with the
  // server's time and nonce from that answer.
  const SIGN_AGAIN = new Set(["DPOP_PROOF_EXPIRED", "DPOP_NONCE_REQUIRED"]);
  async function send(method, url, options = {}) {
    const result = await sendOnce(method, url, options);
    if (result.status === 401 && result.data && SIGN_AGAIN.has(result.data.detail)) {
      return sendOnce(method, url, options);
    }
    return result;
  }

  async function sendOnce(method, url, { body, token } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `${tokenType} ${token}`;
    const proof = await dpopProof(method, url, token);
    if (proof) headers.DPoP = proof;
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
      return { ok: false, status: 0, data: { detail: "NETWORK_ERROR" } }; // SENTENCES has it
    }
    const serverTime = Date.parse(response.headers.get("Date") || "");
    if (!Number.isNaN(serverTime)) clockSkew = serverTime - Date.now();
    dpopNonce = response.headers.get("DPoP-Nonce") || dpopNonce;
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
    tokenType = data.token_type;
    accessExpiresAt = new Date(Date.now() + data.expires_in * 1000);
    $("token-expires").textContent = formatTime(accessExpiresAt);
  }

  function forgetTokens() {
    accessToken = null;
    tokenType = "bearer";
    accessExpiresAt = null;
  }

  // POST /api/auth/refresh with the cookie. Serialized: while one is in flight, every
  // other caller gets the same promise, so the page never races itself into presenting
  // a rotated-away token. Resolves to {ok, status, error}.
  function refresh() {
    if (refreshing === null) {
      refreshing = (async () => {
        const result = await send("POST", API.refresh);
        if (result.ok) {
          keepTokens(result.data);
          return { ok: true, status: result.status, error: null };
        }
        if (result.status === 401) forgetTokens(); // the session is over
        return { ok: false, status: result.status, error: new ApiError(result.status, result.data) };
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  // The refresh cookie stopped working while the page was signed in: show the signed-out
  // state and say why. The cookie says who ended the session: one that is gone was
  // deleted by a logout in this browser (another tab); one the server refuses as
  // REFRESH_TOKEN_INVALID belongs to a session revoked elsewhere (another device's
  // logout-all, a revoke from the session list or the admin, a password change).
  function sessionEnded(refreshed) {
    const reasons = {
      REFRESH_TOKEN_INVALID: SESSION_ENDED_ELSEWHERE,
      REFRESH_TOKEN_MISSING: SIGNED_OUT_ELSEWHERE,
      USER_INACTIVE: SENTENCES.USER_INACTIVE,
    };
    showSignedOut();
    showMessage(reasons[refreshed.error.code] || SENTENCES.REFRESH_TOKEN_INVALID, { tone: "warning" });
    return new SessionEnded();
  }

  // An authenticated call. On a 401 it refreshes once and retries once; if the refresh
  // fails with 401 too, the session is over: the page shows the signed-out state, says
  // why, and the call throws SessionEnded. `why` is what the password prompt says, should
  // the server ask for one ("Ending the session of Firefox on Windows needs ...").
  async function api(method, url, body, why) {
    const sentToken = accessToken;
    let result = await send(method, url, { body, token: sentToken });
    if (result.status === 401) {
      // Someone else may have refreshed while this call was out: just retry then.
      if (accessToken === null || accessToken === sentToken) {
        const refreshed = await refresh();
        if (!refreshed.ok) {
          if (refreshed.status === 401) throw sessionEnded(refreshed);
          throw refreshed.error;
        }
      }
      result = await send(method, url, { body, token: accessToken });
    }
    if (result.status === 403 && result.data && result.data.detail === "REAUTHENTICATION_REQUIRED") {
      // Ending other sessions needs a recent password proof: ask for it, then retry once.
      await confirmIdentity(why);
      result = await send(method, url, { body, token: accessToken });
    }
    if (!result.ok) throw new ApiError(result.status, result.data);
    return result.data;
  }

  // Asks for the password in a dialog and proves it (POST /api/auth/reauthenticate): the
  // new access token, with a fresh auth_time, replaces ours. A wrong password is said in
  // the dialog, which stays open; closing it rejects with REAUTHENTICATION_REQUIRED.
  function confirmIdentity(why = "This needs your password again.") {
    const dialog = $("reauth-dialog");
    $("reauth-reason").textContent = why;
    const form = $("reauth-form");
    const problem = $("reauth-error");
    return new Promise((resolve, reject) => {
      let outcome = null;
      async function onSubmit(event) {
        event.preventDefault();
        const password = $("reauth-password").value;
        clearPasswords("reauth-password");
        const result = await send("POST", API.reauthenticate, { body: { password }, token: accessToken });
        if (result.ok) {
          keepTokens(result.data);
          outcome = { ok: true };
          dialog.close();
          return;
        }
        const error = new ApiError(result.status, result.data);
        if (result.status === 400) {
          problem.textContent = describe(error).text;
          problem.hidden = false;
          $("reauth-password").focus();
          return;
        }
        outcome = { ok: false, error };
        dialog.close();
      }
      function onClose() {
        form.removeEventListener("submit", onSubmit);
        dialog.removeEventListener("close", onClose);
        problem.hidden = true;
        clearPasswords("reauth-password");
        if (outcome && outcome.ok) resolve();
        else reject(outcome ? outcome.error : new ApiError(403, { detail: "REAUTHENTICATION_REQUIRED" }));
      }
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("close", onClose);
      problem.hidden = true;
      dialog.showModal();
      $("reauth-password").focus();
    });
  }

  // Asks before a session ends, in the page's own dialog (the step-up dialog's pattern):
  // resolves true for the confirming button, false for Cancel or Escape.
  function confirmAction(title, text, yes) {
    const dialog = $("confirm-dialog");
    const form = $("confirm-form");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-yes").textContent = yes;
    return new Promise((resolve) => {
      let confirmed = false;
      function onSubmit(event) {
        event.preventDefault();
        confirmed = true;
        dialog.close();
      }
      function onClose() {
        form.removeEventListener("submit", onSubmit);
        dialog.removeEventListener("close", onClose);
        resolve(confirmed);
      }
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("close", onClose);
      dialog.showModal();
      $("confirm-cancel").focus(); // Enter alone never ends a session
    });
  }

  // --- what the page shows -----------------------------------------------------------

  // The notices (#error, #message) go where the person is looking: into the form or list
  // they just used, or back to the top for the page as a whole; then into view, so that
  // at phone width a message is never off screen.
  function placeNotices(where) {
    const notices = $("notices");
    const home = $("notices-home");
    const target = where && !where.closest("[hidden]") ? where : home;
    if (notices.parentElement !== target) target.append(notices);
    notices.scrollIntoView({ block: "nearest" });
  }

  // "Could not log in. The email or password is not right." and the code in small type.
  function showError(failure, error, where) {
    const { text, code } = describe(error);
    const box = $("error");
    box.replaceChildren(`${failure} ${text}`);
    if (code) {
      const small = document.createElement("small");
      const codeElement = document.createElement("code");
      codeElement.textContent = code;
      small.append(codeElement);
      box.append(" ", small);
    }
    box.hidden = false;
    $("message").hidden = true;
    placeNotices(where);
  }

  // A notice: good news, or a "warning" that is nobody's mistake (a session ended).
  function showMessage(text, { tone = "ok", where = null } = {}) {
    const box = $("message");
    box.textContent = text;
    box.classList.toggle("warning", tone === "warning");
    box.hidden = false;
    $("error").hidden = true;
    placeNotices(where);
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
    $("user-email").title = "";
    $("password-username").value = "";
    $("user-id").textContent = "";
    $("user-joined").textContent = "";
    $("token-expires").textContent = "";
    $("sessions").replaceChildren();
    $("notify-new-device").checked = false;
    $("notify-new-device").disabled = true;
    $("status").textContent = statusText || "Not signed in.";
    document.body.dataset.state = "signed-out";
  }

  // The heading says who is signed in; the status line is for what just happened.
  function showUser(user) {
    $("user-email").textContent = user.email;
    $("user-email").title = user.email; // a long one is cut short with "…"
    $("password-username").value = user.email;
    $("user-id").textContent = user.id;
    $("user-joined").textContent = formatTime(user.date_joined);
    $("signed-out").hidden = true;
    $("signed-in").hidden = false;
    $("status").textContent = "";
    document.body.dataset.state = "signed-in";
  }

  function span(className, text) {
    const element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  // One session: the device by name ("Chrome on Linux"; the raw User-Agent as its
  // tooltip), its address, when it signed in and was last used, and a revoke button.
  function sessionItem(session) {
    const item = document.createElement("li");
    item.dataset.sessionId = session.id;
    if (session.current) item.classList.add("current");

    const details = document.createElement("div");
    details.className = "details";
    const head = document.createElement("div");
    head.className = "head";
    const device = document.createElement("strong");
    device.className = "device";
    device.textContent = session.device || "Unknown device";
    device.title = session.user_agent || "";
    head.append(device);
    if (session.current) head.append(span("badge", "This device"));
    const address = span("address", session.ip_address || "unknown address");
    address.title = address.textContent; // a long IPv6 address is cut short with "…"
    details.append(
      head,
      address,
      span("time", `Signed in ${formatTime(session.created_at)}`),
      span("time", `Last used ${formatTime(session.last_used_at)}`),
    );

    item.append(details);
    // This device logs out with the page's one "Log out" button; the others end here.
    if (!session.current) {
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "revoke";
      revoke.textContent = "End session";
      revoke.setAttribute("aria-label", `End the session of ${deviceName(session)}`);
      revoke.addEventListener("click", () => revokeSession(session));
      item.append(revoke);
    }
    return item;
  }

  // "Firefox on Windows (203.0.113.7)": how the confirmation and the prompt name a device.
  function deviceName(session) {
    const name = session.device || "Unknown device";
    return session.ip_address ? `${name} (${session.ip_address})` : name;
  }

  // --- actions ---------------------------------------------------------------------

  async function loadUser() {
    showUser(await api("GET", API.me));
  }

  async function loadSessions() {
    const sessions = await api("GET", API.sessions);
    // This device first, then the others in the API's order (the most recent first).
    const ordered = [...sessions.filter((s) => s.current), ...sessions.filter((s) => !s.current)];
    $("sessions").replaceChildren(...ordered.map(sessionItem));
  }

  // The new-device email's switch; disabled until the server has said where it stands.
  async function loadNotifications() {
    const preferences = await api("GET", API.notifications);
    $("notify-new-device").checked = preferences.new_device;
    $("notify-new-device").disabled = false;
  }

  async function loadAll() {
    await Promise.all([loadUser(), loadSessions(), loadNotifications()]);
    // A security email links to /#sessions; the list exists only once signed in.
    if (window.location.hash === "#sessions") $("sessions").scrollIntoView();
  }

  // Runs an action; a failure shows its sentence after `failure` ("Could not log in.").
  // SessionEnded needs nothing more: a notice already says what happened.
  // `where` is where its notice goes (placeNotices).
  function guarded(failure, action, where) {
    return async (event) => {
      if (event) event.preventDefault();
      try {
        await action(event);
      } catch (error) {
        if (!(error instanceof SessionEnded)) showError(failure, error, where);
      }
    };
  }

  // The forms never keep a password once the server has answered, whatever the answer:
  // a failed attempt is typed again, not left on the screen. Emails stay.
  function clearPasswords(...ids) {
    for (const id of ids) $(id).value = "";
  }

  async function register(event) {
    const form = event.target;
    const email = $("register-email").value;
    const password = $("register-password").value;
    clearPasswords("register-password");
    const result = await send("POST", API.register, { body: { email, password } });
    if (!result.ok) throw new ApiError(result.status, result.data);
    form.reset();
    $("login-email").value = email;
    $("login-password").focus();
    showMessage(`Registered ${result.data.email}. You can log in now.`, { where: $("login-form") });
  }

  async function login(event) {
    const form = event.target;
    const password = $("login-password").value;
    clearPasswords("login-password");
    const result = await send("POST", API.login, {
      body: {
        email: $("login-email").value,
        password,
        remember_me: $("login-remember").checked,
      },
    });
    if (!result.ok) {
      $("login-password").focus();
      throw new ApiError(result.status, result.data);
    }
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
    if (!result.ok && result.status !== 401) throw new ApiError(result.status, result.data);
  }

  async function logoutAll() {
    const sure = await confirmAction(
      "Log out from all devices?",
      "Every device signed in to this account is logged out, this one included.",
      "Log out everywhere",
    );
    if (!sure) return;
    const data = await api("POST", API.logoutAll, undefined, "Logging out from all devices needs your password again.");
    showSignedOut("Logged out from all devices.");
    showMessage(data.message); // the API's sentence: "... Revoked 1 session."
  }

  // Another device's session (this device's ends with "Log out"), after a question.
  async function revokeSession(session) {
    const name = deviceName(session);
    const sure = await confirmAction(
      `End the session of ${name}?`,
      `${name} is logged out and must log in again to use this account.`,
      "End session",
    );
    if (!sure) return;
    await guarded(
      "Could not end the session.",
      async () => {
        const url = `${API.sessions}/${encodeURIComponent(session.id)}`;
        await api("DELETE", url, undefined, `Ending the session of ${name} needs your password again.`);
        showMessage(`${name} was logged out.`, { where: $("sessions-block") });
        await loadSessions();
      },
      $("sessions-block"),
    )();
  }

  async function changePassword(event) {
    const body = {
      current_password: $("password-current").value,
      new_password: $("password-new").value,
    };
    clearPasswords("password-current", "password-new");
    const data = await api("POST", API.changePassword, body);
    const others = data.revoked;
    showMessage(
      others === 0
        ? "Password changed."
        : `Password changed. ${others} other ${plural(others, "session was", "sessions were")} logged out.`,
      { where: $("password-form") },
    );
    await loadSessions();
  }

  // Saved as soon as it is ticked; on failure the box shows what the server has.
  async function setNewDeviceEmail(event) {
    const box = event.target;
    const wanted = box.checked;
    box.disabled = true;
    try {
      const saved = await api(
        "PUT",
        API.notifications,
        { new_device: wanted },
        "Turning off the new-device email needs your password again.",
      );
      box.checked = saved.new_device;
      showMessage(
        saved.new_device
          ? "You will be emailed when your account signs in from a new device."
          : "You will not be emailed about new devices any more.",
        { where: $("notifications-form") },
      );
    } catch (error) {
      box.checked = !wanted;
      throw error;
    } finally {
      box.disabled = false;
    }
  }

  async function refreshNow() {
    const refreshed = await refresh();
    if (!refreshed.ok) {
      if (refreshed.status === 401) throw sessionEnded(refreshed);
      throw refreshed.error;
    }
    showMessage("Access token refreshed.", { where: $("technical") });
    await loadSessions();
  }

  // On load: the access token is gone with the previous page, but the HttpOnly cookie
  // may still hold a live session. A 401 here just means "not signed in".
  async function restore() {
    const refreshed = await refresh();
    if (!refreshed.ok) {
      showSignedOut();
      if (refreshed.status !== 401) throw refreshed.error;
      return;
    }
    await loadAll();
  }

  function start() {
    $("register-form").addEventListener(
      "submit",
      guarded("Could not register.", register, $("register-form")),
    );
    $("login-form").addEventListener("submit", guarded("Could not log in.", login, $("login-form")));
    $("password-form").addEventListener(
      "submit",
      guarded("Could not change the password.", changePassword, $("password-form")),
    );
    $("notifications-form").addEventListener("submit", (event) => event.preventDefault());
    $("notify-new-device").addEventListener(
      "change",
      guarded("Could not save the email setting.", setNewDeviceEmail, $("notifications-form")),
    );
    $("reload").addEventListener("click", guarded("Could not reload.", loadAll, $("technical")));
    $("refresh").addEventListener(
      "click",
      guarded("Could not refresh the token.", refreshNow, $("technical")),
    );
    $("logout").addEventListener("click", guarded("Could not log out.", logout));
    $("logout-all").addEventListener(
      "click",
      guarded("Could not log out from all devices.", logoutAll),
    );
    $("reauth-cancel").addEventListener("click", () => $("reauth-dialog").close());
    $("confirm-cancel").addEventListener("click", () => $("confirm-dialog").close());
    guarded("Could not restore your session.", restore)();
  }

  start();
})();
