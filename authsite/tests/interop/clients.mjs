// Outside clients against a live server, for tokens/tests/interop (node.py runs this).
// Usage: node clients.mjs '<JSON request>'; prints one JSON answer on stdout:
// {"ok": true, "result": ...} or {"ok": false, "error": {...what the library threw}}.
// Each command is what an adopter's code would write with the library, nothing more.
import * as dpop from 'dpop';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import v5 from 'openid-client-v5';

const commands = {
  // RFC 7662 with openid-client (v6): client_secret_post is its default method.
  async introspect({ issuer, endpoint, clientId, secret, method, token, parameters }) {
    const auth = method === 'basic' ? oidc.ClientSecretBasic(secret) : oidc.ClientSecretPost(secret);
    const config = new oidc.Configuration(
      { issuer, introspection_endpoint: endpoint },
      clientId,
      undefined,
      auth,
    );
    oidc.allowInsecureRequests(config); // the live server is plain HTTP on loopback
    return oidc.tokenIntrospection(config, token, parameters);
  },

  // A protected resource with openid-client (v6): it parses a 401's WWW-Authenticate.
  async resource({ issuer, url, token }) {
    const config = new oidc.Configuration({ issuer }, 'resource-test');
    oidc.allowInsecureRequests(config);
    const response = await oidc.fetchProtectedResource(config, token, new URL(url), 'GET');
    return { status: response.status, body: await response.json() };
  },

  // The same with openid-client v5, which sends the token with the token_type of the
  // token response as its scheme ("bearer" from our login). Reports the scheme it sent.
  async resourceV5({ issuer, url, tokenResponse }) {
    const client = new new v5.Issuer({ issuer }).Client({
      client_id: 'resource-test',
      token_endpoint_auth_method: 'none',
    });
    let sent;
    client[v5.custom.http_options] = (_url, options) => {
      sent = options.headers.Authorization;
      return {};
    };
    const response = await client.requestResource(url, new v5.TokenSet(tokenResponse));
    return {
      status: response.statusCode,
      scheme: sent.split(' ')[0],
      body: JSON.parse(response.body.toString()),
    };
  },

  // An access token verified with jose against the server's JWKS, as a resource server
  // would: the key chosen by kid from the remote set, the algorithm pinned.
  async verify({ jwksUrl, token, algorithms, issuer, audience }) {
    const keys = jose.createRemoteJWKSet(new URL(jwksUrl));
    const { payload, protectedHeader } = await jose.jwtVerify(token, keys, {
      algorithms,
      issuer,
      audience,
    });
    return { payload, protectedHeader };
  },

  // A DPoP client (RFC 9449) with panva's dpop: a non-extractable key pair, a proof per
  // request, the refresh cookie carried by hand as a browser would. Login, refresh and a
  // protected call; then the same calls without a proof and with another key's.
  async dpopSession({ url, email, password, alg }) {
    const keypair = await dpop.generateKeyPair(alg);
    const other = await dpop.generateKeyPair(alg);
    const login = `${url}/api/auth/login`;
    const refresh = `${url}/api/auth/refresh`;
    const me = `${url}/api/users/me`;
    const answer = async (response) => ({
      status: response.status,
      body: await response.json(),
      challenge: response.headers.get('www-authenticate'),
    });
    let response = await fetch(login, {
      method: 'POST',
      headers: { 'content-type': 'application/json', DPoP: await dpop.generateProof(keypair, login, 'POST') },
      body: JSON.stringify({ email, password }),
    });
    const loggedIn = await answer(response);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('refresh_token='));
    const cookieHeader = cookie.split(';')[0];
    response = await fetch(refresh, {
      method: 'POST',
      headers: { cookie: cookieHeader, DPoP: await dpop.generateProof(keypair, refresh, 'POST') },
    });
    const refreshed = await answer(response);
    const rotated = response.headers.getSetCookie().find((c) => c.startsWith('refresh_token='));
    const token = refreshed.body.access_token;
    const call = async (key, scheme = 'DPoP') =>
      answer(
        await fetch(me, {
          headers: {
            authorization: `${scheme} ${token}`,
            ...(key ? { DPoP: await dpop.generateProof(key, me, 'GET', undefined, token) } : {}),
          },
        }),
      );
    return {
      thumbprint: await dpop.calculateThumbprint(keypair.publicKey),
      extractable: keypair.privateKey.extractable,
      login: loggedIn,
      refresh: refreshed,
      me: await call(keypair),
      meAsBearer: await call(undefined, 'Bearer'),
      meWithAnotherKey: await call(other),
      refreshWithoutProof: await answer(
        await fetch(refresh, { method: 'POST', headers: { cookie: rotated.split(';')[0] } }),
      ),
    };
  },
};

function describe(error) {
  const described = { name: error.name, message: error.message, code: error.code };
  if (error.status !== undefined) described.status = error.status;
  if (error.error !== undefined) described.error = error.error; // RFC 6749 5.2 "error"
  if (error instanceof oidc.WWWAuthenticateChallengeError) described.challenges = error.cause;
  return described;
}

const request = JSON.parse(process.argv[2]);
try {
  const result = await commands[request.command](request);
  process.stdout.write(JSON.stringify({ ok: true, result }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: describe(error) }));
}
