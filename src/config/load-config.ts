import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from './config-error.js';
import { gatewayConfigSchema, type GatewayConfig } from './schema.js';
import { substituteReferences, type SubstitutionSources } from './substitute.js';
import { formatKeyPath, parseYamlSource, type SourceIssue, type YamlSource } from './yaml-source.js';

export interface LoadConfigOptions {
  /** Environment used for `${env:NAME}`; the caller passes `process.env`. */
  env: SubstitutionSources['env'];
  readFile?: SubstitutionSources['readFile'];
}

/**
 * Reads, substitutes and validates a gateway config file.
 * @throws ConfigError listing every problem with file:line:column.
 */
export async function loadConfigFile(path: string, options: LoadConfigOptions): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([{ path: '', message: `cannot read config file ${path} (${code})` }]);
  }
  return parseConfigText(text, path, options);
}

/** Same as `loadConfigFile`, from text already in memory (used by tests and the demo). */
export function parseConfigText(text: string, file: string, options: LoadConfigOptions): GatewayConfig {
  const source = parseYamlSource(text, file);
  if (source.syntaxIssues.length > 0) throw new ConfigError(source.syntaxIssues);
  const substitutionIssues = substituteReferences(source.document, options, source.locateOffset);
  if (substitutionIssues.length > 0) throw new ConfigError(substitutionIssues);
  return resolvePaths(validateConfig(source.document.toJS() ?? {}, source), dirname(resolve(file)));
}

/** Paths in the config are relative to the config file, wherever the gateway was started from. */
function resolvePaths(config: GatewayConfig, baseDirectory: string): GatewayConfig {
  const { upstream } = config;
  return {
    ...config,
    ...(config.policy ? { policy: { ...config.policy, directory: resolve(baseDirectory, config.policy.directory) } } : {}),
    ...(config.audit.file ? { audit: { ...config.audit, file: resolve(baseDirectory, config.audit.file) } } : {}),
    ...(config.authorizationServer
      ? {
          authorizationServer: {
            ...config.authorizationServer,
            storage: { directory: resolve(baseDirectory, config.authorizationServer.storage.directory) },
          },
        }
      : {}),
    ...(upstream.type === 'stdio' && upstream.cwd ? { upstream: { ...upstream, cwd: resolve(baseDirectory, upstream.cwd) } } : {}),
  };
}

/** Validates an already-parsed config object; `source` (when given) adds line:column to messages. */
export function validateConfig(value: unknown, source?: YamlSource): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.flatMap((issue) => describeIssue(issue, source, value)));
}

function describeIssue(issue: z.core.$ZodIssue, source: YamlSource | undefined, input: unknown): SourceIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return {
        location: source?.locate(path, { key: true }),
        path: formatKeyPath(path),
        message: `unknown key (allowed here: ${allowedKeysAt(issue.path, input).join(', ') || 'none'})`,
      };
    });
  }
  return [{ location: source?.locate(issue.path), path: formatKeyPath(issue.path), message: humanize(issue) }];
}

/** Zod's default texts ("Invalid input: expected string, received number") made shorter and key-centred. */
function humanize(issue: z.core.$ZodIssue): string {
  // Zod reports a missing key as "received undefined"; it never echoes the value (which may be a secret).
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    return `required (expected ${issue.expected})`;
  }
  // A bad map key (upstream.env): the key's own message says what a key must look like.
  if (issue.code === 'invalid_key' && issue.issues[0]) return `invalid key: ${issue.issues[0].message}`;
  return issue.message.replace(/^Invalid input: /, '');
}

function allowedKeysAt(path: readonly PropertyKey[], input: unknown): string[] {
  let schema: z.core.$ZodType | undefined = gatewayConfigSchema;
  let value = input;
  for (const step of path) {
    schema = unwrap(schema, value);
    if (!schema) return [];
    const def = schema._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
    if (def.type === 'object' && def.shape) schema = def.shape[String(step)];
    else if (def.type === 'array' && def.element) schema = def.element;
    else return [];
    value = (value as Record<PropertyKey, unknown> | undefined)?.[step];
  }
  const def = unwrap(schema, value)?._zod.def as { shape?: Record<string, unknown> } | undefined;
  return Object.keys(def?.shape ?? {}).filter((key) => key !== '$schema');
}

/**
 * Looks through default/optional/pipe wrappers to the schema that has a shape; for a
 * discriminated union (`upstream.credential`), the form the value's `type` selects.
 */
function unwrap(schema: z.core.$ZodType | undefined, value: unknown): z.core.$ZodType | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 10; depth += 1) {
    const def = current._zod.def as {
      type: string;
      innerType?: z.core.$ZodType;
      in?: z.core.$ZodType;
      options?: z.core.$ZodType[];
      discriminator?: string;
    };
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else if (def.type === 'union' && def.options && def.discriminator) {
      const tag = (value as Record<string, unknown> | undefined)?.[def.discriminator];
      current = def.options.find((option) => option._zod.propValues?.[def.discriminator!]?.has(tag as never));
    } else return current;
  }
  return current;
}
