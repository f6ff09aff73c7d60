/**
 * Shared checks of the adversarial suite: every case must show no bypass (the
 * upstream saw nothing), no crash (a valid request still works afterwards),
 * no token in any output (log, audit, response), and the right status.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { expect } from 'vitest';
import type { AuditRecord } from '../../src/audit/index.js';
import { bearer, mcpPost, parseChallenge } from '../helpers/mcp-requests.js';
import type { Stack } from '../helpers/stack.js';

/** A stateless 2026-07-28 ping: needs only a valid token, reaches the upstream, answers 200. */
export const PING = { jsonrpc: '2.0', id: 'still-alive', method: 'ping' } as const;
export const STATELESS_PING_HEADERS = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' } as const;

export function statelessHeaders(method: string, name?: string): Record<string, string> {
  return { 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) };
}

/** The PRM URL a challenge must name for this stack. */
export function metadataUrl(stack: Stack): string {
  const url = new URL(stack.mcpUrl);
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname}`;
}

/** The audit fingerprint of a token (docs/audit.md: first 12 characters of the base64url SHA-256). */
export function fingerprintOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 12);
}

/**
 * Pieces of a secret that must never appear in an output: the whole value and,
 * for a JWT-shaped value, its payload and signature when long enough to be
 * unique (a leaked signature or payload alone is a leak too). The JOSE header
 * is not secret: every token of one key shares it.
 */
export function secretFragments(secret: string): string[] {
  const fragments = new Set([secret]);
  for (const segment of secret.split('.').slice(1)) if (segment.length >= 16) fragments.add(segment);
  return [...fragments];
}

/** Asserts none of the secrets (or their segments) appears in any of the texts. */
export function expectNoSecretIn(texts: Record<string, string>, secrets: readonly string[]): void {
  for (const secret of secrets) {
    for (const fragment of secretFragments(secret)) {
      for (const [where, text] of Object.entries(texts)) {
        if (text.includes(fragment)) {
          throw new Error(`a secret (${fragment.length} characters, starting ${JSON.stringify(fragment.slice(0, 8))}) appears in ${where}`);
        }
      }
    }
  }
}

/** Log, audit and what the upstream received: none may contain the secrets. */
export function expectNoSecretInOutputs(stack: Stack, secrets: readonly string[], extra: Record<string, string> = {}): void {
  expectNoSecretIn(
    {
      'the gateway log': stack.logOutput(),
      'the audit output': stack.auditOutput(),
      'the requests the upstream received': JSON.stringify(stack.upstream.seen),
      ...extra,
    },
    secrets,
  );
}

/** The audit records of one HTTP request (by the X-Request-Id the gateway answered with). */
export function auditRecordsFor(stack: Stack, response: Response): AuditRecord[] {
  const requestId = response.headers.get('x-request-id');
  expect(requestId, 'the gateway names every answered request with X-Request-Id').toBeTruthy();
  return stack.auditRecords().filter((record) => record.requestId === requestId);
}

/** A 401 (or 400) challenge: Bearer first, naming the PRM, with the expected error code. */
export function expectChallenge(stack: Stack, response: Response, error: string | undefined): void {
  const header = response.headers.get('www-authenticate');
  expect(header).toMatch(/^Bearer /);
  const { params } = parseChallenge(header);
  expect(params.resource_metadata).toBe(metadataUrl(stack));
  expect(params.error).toBe(error);
  // Fixed table texts only: nothing from the request, nothing that breaks naive parsers.
  expect(params.error_description ?? '').not.toMatch(/["=\r\n]/);
}

/** No crash, no lingering damage: a valid request through the same gateway still succeeds. */
export async function expectStillServes(stack: Stack, token: string): Promise<void> {
  const response = await mcpPost(stack.mcpUrl, PING, { ...bearer(token), ...STATELESS_PING_HEADERS });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(text).toContain('still-alive');
}

/**
 * Writes raw bytes to a socket and collects everything the server sends until
 * it closes the connection or `idleMs` pass without data. For requests `fetch`
 * refuses to send (smuggling, obs-fold, duplicate framing).
 */
export async function rawExchange(port: number, payload: string | Buffer, { idleMs = 300, maxMs = 5000 } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let idle: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(idle);
      clearTimeout(deadline);
      socket.destroy();
      resolve(received);
    };
    const deadline = setTimeout(finish, maxMs);
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(finish, idleMs);
    };
    socket.on('connect', () => {
      socket.write(payload);
      arm();
    });
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      arm();
    });
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? finish() : reject(error)));
  });
}

/** HTTP/1.1 status lines in a raw response stream (one per response the server wrote). */
export function statusLines(raw: string): string[] {
  return raw.match(/HTTP\/1\.1 \d{3}[^\r\n]*/g) ?? [];
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
