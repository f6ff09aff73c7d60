import { createHash } from 'node:crypto';
import type { OAuthClient } from './client-metadata.js';
import { isLocalRedirect } from './redirect-uri.js';

/**
 * The facade's only HTML: the consent page and the error page. Server-rendered, every value
 * escaped, no script. Headers forbid framing (clickjacking on the Approve button) and caching.
 */
const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0;word-break:break-all}
.warn{background:#fff4d6;border-left:4px solid #e0a800;padding:.6rem .8rem}.actions{display:flex;gap:1rem;margin-top:1.5rem}
button{font:inherit;padding:.5rem 1.4rem;border-radius:.3rem;border:1px solid #555;background:#fff;cursor:pointer}button.primary{background:#1a4fd6;color:#fff;border-color:#1a4fd6}`;
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** Headers of every facade page: no framing (CSP frame-ancestors and, for older browsers, X-Frame-Options), no caching, no referrer. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'`,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>\n`;
}

export interface ConsentPageInput {
  client: OAuthClient;
  redirectUri: string;
  scopes: readonly string[];
  resourceName: string;
  resourceUrl: string;
  identityProviderHost: string;
  consentAction: string;
  requestId: string;
  csrfToken: string;
}

/**
 * The per-client consent, shown before the user is sent to the identity provider (the MCP
 * confused-deputy rule): which client (name, and the host of its client id or "registered
 * dynamically"), where the answer goes (the redirect host, with a warning for local ones, MCP
 * "Localhost Redirect URI Risks"), what it may do (scopes), and where the login happens.
 */
export function renderConsentPage(input: ConsentPageInput): string {
  const { client } = input;
  const redirect = new URL(input.redirectUri);
  const redirectHost = redirect.host || redirect.protocol;
  const clientSource = client.kind === 'metadata-document'
    ? `published at ${new URL(client.clientId).host}`
    : 'registered dynamically; its name is self-declared and not verified';
  const name = client.clientName ?? (client.kind === 'metadata-document' ? new URL(client.clientId).host : 'An unnamed application');
  const scopeList = input.scopes.length > 0 ? input.scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(', ') : 'no specific permissions';
  const warning = isLocalRedirect(input.redirectUri)
    ? `<p class="warn">The answer goes to an application on your own computer (<strong>${escapeHtml(redirectHost)}</strong>). Approve only if you started this application yourself just now.</p>`
    : '';
  return page(
    `Authorize ${name}?`,
    `<h1>Allow <strong>${escapeHtml(name)}</strong> to use ${escapeHtml(input.resourceName)} as you?</h1>
<dl>
<dt>Application</dt><dd>${escapeHtml(name)} <small>(${escapeHtml(clientSource)})</small></dd>
<dt>Client id</dt><dd><code>${escapeHtml(client.clientId)}</code></dd>
<dt>Answer goes to</dt><dd><strong>${escapeHtml(redirectHost)}</strong></dd>
<dt>Permissions</dt><dd>${scopeList}</dd>
<dt>Server</dt><dd>${escapeHtml(input.resourceUrl)}</dd>
</dl>
${warning}
<p>If you approve, you will sign in at <strong>${escapeHtml(input.identityProviderHost)}</strong>.</p>
<form method="post" action="${escapeHtml(input.consentAction)}" class="actions">
<input type="hidden" name="request_id" value="${escapeHtml(input.requestId)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(input.csrfToken)}">
<button type="submit" name="decision" value="approve" class="primary">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

/** For errors that must not be redirected (unknown client, unregistered redirect URI, expired or replayed state…). */
export function renderErrorPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>\n<p>Return to the application and start again.</p>`);
}
