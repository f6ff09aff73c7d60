/** The test-only PKI in test/fixtures/tls (see generate.sh there): a CA, a server and a client certificate. */
import { readFileSync } from 'node:fs';

const read = (name: string) => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), 'utf8');

export const TLS = {
  ca: read('ca.crt'),
  serverCertificate: read('server.crt'),
  serverKey: read('server.key'),
  clientCertificate: read('client.crt'),
  clientKey: read('client.key'),
};
