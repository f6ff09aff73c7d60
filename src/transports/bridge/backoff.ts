/** Exponential backoff between restarts of an upstream (config `upstream.restart`). */
export interface BackoffPolicy {
  /** First wait, in ms; doubled after each further failed attempt. */
  initialDelayMs: number;
  /** Longest wait, in ms. */
  maxDelayMs: number;
}

/**
 * The wait before attempt number `attempt` (1 for the first restart): initial,
 * 2 × initial, 4 × initial… capped at `maxDelayMs`. No jitter: each session
 * restarts its own upstream, so there is no herd of clients to spread out.
 */
export function computeBackoffMs(attempt: number, policy: BackoffPolicy): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(policy.initialDelayMs * 2 ** exponent, policy.maxDelayMs);
}
