import type { AppliedCredential, ServiceCredential } from './service-credential.js';

/** No credential: the upstream needs none. */
export function createNoCredential(): ServiceCredential {
  const applied: AppliedCredential = { headers: {} };
  return {
    kind: 'none',
    apply: async () => applied,
    describe: () => ({ kind: 'none' }),
    start: async () => {},
    stop: () => {},
    state: { status: 'ready' },
  };
}

/** A fixed header (an API key, a long-lived service token). It cannot be renewed: an upstream 401 becomes a 502. */
export function createStaticCredential({ header, value }: { header: string; value: string }): ServiceCredential {
  const name = header.toLowerCase();
  const applied: AppliedCredential = { headers: { [name]: value } };
  const identity = { kind: 'static', header } as const;
  return {
    kind: 'static',
    apply: async () => applied,
    describe: () => identity,
    start: async () => {},
    stop: () => {},
    state: { status: 'ready' },
  };
}
