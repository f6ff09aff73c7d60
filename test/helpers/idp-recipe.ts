/**
 * The identity-provider recipes in docs/idp/ are tested with their own words: the gateway
 * config block that follows `<!-- recipe-config: NAME -->` in a recipe is read from the doc,
 * its example hosts are pointed at a local demo AS shaped like that provider, and the gateway
 * runs with the `resource` and `authorizationServers` sections exactly as written there.
 */
import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { parse } from 'yaml';
import type { GatewayConfigInput } from '../../src/config/index.js';
import type { DemoAuthorizationServer } from '../../src/demo/authorization-server.js';
import { callerFromClaims, explainDecision, parsePolicyFiles, parseRequestInput } from '../../src/policy/index.js';
import { bearer, INITIALIZE, mcpPost } from './mcp-requests.js';

/** The resource URL every recipe uses for the gateway. */
export const RECIPE_RESOURCE_URL = 'https://mcp.example.com/mcp';

/** The YAML of the fenced block after `<!-- recipe-config: name -->` in docs/idp/<doc>. */
export function readRecipeConfig(doc: string, name: string): string {
  return readRecipeBlock(doc, `<!-- recipe-config: ${name} -->`);
}

/** The policy file of the fenced block after `<!-- recipe-policy: name -->` in docs/idp/<doc>. */
export function readRecipePolicy(doc: string, name: string): string {
  return readRecipeBlock(doc, `<!-- recipe-policy: ${name} -->`);
}

function readRecipeBlock(doc: string, marker: string): string {
  const text = readFileSync(new URL(`../../docs/idp/${doc}`, import.meta.url), 'utf8');
  const start = text.indexOf(marker);
  if (start < 0) throw new Error(`docs/idp/${doc} has no ${marker}`);
  const block = /```yaml\n([\s\S]*?)```/.exec(text.slice(start + marker.length));
  if (!block) throw new Error(`docs/idp/${doc}: no yaml block after ${marker}`);
  return block[1]!;
}

export interface RecipeOptions {
  doc: string;
  name: string;
  /** Example origins in the recipe → where the test serves them, e.g. { 'https://keycloak.example.com': as origin }. */
  hosts?: Record<string, string>;
  /**
   * Issuers on a host the test cannot serve (sts.windows.net, accounts.google.com) keep their
   * identifier; their keys are then fetched from the demo AS instead of the recipe's JWKS URL.
   */
  localJwks?: boolean;
}

/**
 * A `startStack` config transform: the recipe's `resource` and `authorizationServers`
 * (with the test's hosts), the test's listen address and upstream.
 */
export function recipeConfig(options: RecipeOptions) {
  return (base: GatewayConfigInput, as: DemoAuthorizationServer): GatewayConfigInput => {
    let text = readRecipeConfig(options.doc, options.name).replaceAll(RECIPE_RESOURCE_URL, base.resource.url);
    for (const [example, local] of Object.entries(options.hosts ?? {})) text = text.replaceAll(example, local);
    const recipe = parse(text) as Pick<GatewayConfigInput, 'resource' | 'authorizationServers'>;
    return {
      ...base,
      resource: { ...recipe.resource, url: base.resource.url },
      authorizationServers: recipe.authorizationServers.map((server) => ({
        ...server,
        ...(options.localJwks ? { jwksUri: as.jwksUri } : {}),
        jwksCooldownSeconds: 1,
      })),
    };
  };
}

/** The local origin of a demo AS (its issuer may name another host). */
export const originOf = (as: DemoAuthorizationServer) => new URL(as.baseUrl).origin;

/** An MCP initialize through the gateway; returns the status and the challenge's error. */
export async function callGateway(mcpUrl: string, token: string): Promise<{ status: number; error?: string }> {
  const response = await mcpPost(mcpUrl, INITIALIZE, bearer(token));
  await response.text();
  const error = /error="([^"]+)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1];
  return { status: response.status, ...(error ? { error } : {}) };
}

/**
 * How a policy (one file's text) decides a `tools/call` of `tool` for a token, exactly as the
 * gateway's authorization step would: the caller is read from the token's claims.
 */
export function decideToolCall(policy: string, token: string, tool: string): { effect: string; reason: string; challenge?: string } {
  const { policy: compiled } = parsePolicyFiles([{ file: 'policy.yaml', text: policy }]);
  const explanation = explainDecision(compiled, callerFromClaims(decodeJwt(token)), parseRequestInput({ method: 'tools/call', params: { name: tool } }), {
    resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
  });
  const challenge = explanation.response?.wwwAuthenticate;
  return { effect: explanation.effect, reason: explanation.decisions[0]!.reason, ...(challenge ? { challenge } : {}) };
}
