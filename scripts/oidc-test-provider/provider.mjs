// A real OpenID Connect provider on loopback for the backend's tests of
// "Sign in with Google / Discord" (the certified `oidc-provider` package).
// Test data only: every key, client and identity lives in memory and dies
// with the process.
//
//   node provider.mjs [--port N]      (N = 0: a random free port)
//
// Issuer: http://127.0.0.1:<port>. Once listening, prints exactly one line
// `LISTENING http://127.0.0.1:<port>` on stdout; diagnostics go to stderr
// (never a code, token or secret). Exits when stdin closes (so a parent that
// dies takes it along), on SIGTERM and on SIGINT.
//
// Besides the provider's own endpoints (discovery at
// /.well-known/openid-configuration, /auth, /token, /jwks, /me, ...):
//
//   GET  /test/health   -> 200 "ok"
//   POST /test/clients  {"client_id", "client_secret", "redirect_uris": [...],
//                        "kind": "oidc" | "oauth2"}            -> 204
//        registers (or replaces) a confidential client at run time.
//   POST /test/drive    {"url", "identity": {"sub", "email", "email_verified",
//                        "name", "username"}, "deny": false,
//                        "tamper": null | "bad_signature" | "wrong_audience"
//                                | "expired" | "wrong_nonce",
//                        "follow_loopback": false}
//        -> 200 {"final_url", "status", "body", "visited"}
//        acts as the user's browser: walks the redirects from `url`, signs in
//        as `identity` and consents (or denies) when the walk reaches this
//        provider's /interaction/:uid, and stops at the first redirect that
//        leaves both this provider and the origin of `url`: reported as
//        status 302 and body "" or, with follow_loopback, requested too
//        (status 0 and the error as body when nothing answers there).
//   GET  /users/@me     Authorization: Bearer <access token>
//        -> a Discord-shaped user {"id", "username", "global_name", "email",
//           "verified"}
//
// See backend/tests/support_oidc/mod.rs for the Rust side.

import * as http from 'node:http';
import * as crypto from 'node:crypto';
import * as util from 'node:util';

// oidc-provider writes its notices with console.info, that is to stdout:
// stdout carries the LISTENING line and nothing else.
const toStderr = (...args) => process.stderr.write(`${util.format(...args)}\n`);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;

const { default: Provider } = await import('oidc-provider');
const jose = await import('jose');

const log = (msg) => process.stderr.write(`oidc-test-provider: ${msg}\n`);

// ---------------------------------------------------------------------------
// Command line, lifetime

function parsePort(argv) {
  let port = 0;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    let value;
    if (arg === '--port') {
      value = argv[i + 1];
      i += 1;
    } else if (arg.startsWith('--port=')) {
      value = arg.slice('--port='.length);
    } else {
      log(`unknown argument ${JSON.stringify(arg)} (usage: node provider.mjs [--port N])`);
      process.exit(2);
    }
    port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      log(`bad port ${JSON.stringify(value)}`);
      process.exit(2);
    }
  }
  return port;
}

const PORT = parsePort(process.argv.slice(2));

function shutdown(why) {
  log(`exiting (${why})`);
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.stdin.on('end', () => shutdown('stdin closed'));
process.stdin.on('close', () => shutdown('stdin closed'));
process.stdin.on('error', () => shutdown('stdin error'));
process.stdin.resume();
// A parent that closed our stdout (EPIPE) is gone too.
process.stdout.on('error', () => shutdown('stdout closed'));

// ---------------------------------------------------------------------------
// State (all in memory)

/** client_id -> client metadata for oidc-provider (registered at run time). */
const clients = new Map();
/** sub -> identity {sub, email, email_verified, name, username}. */
const identities = new Map();
/** sub -> tamper mode for the next token answer that carries its ID token. */
const tampers = new Map();
/** drive id (the `drive` cookie) -> {identity, deny}. */
const drives = new Map();

const TAMPER_MODES = new Set(['bad_signature', 'wrong_audience', 'expired', 'wrong_nonce']);
const MAX_HOPS = 20;
const HOP_TIMEOUT_MS = 15_000;
const MAX_BODY_BYTES = 1 << 20;

// ---------------------------------------------------------------------------
// Keys: the published RS256 signing key and an unpublished one for
// `bad_signature`.

async function rsaKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' }, privateKey };
}

const signing = await rsaKey(`test-${crypto.randomBytes(6).toString('hex')}`);
const rogue = await rsaKey('rogue');

// ---------------------------------------------------------------------------
// Adapter: a plain in-memory store; the `Client` model answers from the
// clients registered through POST /test/clients.

const store = new Map(); // "Model:id" -> {payload, expiresAt}
const grantIndex = new Map(); // grantId -> Set of "Model:id"
const uidIndex = new Map(); // session uid -> id
const userCodeIndex = new Map(); // user code -> id
const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

function getLive(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.payload;
}

// Now and then drop what has expired, so a long test run stays small.
setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) {
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) store.delete(key);
  }
}, 60_000).unref();

class TestAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    store.set(key, {
      payload,
      expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined,
    });
    if (GRANTABLE.has(this.model) && payload.grantId) {
      if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, new Set());
      grantIndex.get(payload.grantId).add(key);
    }
    if (this.model === 'Session' && payload.uid) uidIndex.set(payload.uid, id);
    if (payload.userCode) userCodeIndex.set(payload.userCode, id);
  }

  async find(id) {
    if (this.model === 'Client') {
      return clients.get(id);
    }
    return getLive(this.key(id));
  }

  async findByUid(uid) {
    const id = uidIndex.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = userCodeIndex.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = getLive(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) ?? []) store.delete(key);
    grantIndex.delete(grantId);
  }
}

// ---------------------------------------------------------------------------
// The provider

function accountFor(sub) {
  const identity = identities.get(sub);
  if (!identity) return undefined;
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        email: identity.email,
        email_verified: identity.email_verified,
        name: identity.name,
        preferred_username: identity.username,
      };
    },
  };
}

function configuration() {
  return {
    adapter: TestAdapter,
    jwks: { keys: [signing.jwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    // Like Google's: the ID token carries email, email_verified and name.
    conformIdTokenClaims: false,
    scopes: ['openid', 'email', 'profile', 'identify'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    findAccount: (_ctx, sub) => accountFor(sub),
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // Sessions and grants live only as long as one drive needs them.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 120,
      IdToken: 3600,
      Interaction: 600,
      Session: 600,
      Grant: 600,
    },
    renderError: (ctx, out) => {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `${out.error}: ${out.error_description ?? ''}\n`;
    },
  };
}

// ---------------------------------------------------------------------------
// Small HTTP helpers

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

function sendText(res, status, text) {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

function requireString(value, what) {
  if (typeof value !== 'string' || value.length === 0) {
    throw new HttpError(400, `${what} must be a non-empty string`);
  }
  return value;
}

// ---------------------------------------------------------------------------
// POST /test/clients

function registerClient(body) {
  const clientId = requireString(body?.client_id, 'client_id');
  const clientSecret = requireString(body?.client_secret, 'client_secret');
  const redirectUris = body?.redirect_uris;
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) {
    throw new HttpError(400, 'redirect_uris must be a non-empty array');
  }
  redirectUris.forEach((uri, i) => requireString(uri, `redirect_uris[${i}]`));
  let scope;
  switch (body?.kind) {
    case 'oidc':
      scope = 'openid email profile';
      break;
    case 'oauth2':
      scope = 'identify email';
      break;
    default:
      throw new HttpError(400, 'kind must be "oidc" or "oauth2"');
  }
  clients.set(clientId, {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    scope,
  });
  log(`client ${JSON.stringify(clientId)} registered (${body.kind})`);
}

// ---------------------------------------------------------------------------
// A cookie jar per drive: cookies are kept per origin (scheme, host and
// port), with their path; expiry by Max-Age / Expires.

class CookieJar {
  constructor() {
    this.cookies = []; // {origin, name, value, path, expiresAt}
  }

  set(origin, name, value, path = '/', expiresAt = undefined) {
    this.cookies = this.cookies.filter(
      (c) => !(c.origin === origin && c.name === name && c.path === path),
    );
    if (expiresAt === undefined || expiresAt > Date.now()) {
      this.cookies.push({ origin, name, value, path, expiresAt });
    }
  }

  store(url, setCookies) {
    const { origin, pathname } = new URL(url);
    const defaultPath = pathname.lastIndexOf('/') > 0
      ? pathname.slice(0, pathname.lastIndexOf('/'))
      : '/';
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = defaultPath;
      let expiresAt;
      for (const attribute of attributes) {
        const aeq = attribute.indexOf('=');
        const key = (aeq < 0 ? attribute : attribute.slice(0, aeq)).trim().toLowerCase();
        const val = aeq < 0 ? '' : attribute.slice(aeq + 1).trim();
        if (key === 'path' && val.startsWith('/')) {
          path = val;
        } else if (key === 'max-age' && /^-?\d+$/.test(val)) {
          expiresAt = Date.now() + Number(val) * 1000;
        } else if (key === 'expires' && expiresAt === undefined) {
          const when = Date.parse(val);
          if (!Number.isNaN(when)) expiresAt = when;
        }
      }
      this.set(origin, name, value, path, expiresAt);
    }
  }

  header(url) {
    const { origin, pathname } = new URL(url);
    const now = Date.now();
    const pathMatches = (path) => pathname === path
      || (pathname.startsWith(path) && (path.endsWith('/') || pathname[path.length] === '/'));
    return this.cookies
      .filter((c) => c.origin === origin && (c.expiresAt === undefined || c.expiresAt > now))
      .filter((c) => pathMatches(c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

// ---------------------------------------------------------------------------
// POST /test/drive

function parseIdentity(value) {
  if (typeof value !== 'object' || value === null) {
    throw new HttpError(400, 'identity must be an object');
  }
  const identity = {
    sub: requireString(value.sub, 'identity.sub'),
    email: requireString(value.email, 'identity.email'),
    email_verified: value.email_verified,
    name: requireString(value.name, 'identity.name'),
    username: requireString(value.username, 'identity.username'),
  };
  if (typeof identity.email_verified !== 'boolean') {
    throw new HttpError(400, 'identity.email_verified must be a boolean');
  }
  return identity;
}

/** A URL for messages: its query may carry a code, so only origin and path. */
function redact(url) {
  try {
    const { origin, pathname } = new URL(url);
    return `${origin}${pathname}`;
  } catch {
    return '<bad URL>';
  }
}

async function hop(url, jar) {
  const cookie = jar.header(url);
  let response;
  try {
    response = await fetch(url, {
      redirect: 'manual',
      headers: cookie ? { cookie } : {},
      signal: AbortSignal.timeout(HOP_TIMEOUT_MS),
    });
  } catch (err) {
    throw new HttpError(502, `GET ${redact(url)} failed: ${err.cause?.message ?? err.message}`);
  }
  jar.store(url, response.headers.getSetCookie());
  return response;
}

async function drive(issuer, body) {
  const start = requireString(body?.url, 'url');
  let startUrl;
  try {
    startUrl = new URL(start);
  } catch {
    throw new HttpError(400, 'url is not an absolute URL');
  }
  if (startUrl.protocol !== 'http:' && startUrl.protocol !== 'https:') {
    throw new HttpError(400, 'url must be http(s)');
  }
  const identity = parseIdentity(body?.identity);
  const deny = body?.deny ?? false;
  if (typeof deny !== 'boolean') throw new HttpError(400, 'deny must be a boolean');
  const tamper = body?.tamper ?? null;
  if (tamper !== null && !TAMPER_MODES.has(tamper)) {
    throw new HttpError(400, `tamper must be null or one of ${[...TAMPER_MODES].join(', ')}`);
  }
  const followLoopback = body?.follow_loopback ?? false;
  if (typeof followLoopback !== 'boolean') {
    throw new HttpError(400, 'follow_loopback must be a boolean');
  }

  identities.set(identity.sub, identity);
  if (tamper) {
    tampers.set(identity.sub, tamper);
  } else {
    tampers.delete(identity.sub);
  }

  const providerOrigin = new URL(issuer).origin;
  const startOrigin = startUrl.origin;
  const driveId = crypto.randomBytes(16).toString('base64url');
  drives.set(driveId, { identity, deny });
  const jar = new CookieJar();
  jar.set(providerOrigin, 'drive', driveId, '/');

  try {
    let current = startUrl.href;
    // Every URL the walk requested (tests replay a step from it).
    const visited = [];
    for (let redirects = 0; ; redirects += 1) {
      visited.push(current);
      const response = await hop(current, jar);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer().catch(() => {});
        if (redirects >= MAX_HOPS) {
          throw new HttpError(500, `more than ${MAX_HOPS} redirects (last: ${redact(current)})`);
        }
        let next;
        try {
          next = new URL(location, current).href;
        } catch {
          throw new HttpError(500, `bad Location header from ${redact(current)}`);
        }
        const origin = new URL(next).origin;
        if (origin !== providerOrigin && origin !== startOrigin) {
          if (!followLoopback) {
            return { final_url: next, status: 302, body: '', visited };
          }
          let last;
          try {
            last = await hop(next, jar);
          } catch (err) {
            // Nothing listens there (any more): say so instead of failing.
            return { final_url: next, status: 0, body: err.message, visited };
          }
          return { final_url: next, status: last.status, body: await last.text(), visited };
        }
        current = next;
        continue;
      }
      return { final_url: current, status: response.status, body: await response.text(), visited };
    }
  } finally {
    drives.delete(driveId);
  }
}

// ---------------------------------------------------------------------------
// GET|POST /interaction/:uid: the drive's identity signs in and consents.

function cookieValue(req, name) {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

async function interaction(provider, req, res) {
  const driveId = cookieValue(req, 'drive');
  const state = driveId === undefined ? undefined : drives.get(driveId);
  if (!state) {
    sendText(res, 400, 'no login form here: drive the flow through POST /test/drive\n');
    return;
  }
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    sendText(res, 400, `interaction: ${err.error ?? err.message}\n`);
    return;
  }
  const { prompt, params, session, grantId } = details;

  if (state.deny) {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User denied the request',
    }, { mergeWithLastSubmission: false });
    return;
  }

  switch (prompt.name) {
    case 'login':
      await provider.interactionFinished(req, res, {
        login: { accountId: state.identity.sub },
      }, { mergeWithLastSubmission: false });
      return;
    case 'consent': {
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
      if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
      if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
      if (missingResourceScopes) {
        for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
          grant.addResourceScope(indicator, scopes.join(' '));
        }
      }
      const result = { consent: { grantId: await grant.save() } };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
      return;
    }
    default:
      sendText(res, 501, `prompt ${prompt.name} is not handled\n`);
  }
}

// ---------------------------------------------------------------------------
// Token endpoint: replace the ID token of a subject that has a tamper mode.

function decodePart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

async function tamperIdToken(idToken, mode) {
  const [headerPart, payloadPart] = idToken.split('.');
  const header = decodePart(headerPart);
  const claims = decodePart(payloadPart);
  const now = Math.floor(Date.now() / 1000);
  let key = signing.privateKey;
  switch (mode) {
    case 'bad_signature':
      key = rogue.privateKey;
      break;
    case 'wrong_audience':
      claims.aud = 'someone-else';
      break;
    case 'expired':
      claims.exp = now - 600;
      claims.iat = now - 1200;
      if (typeof claims.auth_time === 'number') claims.auth_time = now - 1200;
      break;
    case 'wrong_nonce':
      claims.nonce = `not-${crypto.randomBytes(12).toString('base64url')}`;
      break;
    default:
      throw new Error(`unknown tamper mode ${mode}`);
  }
  return new jose.CompactSign(Buffer.from(JSON.stringify(claims)))
    .setProtectedHeader(header)
    .sign(key);
}

async function tokenTamperer(ctx, next) {
  await next();
  if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
  const body = ctx.body;
  if (!body || typeof body !== 'object' || typeof body.id_token !== 'string') return;
  let sub;
  try {
    sub = decodePart(body.id_token.split('.')[1]).sub;
  } catch {
    return;
  }
  const mode = tampers.get(sub);
  if (!mode) return;
  tampers.delete(sub);
  body.id_token = await tamperIdToken(body.id_token, mode);
  log(`token answer: ID token tampered (${mode})`);
}

// ---------------------------------------------------------------------------
// GET /users/@me: Discord's user object for the access token's subject.

async function discordMe(provider, req, res) {
  const auth = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  const unauthorized = () => sendJson(res, 401, { message: '401: Unauthorized', code: 0 });
  if (!match) {
    unauthorized();
    return;
  }
  const token = await provider.AccessToken.find(match[1]);
  if (!token || token.isExpired) {
    unauthorized();
    return;
  }
  const identity = identities.get(token.accountId);
  if (!identity) {
    unauthorized();
    return;
  }
  const scopes = new Set(String(token.scope ?? '').split(' '));
  if (!scopes.has('identify')) {
    // Discord: /users/@me needs the `identify` scope.
    sendJson(res, 403, { message: 'Missing Access', code: 50001 });
    return;
  }
  const user = {
    id: identity.sub,
    username: identity.username,
    global_name: identity.name,
  };
  if (scopes.has('email')) {
    // Discord sends these two only with the `email` scope.
    user.email = identity.email;
    user.verified = identity.email_verified;
  }
  sendJson(res, 200, user);
}

// ---------------------------------------------------------------------------
// The server

let provider;
let providerCallback;
let issuer;

async function route(req, res) {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const { pathname } = url;
  if (pathname === '/test/health' && req.method === 'GET') {
    sendText(res, 200, 'ok');
    return;
  }
  if (!provider) {
    sendText(res, 503, 'starting\n');
    return;
  }
  if (pathname === '/test/clients') {
    if (req.method !== 'POST') throw new HttpError(405, 'POST only');
    registerClient(await readJson(req));
    res.writeHead(204).end();
    return;
  }
  if (pathname === '/test/drive') {
    if (req.method !== 'POST') throw new HttpError(405, 'POST only');
    sendJson(res, 200, await drive(issuer, await readJson(req)));
    return;
  }
  if (pathname === '/users/@me') {
    if (req.method !== 'GET') throw new HttpError(405, 'GET only');
    await discordMe(provider, req, res);
    return;
  }
  if (/^\/interaction\/[^/]+$/.test(pathname)) {
    await interaction(provider, req, res);
    return;
  }
  providerCallback(req, res);
}

const server = http.createServer((req, res) => {
  route(req, res).catch((err) => {
    const status = err instanceof HttpError ? err.status : 500;
    if (status >= 500) {
      log(`${req.method} ${req.url?.split('?')[0]}: ${err instanceof HttpError ? err.message : (err.stack ?? err)}`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (req.url?.startsWith('/test/')) {
      sendJson(res, status, { error: err.message });
    } else {
      sendText(res, status, `${err.message}\n`);
    }
  });
});
server.keepAliveTimeout = 5_000;

server.listen(PORT, '127.0.0.1', () => {
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  provider = new Provider(issuer, configuration());
  provider.use(tokenTamperer);
  provider.on('server_error', (_ctx, err) => log(`server_error: ${err.stack ?? err}`));
  provider.on('authorization.error', (_ctx, err) => log(`authorization.error: ${err.error ?? ''} ${err.error_description ?? err.message}`));
  provider.on('grant.error', (_ctx, err) => log(`grant.error: ${err.error ?? ''} ${err.error_description ?? err.message}`));
  providerCallback = provider.callback();
  process.stdout.write(`LISTENING ${issuer}\n`);
  log(`issuer ${issuer}`);
});
server.on('error', (err) => {
  log(`cannot listen on 127.0.0.1:${PORT}: ${err.message}`);
  process.exit(1);
});
