/**
 * A minimal headless browser for authorizations that show a page: it follows redirects with a
 * cookie jar per origin, and answers the gateway's consent page (a form with hidden fields) by
 * submitting it with the chosen decision. The demo identity provider logs its user in without a
 * page. Used by the demo and the tests with the authorization server facade.
 */
import { DemoOAuthError } from './authorization-server.js';

export interface AuthorizationResult {
  code?: string;
  state?: string;
  iss?: string;
  error?: string;
}

export interface ConsentPage {
  url: URL;
  html: string;
  action: URL;
  fields: Record<string, string>;
}

export interface HeadlessBrowserOptions {
  /** What the "user" clicks on a consent page; default approve. */
  decision?: 'approve' | 'deny';
  /** Sees (and may change) each consent page's form before it is submitted, e.g. to tamper with the CSRF token. */
  onConsentPage?: (page: ConsentPage) => void;
}

const MAX_HOPS = 20;

function decodeHtml(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name]!);
}

/** The first POST form of a page: its action and hidden fields. */
export function parseForm(html: string, base: URL): { action: URL; fields: Record<string, string> } | undefined {
  const form = /<form[^>]*method="post"[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]*)"[^>]*value="([^"]*)"[^>]*>/gi)) {
    fields[decodeHtml(input[1]!)] = decodeHtml(input[2]!);
  }
  return { action: new URL(decodeHtml(form[1]!), base), fields };
}

export class HeadlessBrowser {
  /** Cookies by origin, then name. Secure and SameSite are not modelled: one user, one tab. */
  readonly cookies = new Map<string, Map<string, string>>();
  /** Every URL requested, in order (tests check where the user was sent, and when). */
  readonly visited: URL[] = [];

  constructor(private readonly options: HeadlessBrowserOptions = {}) {}

  /**
   * Opens the authorization URL and follows the flow until the redirect to `redirectUri`; returns
   * the parameters of that redirect (code, or error). Throws DemoOAuthError when a page other
   * than a consent page stops the flow.
   */
  async authorize(authorizationUrl: URL | string, redirectUri: string): Promise<AuthorizationResult> {
    const target = new URL(redirectUri);
    let request: { url: URL; method: 'GET' | 'POST'; body?: URLSearchParams } = { url: new URL(authorizationUrl), method: 'GET' };
    for (let hop = 0; hop < MAX_HOPS; hop += 1) {
      const response = await this.send(request.url, request.method, request.body);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        const next = new URL(location, request.url);
        if (next.origin === target.origin && next.pathname === target.pathname) {
          this.visited.push(next);
          const params = next.searchParams;
          return {
            ...(params.get('code') !== null ? { code: params.get('code')! } : {}),
            ...(params.get('state') !== null ? { state: params.get('state')! } : {}),
            ...(params.get('iss') !== null ? { iss: params.get('iss')! } : {}),
            ...(params.get('error') !== null ? { error: params.get('error')! } : {}),
          };
        }
        request = { url: next, method: 'GET' };
        continue;
      }
      const html = await response.text();
      const form = response.status === 200 && response.headers.get('content-type')?.startsWith('text/html') ? parseForm(html, request.url) : undefined;
      if (!form) throw new DemoOAuthError(`http_${response.status}`, html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300));
      const page: ConsentPage = { url: request.url, html, ...form };
      this.options.onConsentPage?.(page);
      request = { url: page.action, method: 'POST', body: new URLSearchParams({ ...page.fields, decision: this.options.decision ?? 'approve' }) };
    }
    throw new DemoOAuthError('too_many_redirects', `no redirect to ${target.origin}${target.pathname}`);
  }

  /** One request with this browser's cookies for the origin; stores the cookies it sets. */
  async send(url: URL, method: 'GET' | 'POST' = 'GET', body?: URLSearchParams): Promise<Response> {
    this.visited.push(url);
    const jar = this.cookies.get(url.origin) ?? new Map<string, string>();
    const headers: Record<string, string> = {};
    if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method, headers, redirect: 'manual', ...(body ? { body } : {}) });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';', 1);
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const value = pair.slice(eq + 1).trim();
      if (value) jar.set(pair.slice(0, eq).trim(), value);
      else jar.delete(pair.slice(0, eq).trim());
    }
    this.cookies.set(url.origin, jar);
    return response;
  }
}
