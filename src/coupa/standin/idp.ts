/**
 * A corporate identity provider on its own origin (the same server, reached as `localhost` while Coupa
 * is `127.0.0.1`), so the browser keeps its cookies in a separate jar, as with Okta or Entra ID:
 *
 *   Coupa  GET  /sessions/new   -> 302 to the provider, carrying where to return (RelayState)
 *   IdP    GET  /idp/sso/saml   -> with a live provider session: a self-submitting form posting an
 *                                  assertion back to Coupa; without one: the provider's sign-in form
 *   IdP    POST /idp/login      -> checks the password, starts the provider session, same form
 *   Coupa  POST /sso/saml       -> redeems the assertion, sets `_coupa_session`, 302 to RelayState
 */
import { randomBytes } from 'node:crypto';
import { errorPage, idpSignInPage, samlPostPage } from './pages';
import { readForm, redirect, safeReturnTo, send, type Exchange } from './http';
import type { Sessions } from './sessions';

export const IDP_COOKIE = 'idp_session';
const IDP_COOKIE_MAX_AGE = 365 * 24 * 3600;

export interface IdentityProviderOptions {
  sessions: Sessions;
  credentials: { email: string; password: string };
  /** Read on every request: the `sso` knob (false = the provider has forgotten everyone). */
  remembers: () => boolean;
  /** The `Set-Cookie` value of a new Coupa session, and of the provider session Coupa itself models. */
  coupaCookies: (email: string) => string[];
  wait: () => Promise<void>;
}

export class IdentityProvider {
  coupaUrl = '';
  idpUrl = '';

  constructor(private readonly options: IdentityProviderOptions) {}

  /** Where Coupa's sign-in sends a browser that must come back to `returnTo`. */
  signInUrl(returnTo: string): string {
    const request = randomBytes(12).toString('base64url');
    return `${this.idpUrl}/idp/sso/saml?SAMLRequest=${request}&RelayState=${encodeURIComponent(returnTo)}`;
  }

  /** Every request to the provider's origin. */
  async handle(ex: Exchange): Promise<void> {
    const { req, url } = ex;
    if (url.pathname === '/idp/sso/saml' && (req.method === 'GET' || req.method === 'HEAD')) return this.authorize(ex);
    if (url.pathname === '/idp/login' && req.method === 'POST') return this.signIn(ex);
    send(ex, 404, errorPage('Not found.'));
  }

  private async authorize(ex: Exchange): Promise<void> {
    const relayState = safeReturnTo(ex.url.searchParams.get('RelayState'));
    const email = this.options.remembers() ? this.options.sessions.idpEmail(ex.cookies.get(IDP_COOKIE)) : undefined;
    await this.options.wait();
    if (email === undefined) return send(ex, 200, idpSignInPage(relayState));
    send(ex, 200, samlPostPage(`${this.coupaUrl}/sso/saml`, this.options.sessions.issueAssertion(email), relayState));
  }

  private async signIn(ex: Exchange): Promise<void> {
    const form = await readForm(ex.req);
    if (!form) return send(ex, 413, errorPage('The request is too large.'));
    const email = (form.get('username') ?? '').trim();
    const relayState = safeReturnTo(form.get('RelayState'));
    const { credentials, sessions } = this.options;
    await this.options.wait();
    if (email.toLowerCase() !== credentials.email.toLowerCase() || form.get('password') !== credentials.password) {
      return send(ex, 200, idpSignInPage(relayState, { error: true, email }));
    }
    const cookie = `${IDP_COOKIE}=${sessions.createIdp(credentials.email)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${IDP_COOKIE_MAX_AGE}`;
    send(ex, 200, samlPostPage(`${this.coupaUrl}/sso/saml`, sessions.issueAssertion(credentials.email), relayState), { 'Set-Cookie': cookie });
  }

  /** Coupa's assertion consumer, on Coupa's origin. */
  async consume(ex: Exchange): Promise<void> {
    const form = await readForm(ex.req);
    if (!form) return send(ex, 413, errorPage('The request is too large.'));
    const email = this.options.sessions.redeemAssertion(form.get('SAMLResponse'));
    if (email === undefined) return send(ex, 403, errorPage('You are not authorized: the sign-in assertion is not valid.'));
    redirect(ex, safeReturnTo(form.get('RelayState')), this.options.coupaCookies(email));
  }
}
