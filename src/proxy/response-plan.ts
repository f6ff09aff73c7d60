import type { Readable, Transform, Writable } from 'node:stream';
import { pump } from './pump.js';
import { SseKeepAlive, type SseKeepAliveOptions } from './sse-keepalive.js';

/** How a response body goes to the client, decided once the upstream's status and headers are known. */
export interface ResponsePlan {
  /** Stream stages between the upstream and the client (list filtering); none streams the body through untouched. */
  transforms: Transform[];
  /** Sees every body chunk as the upstream sent it, without being a stream stage (the audit's outcome tap). */
  observe?: (chunk: Buffer) => void;
  /** For SSE responses: keep-alive comments and the idle timeout, also without a stage of its own. */
  sse?: SseKeepAliveOptions;
}

/**
 * Streams `body` to `client` as `plan` says: observers and the SSE keep-alive
 * watch the chunks go by, only the plan's transforms are stages. Settles like
 * `pump`: when the client's stream has finished, or rejects when any part failed.
 */
export function streamResponse(body: Readable, plan: ResponsePlan | undefined, client: Writable): Promise<void> {
  const transforms = plan?.transforms ?? [];
  if (plan?.observe) body.on('data', plan.observe);
  if (plan?.sse) new SseKeepAlive(plan.sse, { input: body, output: transforms.at(-1) ?? body, client });
  return pump([body, ...transforms, client]);
}
