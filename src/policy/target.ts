import { GatewayError } from '../errors/index.js';
import type { RuleKind } from './rule.js';

/** What a JSON-RPC request acts on, when its method has a target. */
export interface Target {
  kind: Exclude<RuleKind, 'method'>;
  /** Tool or prompt name, or resource URI (or URI template, for completions and template lists). */
  name: string;
}

const BY_METHOD: Record<string, { kind: Target['kind']; field: 'name' | 'uri' }> = {
  'tools/call': { kind: 'tool', field: 'name' },
  'prompts/get': { kind: 'prompt', field: 'name' },
  'resources/read': { kind: 'resource', field: 'uri' },
  'resources/subscribe': { kind: 'resource', field: 'uri' },
  'resources/unsubscribe': { kind: 'resource', field: 'uri' },
};

/**
 * The target of a request, from its body (never from headers). A method that
 * needs a target and lacks a well-formed one is a bad request: deciding on a
 * guess would be failing open.
 *
 * @returns undefined for methods without a target
 * @throws GatewayError invalid_request
 */
export function findTarget(method: string, params: unknown): Target | undefined {
  const spec = BY_METHOD[method];
  if (spec) return { kind: spec.kind, name: readString(params, spec.field, method) };
  if (method === 'completion/complete') {
    // A completion is for a prompt's or a resource template's argument: it is
    // decided like getting that prompt or reading that resource.
    const ref = (params as { ref?: { type?: unknown; name?: unknown; uri?: unknown } } | undefined)?.ref;
    if (ref?.type === 'ref/prompt') return { kind: 'prompt', name: readString(ref, 'name', method) };
    if (ref?.type === 'ref/resource') return { kind: 'resource', name: readString(ref, 'uri', method) };
    throw new GatewayError('invalid_request', { publicMessage: 'completion/complete needs params.ref of type ref/prompt or ref/resource' });
  }
  return undefined;
}

function readString(params: unknown, field: string, method: string): string {
  const value = typeof params === 'object' && params !== null ? (params as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string' || value === '') {
    throw new GatewayError('invalid_request', { publicMessage: `${method} needs a string params.${field}` });
  }
  return value;
}
