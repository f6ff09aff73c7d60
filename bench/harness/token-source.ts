/**
 * The benchmark's authorization server, reduced to what the proxies need: an
 * ES256 key, its JWKS served on 127.0.0.1 (runs in the harness, on the client
 * CPU; the gateway and the reference fetch it once at start-up), and access
 * tokens minted with it. Tokens are written to files, one per line, for the
 * load generators to rotate through.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { TOOL_SCOPE } from '../fixtures/payloads.js';

/**
 * The audience every bench token carries: a fixed URL (the gateway's public
 * `resource.url`, and in `authorizationServers[].audiences`), so the tokens do
 * not depend on the ports the servers happen to get.
 */
export const BENCH_AUDIENCE = 'https://mcp.bench.invalid/mcp';
const KID = 'bench-es256';

export interface TokenSource {
  issuer: string;
  jwksUrl: string;
  audience: string;
  /** `count` tokens for distinct users (user-0000…), valid for `lifetimeSeconds`, carrying the tool's scope. */
  mint(count: number, lifetimeSeconds: number): Promise<string[]>;
  /** Writes tokens one per line; returns the path. */
  writeTokenFile(path: string, tokens: readonly string[]): string;
  close(): Promise<void>;
}

export async function startTokenSource(): Promise<TokenSource> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256', use: 'sig' }] });
  const server: Server = createServer((req, res) => {
    if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' });
      res.end(jwks);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer: origin,
    jwksUrl: `${origin}/jwks`,
    audience: BENCH_AUDIENCE,
    async mint(count, lifetimeSeconds) {
      const now = Math.floor(Date.now() / 1000);
      const tokens: string[] = [];
      for (let index = 0; index < count; index += 1) {
        tokens.push(
          await new SignJWT({ scope: `${TOOL_SCOPE} mcp:tools`, client_id: 'bench-client' })
            .setProtectedHeader({ alg: 'ES256', kid: KID, typ: 'at+jwt' })
            .setIssuer(origin)
            .setAudience(BENCH_AUDIENCE)
            .setSubject(`user-${String(index).padStart(4, '0')}`)
            .setIssuedAt(now)
            .setExpirationTime(now + lifetimeSeconds)
            .setJti(`bench-${index}`)
            .sign(privateKey),
        );
      }
      return tokens;
    },
    writeTokenFile(path, tokens) {
      writeFileSync(path, `${tokens.join('\n')}\n`);
      return path;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
