/**
 * Coupa sessions (`_coupa_session`) and identity-provider sessions (`idp_session`). Ended Coupa
 * sessions are remembered, because the stand-in must answer an expired session differently from a
 * missing one (the error-page pitfall).
 */
import { randomBytes } from 'node:crypto';

export type SessionCheck = { state: 'valid'; email: string } | { state: 'expired' } | { state: 'missing' };

interface CoupaSession {
  email: string;
  createdAt: number;
  ended: boolean;
}

const MAX_REMEMBERED = 100_000;

export class Sessions {
  private readonly coupa = new Map<string, CoupaSession>();
  private readonly idp = new Map<string, string>();

  /** `lifetimeSec` is read on every check, so changing the knob applies to sessions already open. */
  constructor(private readonly lifetimeSec: () => number) {}

  check(id: string | undefined): SessionCheck {
    const session = id === undefined ? undefined : this.coupa.get(id);
    if (!session) return { state: 'missing' };
    const lifetime = this.lifetimeSec();
    // Absolute lifetime from sign-in, not idle time: a busy worker must meet expiry too.
    if (lifetime > 0 && Date.now() - session.createdAt >= lifetime * 1000) session.ended = true;
    return session.ended ? { state: 'expired' } : { state: 'valid', email: session.email };
  }

  create(email: string): string {
    const id = randomBytes(16).toString('hex');
    this.coupa.set(id, { email, createdAt: Date.now(), ended: false });
    forgetOldest(this.coupa);
    return id;
  }

  createIdp(email: string): string {
    const id = randomBytes(16).toString('hex');
    this.idp.set(id, email);
    forgetOldest(this.idp);
    return id;
  }

  idpEmail(id: string | undefined): string | undefined {
    return id === undefined ? undefined : this.idp.get(id);
  }

  expireAll(): void {
    for (const session of this.coupa.values()) session.ended = true;
  }
}

function forgetOldest(map: Map<string, unknown>): void {
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as string);
}
