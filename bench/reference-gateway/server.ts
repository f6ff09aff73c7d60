/**
 * The reference the issue compares against: an MCP auth gateway assembled by
 * hand from the usual parts, doing the same work as ours on every request.
 *
 * - Express 5;
 * - `requireBearerAuth` from the MCP TypeScript SDK, with an `OAuthTokenVerifier`
 *   built on jose `createRemoteJWKSet` + `jwtVerify` (iss, aud, exp, ES256);
 *   like the SDK's examples it keeps no cache of verified tokens;
 * - `express.json()` and a per-tool scope check on the parsed body;
 * - one audit line per request (pino, asynchronous, to a file);
 * - http-proxy-middleware 3 to the upstream (with `fixRequestBody`, since the
 *   body was parsed), the client's Authorization removed, X-Forwarded-* added.
 *   It is given a keep-alive agent: its default (a new upstream connection per
 *   request) would make the comparison say more about that default than about the stack.
 *
 * In bench/, never in src/: it exists only to be measured against.
 *
 *   node --import tsx bench/reference-gateway/server.ts --upstream URL --jwks URL --issuer URL --audience URL --audit FILE --port 0
 */
import { Agent, createServer, type IncomingMessage } from 'node:http';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createProxyMiddleware, fixRequestBody } from 'http-proxy-middleware';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import pino from 'pino';
import { TOOL_NAME, TOOL_SCOPE } from '../fixtures/payloads.js';
import { readOption, serveUntilTerminated } from '../fixtures/server-process.js';

const upstream = new URL(readOption('upstream'));
const issuer = readOption('issuer');
const audience = readOption('audience');
const jwks = createRemoteJWKSet(new URL(readOption('jwks')));

/** Scope required per tool: the hand-written equivalent of the bench policy. */
const TOOL_SCOPES = new Map([[TOOL_NAME, TOOL_SCOPE]]);

const verifier: OAuthTokenVerifier = {
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    // requireBearerAuth answers 401 only for its own InvalidTokenError (anything else is a 500).
    const { payload } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ['ES256'] }).catch((error: unknown) => {
      throw new InvalidTokenError(error instanceof Error ? error.message : 'invalid token');
    });
    return {
      token,
      clientId: typeof payload.client_id === 'string' ? payload.client_id : '',
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
      ...(payload.exp !== undefined ? { expiresAt: payload.exp } : {}),
      extra: { sub: payload.sub },
    };
  },
};

const audit = pino({ base: null }, pino.destination({ dest: readOption('audit'), sync: false, minLength: 4096 }));

interface Call {
  method?: string;
  tool?: string;
  decision: 'allow' | 'deny' | 'none';
}

function authOf(req: Request): AuthInfo {
  return (req as Request & { auth: AuthInfo }).auth;
}

function checkToolScope(req: Request, res: Response, next: NextFunction): void {
  const body = req.body as { method?: unknown; params?: { name?: unknown } } | undefined;
  const call: Call = { decision: 'none' };
  if (body && typeof body.method === 'string') call.method = body.method;
  if (call.method === 'tools/call') {
    call.tool = typeof body?.params?.name === 'string' ? body.params.name : undefined;
    const required = call.tool === undefined ? undefined : TOOL_SCOPES.get(call.tool);
    call.decision = required !== undefined && authOf(req).scopes.includes(required) ? 'allow' : 'deny';
  }
  res.locals.call = call;
  if (call.decision === 'deny') {
    res.status(403).json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'insufficient scope' } });
    return;
  }
  next();
}

function auditLine(req: Request, res: Response, next: NextFunction): void {
  const started = performance.now();
  res.once('close', () => {
    const auth = authOf(req);
    const call = (res.locals.call as Call | undefined) ?? { decision: 'none' };
    audit.info({
      event: 'mcp.message',
      sub: auth.extra?.sub,
      clientId: auth.clientId,
      scopes: auth.scopes,
      httpMethod: req.method,
      method: call.method,
      tool: call.tool,
      decision: call.decision,
      status: res.statusCode,
      latencyMs: performance.now() - started,
    });
  });
  next();
}

const proxy = createProxyMiddleware<Request, Response>({
  target: upstream.origin,
  xfwd: true,
  agent: new Agent({ keepAlive: true, maxSockets: Infinity }),
  on: {
    proxyReq: (proxyReq, req: IncomingMessage) => {
      // Never pass the client's token on (MCP authorization spec: no token passthrough).
      proxyReq.removeHeader('authorization');
      fixRequestBody(proxyReq, req);
    },
    error: (_error, _req, res) => {
      if ('writeHead' in res && !res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":"bad_gateway"}');
    },
  },
});

const bearer = requireBearerAuth({ verifier });
const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.post(upstream.pathname, bearer, express.json({ limit: '4mb' }), checkToolScope, auditLine, proxy);
app.get(upstream.pathname, bearer, auditLine, proxy);

await serveUntilTerminated(createServer({ keepAliveTimeout: 65_000 }, app));
