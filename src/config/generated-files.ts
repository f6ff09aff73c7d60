import { buildConfigJsonSchema, buildConfigReference } from './reference.js';

/** Every file generated from a schema, by repository path. */
export function generatedFiles(): Record<string, string> {
  return {
    'schema/gateway-config.schema.json': `${JSON.stringify(buildConfigJsonSchema(), null, 2)}\n`,
    'docs/configuration.md': buildConfigReference(),
  };
}
