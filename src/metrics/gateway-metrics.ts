import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** JSON-RPC methods that get their own label value; anything else is `other`, so a client cannot blow up cardinality. */
const KNOWN_METHODS = new Set([
  'initialize', 'ping', 'tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list',
  'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe',
  'completion/complete', 'logging/setLevel', 'subscriptions/listen', 'tasks/get', 'tasks/list', 'tasks/result',
  'tasks/cancel', 'notifications/initialized', 'notifications/cancelled', 'notifications/progress',
  'notifications/roots/list_changed',
]);

export function methodLabel(method: string | undefined): string {
  if (method === undefined) return 'none';
  return KNOWN_METHODS.has(method) ? method : 'other';
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The gateway's Prometheus metrics (names and labels documented in
 * docs/operations.md). Label values are bounded: methods from a fixed list,
 * decisions and reasons from enums, status codes.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly messages = new Counter({
    name: 'mcp_gateway_messages_total',
    help: 'JSON-RPC messages decided, by method, decision and HTTP status.',
    labelNames: ['method', 'decision', 'status'] as const,
    registers: [this.registry],
  });

  readonly requests = new Counter({
    name: 'mcp_gateway_http_requests_total',
    help: 'HTTP requests to the MCP endpoint, by HTTP method and status.',
    labelNames: ['http_method', 'status'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: 'mcp_gateway_request_duration_seconds',
    help: 'Time from request to the end of the response (streams included), by JSON-RPC method.',
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'mcp_gateway_upstream_response_seconds',
    help: 'Time until the upstream answered with its response headers.',
    labelNames: ['status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly tokenFailures = new Counter({
    name: 'mcp_gateway_token_validation_failures_total',
    help: 'Requests refused at authentication, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly jwksRefreshes = new Counter({
    name: 'mcp_gateway_jwks_refreshes_total',
    help: 'JWKS fetches, by issuer and result.',
    labelNames: ['issuer', 'result'] as const,
    registers: [this.registry],
  });

  readonly policyReloads = new Counter({
    name: 'mcp_gateway_policy_reloads_total',
    help: 'Policy reloads, by result (success, failure).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly policyInfo = new Gauge({
    name: 'mcp_gateway_policy_info',
    help: 'The policy in force (1) by version hash; policy_error 1 while the last reload failed.',
    labelNames: ['version', 'policy_error'] as const,
    registers: [this.registry],
  });

  readonly openStreams = new Gauge({
    name: 'mcp_gateway_open_sse_streams',
    help: 'SSE responses currently streaming to clients.',
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: 'mcp_gateway_upstream_errors_total',
    help: 'Upstream failures, by kind (unreachable, timeout, auth_failed, reset).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly auditRecords = new Counter({
    name: 'mcp_gateway_audit_records_total',
    help: 'Audit records written, by event.',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  constructor({ processMetrics = true }: { processMetrics?: boolean } = {}) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'mcp_gateway_' });
  }

  /** Marks the policy in force (and whether its last reload failed). */
  setPolicy(version: string, reloadFailed: boolean): void {
    this.policyInfo.reset();
    this.policyInfo.set({ version, policy_error: reloadFailed ? '1' : '0' }, 1);
  }
}
