// Which bucket a request addresses by its Host: virtual-hosted style (`bucket.D`, for a domain D the server was
// told it serves) or path style (`D/bucket/key`, or an IP address). Rule it never breaks: a Host that names a
// subdomain of nothing the server knows is refused, never read as path style, so `PUT /key` sent to
// `bucket.unknown` can never create a bucket named `key`.
import { InvalidRequestError } from '../core/errors';

export type Addressing =
  | { readonly style: 'path' }
  | { readonly style: 'virtual'; readonly bucket: string }
  | { readonly style: 'unknown'; readonly host: string };

/** The Host header's name: lower case, without the port; undefined for an IP literal or no Host at all. */
function hostName(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined || hostHeader === '') return undefined;
  // [IPv6]:port, or an IPv6 literal some clients send bare.
  if (hostHeader.startsWith('[') || hostHeader.split(':').length > 2) return undefined;
  const name = hostHeader.replace(/:\d*$/, '').replace(/\.$/, '').toLowerCase();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return undefined;
  return name;
}

/** Normalises a configured domain the same way as a Host (lower case, no trailing dot, no port). */
export function normalizeDomain(domain: string): string {
  return domain.trim().replace(/:\d*$/, '').replace(/\.$/, '').toLowerCase();
}

/**
 * Decides the addressing of one request. `domains` are the names the server is reached by; the longest one that
 * the Host ends with wins (so with both `example.com` and `s3.example.com`, `b.s3.example.com` is bucket `b`).
 */
export function addressingOf(hostHeader: string | undefined, domains: readonly string[]): Addressing {
  const name = hostName(hostHeader);
  if (name === undefined) return { style: 'path' };
  let best: string | undefined;
  for (const domain of domains) {
    if (name === domain) return { style: 'path' };
    if (name.endsWith(`.${domain}`) && (best === undefined || domain.length > best.length)) best = domain;
  }
  if (best !== undefined) return { style: 'virtual', bucket: name.slice(0, name.length - best.length - 1) };
  // A single label ("sealstore", a container's service name) cannot be a bucket subdomain: path style.
  if (!name.includes('.')) return { style: 'path' };
  return { style: 'unknown', host: name };
}

/** The refusal for a Host the server does not serve: says how to make either style work. */
export function unknownHostError(host: string, domains: readonly string[]): InvalidRequestError {
  const parent = host.slice(host.indexOf('.') + 1);
  return new InvalidRequestError(
    `This server does not serve the host name ${host}: it serves buckets as subdomains of ${domains.join(', ')} only. ` +
      `For virtual-hosted-style requests (bucket.${parent}), start it with --domain ${parent} (or SEALSTORE_DOMAIN); ` +
      `for path-style requests, address it by one of those names or by IP address, or start it with --domain ${host}.`,
  );
}
