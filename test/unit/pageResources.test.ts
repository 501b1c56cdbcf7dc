import { strict as assert } from 'node:assert';
import { PageResourceFilter, type RequestFacts } from '../../src/coupa/pageResources';

const TENANT = 'https://acme.coupahost.com';
const IDP = 'https://login.acme-idp.com';

describe('page resources: what a worker\'s tab loads', () => {
  const ask = (filter: PageResourceFilter, over: Partial<RequestFacts>) =>
    filter.needed({ url: `${TENANT}/x`, resourceType: 'script', tabNavigation: false, pageUrl: `${TENANT}/order_headers/1`, ...over });

  it('refuses images, fonts and media, even the tenant\'s own', () => {
    const f = new PageResourceFilter(TENANT);
    for (const resourceType of ['image', 'font', 'media']) assert.equal(ask(f, { resourceType, url: `${TENANT}/assets/a` }), false, resourceType);
    for (const resourceType of ['script', 'stylesheet', 'xhr', 'fetch', 'document']) assert.equal(ask(f, { resourceType }), true, resourceType);
  });

  it('refuses what a Coupa page asks of other hosts, but never a navigation of the tab itself', () => {
    const f = new PageResourceFilter(TENANT);
    assert.equal(ask(f, { url: 'https://analytics.example.net/t.js' }), false);
    assert.equal(ask(f, { url: 'https://chat.example.net/', resourceType: 'document' }), false, 'a third-party frame');
    assert.equal(ask(f, { url: 'https://s3.amazonaws.com/bucket/file.pdf', resourceType: 'document', tabNavigation: true }), true, 'an attachment redirected to storage');
    assert.equal(ask(f, { url: 'data:text/plain,x' }), true);
  });

  it('lets the identity provider\'s pages load what they need, and its host once a tab was sent there', () => {
    const f = new PageResourceFilter(TENANT);
    assert.equal(ask(f, { url: 'https://cdn.idp-static.com/login.js', pageUrl: `${IDP}/saml` }), true, 'asked by the provider\'s page');
    assert.equal(ask(f, { url: `${IDP}/keepalive` }), false, 'not yet known as the provider');
    assert.equal(ask(f, { url: `${IDP}/saml?SAMLRequest=1`, resourceType: 'document', tabNavigation: true }), true);
    assert.equal(ask(f, { url: `${IDP}/keepalive` }), true, 'the host a tab was sent to');
    assert.equal(ask(f, { url: `${IDP}/logo.png`, resourceType: 'image', pageUrl: `${IDP}/saml` }), false);
  });
});
