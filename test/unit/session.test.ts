import { strict as assert } from 'node:assert';
import { isSignInHop, isSignInUrl } from '../../src/coupa/session';

describe('sign-in pages', () => {
  const base = 'https://acme.coupahost.com';
  it('recognises Coupa sign-in and identity-provider addresses', () => {
    for (const url of [
      `${base}/sessions/new`, `${base}/sessions/new?return_to=%2Forder_headers%2F1`, `${base}/sessions`,
      'https://login.microsoftonline.com/abc/saml2?SAMLRequest=x', 'https://acme.okta.com/app/coupa/exk1/sso/saml',
      'https://sso.acme.com/idp/SSO.saml2', 'https://fed.acme.com/as/authorization.oauth2?client_id=coupa',
      'https://acme.pingfederate.example/idp/startSSO.ping', 'https://id.acme.com/openid/connect/authorize',
    ]) assert.ok(isSignInUrl(url, base), url);
  });

  it('does not take our own pages for sign-in, whatever their query says', () => {
    for (const url of [
      `${base}/order_headers/15262984`, `${base}/requisition_headers/5100001`, `${base}/`, `${base}/user/home`,
      `${base}/order_headers/1?from=login`, `${base}/attachments/1/download?sso=1`, 'about:blank', 'not a url',
    ]) assert.ok(!isSignInUrl(url, base), url);
  });

  it("counts any other host as a sign-in hop of a Coupa page load, but none of Coupa's own pages", () => {
    for (const url of [`${base}/sessions/new`, `${base}/sso/saml`, 'https://idp.corp.example/app/x', 'http://localhost:8080/idp/sso/saml']) {
      assert.ok(isSignInHop(url, base), url);
    }
    for (const url of [`${base}/`, `${base}/order_headers/1?from=login`, 'about:blank', 'data:text/html,x', 'chrome-error://chromewebdata/']) {
      assert.ok(!isSignInHop(url, base), url);
    }
  });
});
