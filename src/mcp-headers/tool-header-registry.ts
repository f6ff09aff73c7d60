import { LRUCache } from 'lru-cache';

/** One `x-mcp-header` annotation: the header `Mcp-Param-{name}` mirrors the argument at `path`. */
export interface ParamHeader {
  /** Lowercased full header name, e.g. `mcp-param-region`. */
  header: string;
  /** Chain of `properties` keys from the input schema root. */
  path: readonly string[];
}

/**
 * What the gateway has learned from `tools/list` results about which tool
 * arguments clients mirror into `Mcp-Param-*` headers (2026-07-28,
 * `x-mcp-header`). Without it a gateway cannot tell which argument a header
 * stands for. Bounded (LRU); a tool never listed has no known annotations, and
 * its `Mcp-Param-*` headers are forwarded unchecked, as the spec requires of
 * intermediaries for headers they do not recognize.
 */
export class ToolHeaderRegistry {
  readonly #byTool = new LRUCache<string, readonly ParamHeader[]>({ max: 10_000 });

  /** Records the annotations of tools from a `tools/list` result. */
  learn(tools: readonly unknown[]): void {
    for (const tool of tools) {
      if (typeof tool !== 'object' || tool === null) continue;
      const { name, inputSchema } = tool as { name?: unknown; inputSchema?: unknown };
      if (typeof name !== 'string') continue;
      this.#byTool.set(name, collectParamHeaders(inputSchema));
    }
  }

  headersOf(toolName: string): readonly ParamHeader[] | undefined {
    return this.#byTool.get(toolName);
  }
}

/** Walks `properties` chains only (annotations elsewhere are invalid per the spec and ignored). */
function collectParamHeaders(schema: unknown, path: string[] = [], found: ParamHeader[] = []): ParamHeader[] {
  if (typeof schema !== 'object' || schema === null || path.length > 32) return found;
  const properties = (schema as { properties?: unknown }).properties;
  if (typeof properties !== 'object' || properties === null) return found;
  for (const [key, child] of Object.entries(properties)) {
    if (typeof child !== 'object' || child === null) continue;
    const annotation = (child as Record<string, unknown>)['x-mcp-header'];
    if (typeof annotation === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(annotation)) {
      found.push({ header: `mcp-param-${annotation.toLowerCase()}`, path: [...path, key] });
    }
    collectParamHeaders(child, [...path, key], found);
  }
  return found;
}
