import type { Logger } from '../log/index.js';
import { sha256, type TaggedSecrets } from './secrets.js';
import type { EphemeralStore } from './store/index.js';

/** What an authorization code stands for: the validated request and who approved it and logged in. */
export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  codeChallenge: string;
  scopes: string[];
  resource: string;
  subject: string;
  claims: Record<string, unknown>;
  authTime: number;
  /** Whether the client was registered (or documented) for the refresh_token grant. */
  refreshTokens: boolean;
}

export type CodeEntry = { grant: CodeGrant; consumed?: undefined } | { consumed: true; familyId?: string | undefined };

export type Redemption =
  | { kind: 'valid'; grant: CodeGrant; codeKey: string }
  /** Already redeemed once: RFC 6749 §4.1.2 — refuse, and revoke what the first redemption issued. */
  | { kind: 'replayed'; familyId: string | undefined }
  | { kind: 'unknown' };

/** How long a redeemed code is remembered, to recognise a replay and revoke what it issued. */
const REPLAY_MEMORY_MS = 10 * 60 * 1000;

/**
 * Authorization codes: 256 random bits behind the issuing process's tag, single-use, short-lived,
 * bound to client, redirect URI, PKCE challenge and resource. Stored by hash only.
 */
export function createAuthorizationCodes({ store, ttlMs, secrets, logger }: { store: EphemeralStore<CodeEntry>; ttlMs: number; secrets: TaggedSecrets; logger: Logger }) {
  return {
    async issue(grant: CodeGrant): Promise<string> {
      const code = secrets.next();
      await store.set(sha256(code), { grant }, ttlMs);
      return code;
    },

    async redeem(code: string): Promise<Redemption> {
      const codeKey = sha256(code);
      const entry = await store.take(codeKey);
      if (!entry) {
        const tag = secrets.foreignTag(code);
        if (tag) logger.warn({ issuedBy: tag }, 'authorization code issued by another replica: route clients to one replica or use a shared store');
        return { kind: 'unknown' };
      }
      await store.set(codeKey, entry.consumed ? entry : { consumed: true }, REPLAY_MEMORY_MS);
      if (entry.consumed) return { kind: 'replayed', familyId: entry.familyId };
      return { kind: 'valid', grant: entry.grant, codeKey };
    },

    /** Remembers which refresh token family a redemption created, so a replay can revoke it. */
    async linkFamily(codeKey: string, familyId: string): Promise<void> {
      await store.set(codeKey, { consumed: true, familyId }, REPLAY_MEMORY_MS);
    },
  };
}
export type AuthorizationCodes = ReturnType<typeof createAuthorizationCodes>;
