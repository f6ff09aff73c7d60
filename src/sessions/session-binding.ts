import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Binds MCP session ids to the principal that created them, without shared
 * state: the client never sees the upstream's session id, but
 * `s1.<upstream id, base64url>.<HMAC-SHA256(secret, principal ∥ upstream id)>`.
 * Any replica holding the same secret can check and unwrap it; a session id
 * presented by another principal (or tampered with) does not verify and is
 * treated as unknown (404), exactly like a session that never existed.
 *
 * Several secrets may be configured for rotation: the first signs, all verify.
 */
export class SessionBinding {
  readonly #secrets: readonly Buffer[];

  constructor(secrets: readonly string[]) {
    this.#secrets = secrets.length > 0 ? secrets.map((secret) => Buffer.from(secret, 'utf8')) : [randomBytes(32)];
  }

  /** True when no secret was configured: ids only verify on this process (not across replicas). */
  static ephemeralWarning = 'no sessions.bindingSecrets configured: session ids are bound with a per-process key and do not survive a restart or work across replicas';

  wrap(upstreamSessionId: string, principalKey: string): string {
    const id = Buffer.from(upstreamSessionId, 'utf8').toString('base64url');
    return `s1.${id}.${this.#mac(this.#secrets[0]!, principalKey, upstreamSessionId)}`;
  }

  /** The upstream session id, or undefined when the id is not ours or not this principal's. */
  unwrap(clientSessionId: string, principalKey: string): string | undefined {
    const parts = clientSessionId.split('.');
    if (parts.length !== 3 || parts[0] !== 's1' || !parts[1] || !parts[2]) return undefined;
    const upstreamSessionId = Buffer.from(parts[1], 'base64url').toString('utf8');
    const presented = Buffer.from(parts[2], 'base64url');
    for (const secret of this.#secrets) {
      const expected = Buffer.from(this.#mac(secret, principalKey, upstreamSessionId), 'base64url');
      if (presented.length === expected.length && timingSafeEqual(presented, expected)) return upstreamSessionId;
    }
    return undefined;
  }

  #mac(secret: Buffer, principalKey: string, upstreamSessionId: string): string {
    // Length-prefixed so that no two (principal, id) pairs produce the same input.
    return createHmac('sha256', secret).update(`${principalKey.length}:${principalKey}|${upstreamSessionId}`).digest('base64url');
  }
}
