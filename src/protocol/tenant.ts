/** Which Coupa a task belongs to: the same PO number on two tenants is two different POs. */

/** The embedded stand-in: its address changes with every start, its POs do not. */
export const DEMO_TENANT = 'demo';

/** `https://ACME.coupahost.com/` and `https://acme.coupahost.com` are one tenant: its origin, lower case. */
export function tenantOf(coupaUrl: string): string {
  try {
    return new URL(coupaUrl).origin.toLowerCase();
  } catch {
    return coupaUrl.trim().replace(/\/+$/, '').toLowerCase();
  }
}
