import { describe, expect, it, vi } from 'vitest';
import { TokenSlot, type IssuedToken } from '../../../src/upstream-auth/index.js';

function setup({ refreshBeforeExpiryMs = 10_000, cooldownMs = 1000 } = {}) {
  let now = 1_000_000;
  const failures: unknown[] = [];
  const slot = new TokenSlot({
    refreshBeforeExpiryMs,
    rejectionRenewalCooldownMs: cooldownMs,
    now: () => now,
    onBackgroundFailure: (error) => failures.push(error),
  });
  let issued = 0;
  const fetchToken = vi.fn(async (): Promise<IssuedToken> => {
    issued += 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { value: `token-${issued}`, obtainedAtMs: now, expiresAtMs: now + 60_000 };
  });
  return { slot, fetchToken, failures, advance: (ms: number) => (now += ms) };
}

describe('TokenSlot', () => {
  it('fetches once for concurrent callers and reuses the token until its refresh time', async () => {
    const { slot, fetchToken, advance } = setup();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => slot.get(fetchToken)));
    expect(new Set(tokens.map((token) => token.value))).toEqual(new Set(['token-1']));
    advance(49_000);
    expect((await slot.get(fetchToken)).value).toBe('token-1');
    expect(fetchToken).toHaveBeenCalledTimes(1);
  });

  it('between refresh time and expiry: serves the valid token and renews once in the background', async () => {
    const { slot, fetchToken, advance } = setup();
    await slot.get(fetchToken);
    advance(51_000);
    const during = await Promise.all(Array.from({ length: 20 }, () => slot.get(fetchToken)));
    expect(during.every((token) => token.value === 'token-1')).toBe(true);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await slot.get(fetchToken)).value).toBe('token-2');
  });

  it('a failed background renewal is reported and the valid token keeps being used', async () => {
    const { slot, fetchToken, failures, advance } = setup();
    await slot.get(fetchToken);
    advance(55_000);
    fetchToken.mockRejectedValueOnce(new Error('AS down'));
    expect((await slot.get(fetchToken)).value).toBe('token-1');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(failures).toHaveLength(1);
  });

  it('after expiry callers wait for one renewal; a failed one rejects all of them', async () => {
    const { slot, fetchToken, advance } = setup();
    await slot.get(fetchToken);
    advance(61_000);
    fetchToken.mockRejectedValueOnce(new Error('AS down'));
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => slot.get(fetchToken)));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect((await slot.get(fetchToken)).value).toBe('token-2');
  });

  it('caps the refresh margin at half the token lifetime', async () => {
    const { slot, advance } = setup({ refreshBeforeExpiryMs: 60_000 });
    const shortLived = vi.fn(async (): Promise<IssuedToken> => ({ value: 'short', obtainedAtMs: 1_000_000, expiresAtMs: 1_010_000 }));
    await slot.get(shortLived);
    advance(4_000);
    await slot.get(shortLived);
    expect(shortLived).toHaveBeenCalledTimes(1);
  });

  it('renews once after a rejection; concurrent rejections of the same token share it', async () => {
    const { slot, fetchToken } = setup();
    const rejected = await slot.get(fetchToken);
    const renewed = await Promise.all(Array.from({ length: 50 }, () => slot.renewAfterRejection(rejected, fetchToken)));
    expect(new Set(renewed.map((token) => token?.value))).toEqual(new Set(['token-2']));
    expect(fetchToken).toHaveBeenCalledTimes(2);
    // A late rejection of the old token gets the current one, without a fetch.
    expect((await slot.renewAfterRejection(rejected, fetchToken))?.value).toBe('token-2');
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  it('does not renew a token that was itself just renewed after a rejection (no storm); does after the cooldown', async () => {
    const { slot, fetchToken, advance } = setup({ cooldownMs: 5000 });
    const first = await slot.get(fetchToken);
    const second = await slot.renewAfterRejection(first, fetchToken);
    expect(await slot.renewAfterRejection(second!, fetchToken)).toBeUndefined();
    advance(5000);
    expect((await slot.renewAfterRejection(second!, fetchToken))?.value).toBe('token-3');
  });
});
