/**
 * Where the facade's endpoints are, all derived from its issuer identifier (built once). RFC 8414
 * §3: the metadata is at /.well-known/oauth-authorization-server with the issuer's path appended;
 * the OpenID Connect Discovery locations (path inserted and path appended) serve the same
 * document, since MCP clients try them too.
 */
export interface FacadeEndpoints {
  issuer: string;
  /** Paths on this gateway (for routing). */
  paths: {
    metadata: string[];
    authorize: string;
    consent: string;
    callback: string;
    token: string;
    register: string;
    revoke: string;
    jwks: string;
  };
  /** Absolute URLs (for the metadata document and redirects). */
  urls: { authorize: string; consent: string; callback: string; token: string; register: string; revoke: string; jwks: string };
}

export function buildFacadeEndpoints(issuer: string): FacadeEndpoints {
  const url = new URL(issuer);
  const issuerPath = url.pathname.replace(/\/+$/, '');
  const base = `${issuerPath}/oauth`;
  const paths = {
    metadata: [
      `/.well-known/oauth-authorization-server${issuerPath}`,
      `/.well-known/openid-configuration${issuerPath}`,
      ...(issuerPath ? [`${issuerPath}/.well-known/openid-configuration`] : []),
    ],
    authorize: `${base}/authorize`,
    consent: `${base}/consent`,
    callback: `${base}/callback`,
    token: `${base}/token`,
    register: `${base}/register`,
    revoke: `${base}/revoke`,
    jwks: `${base}/jwks`,
  };
  const absolute = (path: string) => `${url.origin}${path}`;
  return {
    issuer,
    paths,
    urls: {
      authorize: absolute(paths.authorize),
      consent: absolute(paths.consent),
      callback: absolute(paths.callback),
      token: absolute(paths.token),
      register: absolute(paths.register),
      revoke: absolute(paths.revoke),
      jwks: absolute(paths.jwks),
    },
  };
}
