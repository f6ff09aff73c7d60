import type { Message } from './messages.js';

/** Where a connection's messages and its end are reported; given to `connect`, so nothing is missed. */
export interface ConnectionHandlers {
  onmessage(message: Message): void;
  /**
   * The upstream is going away (the process exited) but what it wrote last
   * may still arrive: send nothing more to it. `onclose` follows.
   */
  onending?(): void;
  /** The connection ended by itself (the process exited, the stream broke). Not called after `close()`. */
  onclose(reason: string): void;
}

/**
 * One MCP connection to the upstream: one child process (stdio) or one SSE
 * session (legacy-sse). It does not survive its end: `UpstreamLink` opens a
 * new one, with backoff, when it does.
 */
export interface UpstreamConnection {
  /**
   * Hands one message to the upstream. Rejects when it could not be
   * delivered (the upstream refused the POST, the process is gone).
   */
  send(message: Message): Promise<void>;
  /** Ends the connection (stops the process). Resolves once it is gone. */
  close(): Promise<void>;
}

/**
 * Opens a connection. Rejects with a `GatewayError` (`upstream_unreachable`,
 * `upstream_timeout`, `upstream_auth_failed`) when the upstream cannot be reached.
 */
export type ConnectUpstream = (handlers: ConnectionHandlers) => Promise<UpstreamConnection>;
