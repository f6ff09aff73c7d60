import type { UpstreamConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { createForwarder, type Forwarder } from '../proxy/index.js';
import type { UpstreamAuth } from '../upstream-auth/index.js';

export interface UpstreamForwarderOptions {
  trustForwardedHeaders: boolean;
  /** The public resource URL, for X-Forwarded-Proto/Host (HTTP upstreams). */
  publicUrl: string;
  /** The gateway's credential and identity headers towards HTTP and legacy-sse upstreams. */
  auth?: Pick<UpstreamAuth, 'prepare' | 'dropRequestHeaders'>;
  logger: Logger;
  /** The gateway's environment, from which a stdio child inherits `upstream.inheritEnv`. */
  environment: Readonly<Record<string, string | undefined>>;
}

/**
 * The forward step for the configured upstream: HTTP (undici, byte for
 * byte), or a bridge to a stdio child or a legacy HTTP+SSE server. All three
 * are `Forwarder`s, so the pipeline before them does not know which it has.
 *
 * @throws ConfigError when a stdio command cannot be run
 */
export async function createUpstreamForwarder(upstream: UpstreamConfig, options: UpstreamForwarderOptions): Promise<Forwarder> {
  switch (upstream.type) {
    // The bridges are loaded only when configured: they pull in the MCP SDK,
    // a tenth of a second of start-up that an HTTP upstream does not need.
    case 'stdio': {
      const { createStdioForwarder } = await import('./stdio/index.js');
      return createStdioForwarder(upstream, options);
    }
    case 'legacy-sse': {
      const { createLegacySseForwarder } = await import('./legacy-sse/index.js');
      return createLegacySseForwarder(upstream, { logger: options.logger, auth: options.auth });
    }
    case 'http':
      return createForwarder({ upstream, trustForwardedHeaders: options.trustForwardedHeaders, publicUrl: options.publicUrl, ...(options.auth ? { auth: options.auth } : {}) });
  }
}

/** The upstream for logs and `validate`, without any secret (arguments and env values are not shown). */
export function describeUpstream(upstream: UpstreamConfig): string {
  switch (upstream.type) {
    case 'stdio':
      return `stdio: ${upstream.command}${upstream.args.length > 0 ? ` (${upstream.args.length} arguments)` : ''}`;
    case 'legacy-sse':
      return `legacy-sse: ${upstream.url}`;
    case 'http':
      return upstream.url;
  }
}
