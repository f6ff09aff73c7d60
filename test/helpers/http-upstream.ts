import type { HttpUpstreamConfig, UpstreamConfig } from '../../src/config/index.js';

/** The upstream of a config that must be an HTTP one (the default `type`); fails the test otherwise. */
export function httpUpstream(config: { upstream: UpstreamConfig }): HttpUpstreamConfig {
  if (config.upstream.type !== 'http') throw new Error(`expected an http upstream, got ${config.upstream.type}`);
  return config.upstream;
}
