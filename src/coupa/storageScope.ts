/**
 * Which of a profile's cookies a worker's session may carry: those of the Coupa tenant and of its
 * identity provider, and no others. A person's profile holds cookies of every site they used in it;
 * a context on a shared or remote browser should not carry them all.
 *
 * The rule: keep a cookie that the browser would send to the tenant's host or to a host that the
 * tenant's sign-in redirects to (its identity provider, found by asking `/sessions/new` without any
 * cookie), and the local storage of those hosts' origins.
 */
import type { BrowserStorageState } from '../protocol/workerMessages';
import { trimBase } from './session';

const MAX_HOPS = 5;

/** The tenant's host and the hosts its sign-in sends a stranger to; the tenant alone when they cannot be asked. */
export async function sessionHosts(baseUrl: string, timeoutMs = 5_000): Promise<string[]> {
  const tenant = new URL(baseUrl).hostname;
  const hosts = new Set([tenant]);
  const until = Date.now() + timeoutMs;
  let url = `${trimBase(baseUrl)}/sessions/new`;
  try {
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(Math.max(1, until - Date.now())) });
      await res.body?.cancel();
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) break;
      url = new URL(location, url).toString();
      hosts.add(new URL(url).hostname);
    }
  } catch {
    // Coupa unreachable now: the tenant's own cookies still travel, and the session check says the rest.
  }
  return [...hosts];
}

/** True when a cookie set for `domain` goes to `host` (the domain itself or, for a domain cookie, a subdomain). */
function cookieGoesTo(domain: string, host: string): boolean {
  const bare = domain.replace(/^\./, '').toLowerCase();
  return host === bare || host.endsWith(`.${bare}`);
}

export function scopeStorageState(state: BrowserStorageState, hosts: string[]): BrowserStorageState {
  const wanted = hosts.map((h) => h.toLowerCase());
  return {
    cookies: state.cookies.filter((c) => wanted.some((h) => cookieGoesTo(c.domain, h))),
    origins: state.origins.filter((o) => {
      try {
        return wanted.includes(new URL(o.origin).hostname.toLowerCase());
      } catch {
        return false;
      }
    }),
  };
}
