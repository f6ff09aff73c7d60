import { Agent } from 'undici';
import type { LegacySseUpstreamConfig } from '../../config/index.js';
import type { Logger } from '../../log/index.js';
import type { Forwarder } from '../../proxy/index.js';
import type { UpstreamAuth, UpstreamCaller } from '../../upstream-auth/index.js';
import { createBridgeForwarder } from '../bridge/bridge-forwarder.js';
import { openLegacySseConnection } from './legacy-sse-connection.js';

/**
 * The legacy HTTP+SSE upstream (2024-11-05): each client session gets an SSE
 * session of its own at the server (that transport's sessions are per
 * connection), stateless clients share one.
 */
export function createLegacySseForwarder(
  upstream: LegacySseUpstreamConfig,
  { logger, auth }: { logger: Logger; auth: Pick<UpstreamAuth, 'prepare'> | undefined },
): Forwarder {
  // Every session holds one connection for its SSE stream, plus one for POSTs while they run.
  const dispatcher = new Agent({ connect: { timeout: upstream.connectTimeoutMs }, keepAliveTimeout: 30_000 });
  const settings = {
    url: new URL(upstream.url),
    connectTimeoutMs: upstream.connectTimeoutMs,
    responseTimeoutMs: upstream.responseTimeoutMs,
    maxMessageBytes: upstream.maxMessageBytes,
    dispatcher,
    logger,
  };
  const bridge = createBridgeForwarder({
    kind: 'legacy-sse',
    connect: (handlers, caller) => openLegacySseConnection({ ...settings, credentialHeaders: () => credentialHeaders(auth, caller) }, handlers),
    sessions: upstream.sessions,
    restart: upstream.restart,
    initializeTimeoutMs: upstream.initializeTimeoutMs,
    logger,
  });
  return {
    forward: bridge.forward,
    async close() {
      await bridge.close();
      await dispatcher.close();
    },
  };
}

/** The credential (static or client credentials: the same whoever the caller) for one upstream request. */
async function credentialHeaders(auth: Pick<UpstreamAuth, 'prepare'> | undefined, caller: UpstreamCaller | undefined): Promise<Record<string, string>> {
  if (!auth || !caller) return {};
  return (await auth.prepare(caller)).headers;
}
