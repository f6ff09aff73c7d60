import type { HttpBindings } from '@hono/node-server';
import type { Principal, SubjectToken } from '../auth/index.js';
import type { JsonRpcBody } from '../jsonrpc/index.js';
import type { CompiledPolicy, Decision } from '../policy/index.js';
import type { RequestObservation } from './observation.js';
import type { CallIdentities } from '../upstream-auth/index.js';

/** Typed once for the whole app (hono's `ContextVariableMap`), so handlers need no casts. */
declare module 'hono' {
  interface ContextVariableMap {
    /** The authenticated caller, set by `authenticate`. */
    principal: Principal;
    /** The caller's verified token, set by `authenticate`; only token exchange may reveal it (to the AS). */
    subjectToken: SubjectToken;
    /** User, agent and service credential of the forwarded call, set by `forward` before it forwards (for audit). */
    upstreamIdentities: CallIdentities;
    /** The parsed POST body, set by `readJsonRpc`. */
    rpcBody: JsonRpcBody;
    /** The POST body bytes, forwarded as received. */
    rawBody: Buffer;
    /** The policy in force when the request arrived; the whole request uses it. */
    policy: CompiledPolicy;
    /** One decision per JSON-RPC message of the POST body, set by `authorize`. */
    decisions: Decision[];
    /** What is being recorded about this request for audit, metrics and traces (set by `observe`). */
    observation: RequestObservation;
    /** CORS headers for an allowed browser origin, added to the response (set by `guardOrigin`). */
    corsHeaders: Record<string, string>;
    /** The upstream's session id behind the client's bound one (set by `checkSession`). */
    upstreamSessionId: string;
  }
}

/** Hono environment: the node:http request and response are reachable for zero-copy forwarding. */
export type GatewayEnv = { Bindings: Partial<HttpBindings> };
