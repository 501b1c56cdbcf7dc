/**
 * Coupa sessions (`_coupa_session`), identity-provider sessions (`idp_session`) and the one-time
 * assertions the provider hands Coupa when it signs a user in. Ended Coupa sessions are remembered,
 * because some tenants answer an expired session differently from a missing one (with the generic
 * error page a missing PO gets). Time comes from the stand-in's clock, so tests can move it instead of
 * sleeping.
 */
import { randomBytes } from 'node:crypto';

export type SessionCheck = { state: 'valid'; email: string } | { state: 'expired' } | { state: 'missing' };

interface CoupaSession {
  email: string;
  createdAt: number;
  ended: boolean;
}

const MAX_REMEMBERED = 100_000;
/** A SAML assertion is good for a short while only, as real providers issue them. */
const ASSERTION_LIFETIME_MS = 60_000;

export class Sessions {
  private readonly coupa = new Map<string, CoupaSession>();
  private readonly idp = new Map<string, string>();
  private readonly assertions = new Map<string, { email: string; issuedAt: number }>();

  /** `lifetimeSec` is read on every check, so changing the knob applies to sessions already open. */
  constructor(private readonly lifetimeSec: () => number, private readonly now: () => number) {}

  check(id: string | undefined): SessionCheck {
    const session = id === undefined ? undefined : this.coupa.get(id);
    if (!session) return { state: 'missing' };
    const lifetime = this.lifetimeSec();
    // Absolute lifetime from sign-in, not idle time: a busy worker must meet expiry too.
    if (lifetime > 0 && this.now() - session.createdAt >= lifetime * 1000) session.ended = true;
    return session.ended ? { state: 'expired' } : { state: 'valid', email: session.email };
  }

  create(email: string): string {
    const id = newId();
    this.coupa.set(id, { email, createdAt: this.now(), ended: false });
    forgetOldest(this.coupa);
    return id;
  }

  createIdp(email: string): string {
    const id = newId();
    this.idp.set(id, email);
    forgetOldest(this.idp);
    return id;
  }

  idpEmail(id: string | undefined): string | undefined {
    return id === undefined ? undefined : this.idp.get(id);
  }

  issueAssertion(email: string): string {
    const id = newId();
    this.assertions.set(id, { email, issuedAt: this.now() });
    forgetOldest(this.assertions);
    return id;
  }

  /** The user an assertion vouches for; each one signs in once. */
  redeemAssertion(id: string | null): string | undefined {
    const assertion = id === null ? undefined : this.assertions.get(id);
    if (!assertion) return undefined;
    this.assertions.delete(id!);
    return this.now() - assertion.issuedAt < ASSERTION_LIFETIME_MS ? assertion.email : undefined;
  }

  expireAll(): void {
    for (const session of this.coupa.values()) session.ended = true;
  }
}

function newId(): string {
  return randomBytes(16).toString('hex');
}

function forgetOldest(map: Map<string, unknown>): void {
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as string);
}
