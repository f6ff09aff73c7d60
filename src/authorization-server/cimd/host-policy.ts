/**
 * The domain trust policy for client ID metadata documents (CIMD §8.11, MCP "Trust Policies"):
 * a deny list checked first, then, when not empty, an allow list. A pattern is a host name, or
 * `*.example.com` for any subdomain of example.com (not example.com itself).
 */
export type HostPolicy = (hostname: string) => boolean;

function matches(pattern: string, hostname: string): boolean {
  if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1;
  return hostname === pattern;
}

export function createHostPolicy({ allowedHosts, deniedHosts }: { allowedHosts: readonly string[]; deniedHosts: readonly string[] }): HostPolicy {
  return (hostname) => {
    const host = hostname.toLowerCase();
    if (deniedHosts.some((pattern) => matches(pattern, host))) return false;
    return allowedHosts.length === 0 || allowedHosts.some((pattern) => matches(pattern, host));
  };
}
