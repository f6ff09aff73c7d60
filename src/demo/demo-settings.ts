/**
 * Where the demo's three processes listen. Fixed loopback ports so that
 * `npm run demo:client` finds the gateway; override with environment variables.
 */
export function readDemoSettings(env: Readonly<Record<string, string | undefined>>) {
  const port = (name: string, fallback: number) => Number(env[name] ?? fallback);
  const gatewayPort = port('DEMO_GATEWAY_PORT', 8080);
  return {
    gatewayPort,
    authorizationServerPort: port('DEMO_AS_PORT', 9400),
    upstreamPort: port('DEMO_UPSTREAM_PORT', 9401),
    mcpUrl: env.DEMO_MCP_URL ?? `http://127.0.0.1:${gatewayPort}/mcp`,
    /** The demo upstream's service key: only the gateway knows it. */
    serviceKey: 'demo-service-key-not-a-secret',
    scopes: ['tickets:read', 'tickets:write', 'admin'],
  };
}
