/** What every scenario is given: the running servers, the token files, the options. */
import type { GatewayReady } from './gateway-process.js';
import type { LoadGeneratorName } from './load-generator.js';
import type { Pinning, ServerProcess } from './processes.js';

/** The servers compared, in the order the report lists them. */
export const TARGETS = ['direct', 'bare-proxy', 'reference', 'gateway'] as const;
export type TargetName = (typeof TARGETS)[number];

export const TARGET_LABELS: Record<TargetName, string> = {
  direct: 'upstream direct',
  'bare-proxy': 'bare Node proxy (node:http + undici, no auth)',
  reference: 'Express 5 + SDK requireBearerAuth + http-proxy-middleware',
  gateway: 'mcp-auth-gateway (full path)',
};

export interface BenchOptions {
  quick: boolean;
  rounds: number;
  /** Seconds per saturation run. */
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  /** Fixed-rate latency: requests per second, seconds per target and round, rounds, payloads. */
  rate: number;
  rateSeconds: number;
  rateRounds: number;
  ratePayloads: Array<'json' | 'sse'>;
  firstEventCount: number;
  streams: number;
  holdSeconds: number;
  rssSampleSeconds: number;
  largeSeconds: number;
  largeConnections: number;
  largeTimingCount: number;
  startupRuns: number;
  scenarios: string[];
  out: string | undefined;
  /** --profile: the gateway runs with --cpu-prof and writes its profile here. */
  profileDir: string | undefined;
  /** --baseline: another checkout whose built gateway this one is compared with (scenario baseline). */
  baselineDir: string | undefined;
  build: boolean;
}

export interface BenchContext {
  options: BenchOptions;
  pinning: Pinning;
  generator: LoadGeneratorName;
  workDir: string;
  /** The MCP endpoint URL of each target. */
  urls: Record<TargetName, string>;
  /** The process that does the target's work (for direct: the upstream). */
  pids: Record<TargetName, number>;
  upstreamPid: number;
  gateway: ServerProcess<GatewayReady>;
  gatewayConfigFile: string;
  tokenFiles: { one: string; many: string };
  log(line: string): void;
}
