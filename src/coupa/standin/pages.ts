/**
 * The HTML the stand-in answers with, shaped like the pages of real Coupa tenants: the
 * sign-in form, the dashboard, PO and requisition pages, and the error pages a client must recognise.
 */
import type { AttachmentRecord, PoRecord } from './catalog';

export const NOT_FOUND_TEXT = "Oops! We couldn't find what you wanted.";
export const NOT_AUTHORIZED_TEXT = 'You are not authorized to view this page.';
export const INVALID_LOGIN_TEXT = 'Invalid email or password.';

/**
 * Escapes text for element content and double-quoted attribute values (the only kind written here, so
 * `'` stays as it is and "couldn't" reads the same in the source). Control characters become character
 * references so they reach the DOM (a NUL cannot: parsers turn it into U+FFFD).
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => {
    switch (c) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      default: return `&#${c.charCodeAt(0)};`;
    }
  });
}

const STYLE = `
@font-face { font-family: "Coupa Sans"; src: url(/assets/coupa-sans.woff2) format("woff2"); }
body { font-family: sans-serif; margin: 0; }
#top_nav { background: #1d3b5c; color: #fff; padding: 8px 16px; font-family: "Coupa Sans", sans-serif; }
#top_nav img { vertical-align: middle; }
#top_nav a { color: #fff; margin-left: 16px; }
#pageContentWrapper { padding: 16px 24px; }
.flash_error { background: #fde4e1; border: 1px solid #d9534f; padding: 8px 12px; margin: 12px 0; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
.attachments ul { list-style: none; padding: 0; }
.attachments li { margin: 6px 0; }
span.attachment-file span[role="button"] { color: #0b62a4; cursor: pointer; text-decoration: underline; }
.page_buttons_right.floatingSectionOnTop {
  position: fixed; top: 40px; right: 0; width: 45%; height: 140px; z-index: 100;
  background: rgba(245, 245, 245, 0.97); border-left: 1px solid #bbb; border-bottom: 1px solid #bbb;
  display: flex; align-items: flex-start; justify-content: flex-end; gap: 8px; padding: 12px;
}`;

// Clicking (or Enter/Space on) a span widget navigates to the download URL; the server answers with
// Content-Disposition: attachment, so the browser turns the navigation into a download.
const SPAN_SCRIPT = `
(function () {
  function go(target) {
    var button = target.closest && target.closest('li.attachment span[role="button"]');
    if (!button) return false;
    window.location.href = button.closest('li.attachment').getAttribute('data-url') + '/download';
    return true;
  }
  document.addEventListener('click', function (e) { if (go(e.target)) e.preventDefault(); });
  document.addEventListener('keydown', function (e) {
    if ((e.key === 'Enter' || e.key === ' ') && go(e.target)) e.preventDefault();
  });
})();`;

function layout(title: string, body: string, options: { nav?: boolean; script?: string; site?: string; head?: string } = {}): string {
  const nav = options.nav === false ? '' : '<div id="top_nav"><img src="/assets/coupa-logo.png" alt="coupa" width="16" height="16"> <strong>coupa</strong><a href="/user/home">Home</a></div>';
  const script = options.script ? `\n<script>${options.script}</script>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)} | ${options.site ?? 'Coupa'}</title>
<style>${STYLE}</style>${options.head ? `\n${options.head}` : ''}
</head>
<body>
${nav}
<div id="pageContentWrapper">
${body}
</div>${script}
</body>
</html>
`;
}

export function signInPage(returnTo: string, options: { error?: boolean; email?: string } = {}): string {
  const flash = options.error ? `<div class="flash_error">${escapeHtml(INVALID_LOGIN_TEXT)}</div>\n` : '';
  return layout('Sign In', `<h1>Sign in to Coupa</h1>
${flash}<form action="/sessions" method="post" id="new_user">
<input type="hidden" name="return_to" value="${escapeHtml(returnTo)}">
<p><label for="user_email">Email</label><br>
<input type="text" id="user_email" name="user[login]" autocomplete="username" value="${escapeHtml(options.email ?? '')}"></p>
<p><label for="user_password">Password</label><br>
<input type="password" id="user_password" name="user[password]" autocomplete="current-password"></p>
<p><button type="submit" name="commit" class="button">Sign In</button></p>
</form>`, { nav: false });
}

/** The identity provider's own form: a person signs in here once, then the provider remembers them. */
export function idpSignInPage(relayState: string, options: { error?: boolean; email?: string } = {}): string {
  const flash = options.error ? `<div class="flash_error">${escapeHtml(INVALID_LOGIN_TEXT)}</div>\n` : '';
  return layout('Sign In', `<h1>Sign in with your company account</h1>
${flash}<form action="/idp/login" method="post" id="idp_login">
<input type="hidden" name="RelayState" value="${escapeHtml(relayState)}">
<p><label for="user_email">Email</label><br>
<input type="text" id="user_email" name="username" autocomplete="username" value="${escapeHtml(options.email ?? '')}"></p>
<p><label for="user_password">Password</label><br>
<input type="password" id="user_password" name="password" autocomplete="current-password"></p>
<p><button type="submit" class="button">Sign In</button></p>
</form>`, { nav: false, site: 'Identity Provider' });
}

/**
 * How a SAML provider hands the browser back to Coupa: a form that posts the assertion and submits
 * itself as soon as it is parsed, so the hop is a client-side navigation, not an HTTP redirect.
 */
export function samlPostPage(action: string, assertion: string, relayState: string): string {
  return layout('Signing in', `<form method="post" action="${escapeHtml(action)}" id="saml_post">
<input type="hidden" name="SAMLResponse" value="${escapeHtml(assertion)}">
<input type="hidden" name="RelayState" value="${escapeHtml(relayState)}">
<noscript><button type="submit">Continue</button></noscript>
</form>`, { nav: false, site: 'Identity Provider', script: "document.getElementById('saml_post').submit();" });
}

export function homePage(email: string, recent: PoRecord[]): string {
  const items = recent.map((po) => `<li><a href="/order_headers/${po.id}">${escapeHtml(po.poNumber)}</a> ${escapeHtml(po.supplier)}</li>`).join('\n');
  return layout('Home', `<h1>Home</h1>
<p class="welcome">Welcome, ${escapeHtml(email)}.</p>
<h2>Recent purchase orders</h2>
<ul class="recent_orders">
${items}
</ul>`);
}

function attachmentsSection(attachments: AttachmentRecord[], markup: 'spans' | 'links'): string {
  if (attachments.length === 0) {
    return '<div class="attachments" id="attachments"><h2>Attachments</h2>\n<p class="empty">None</p>\n</div>';
  }
  const items = attachments.map((a) => {
    const name = escapeHtml(a.name);
    if (markup === 'links') return `<li><a href="/attachments/${a.id}/download" class="attachment-link">${name}</a></li>`;
    return `<li class="attachment" data-url="/attachments/${a.id}"><span class="attachment-file" data-url="/attachments/${a.id}/${escapeHtml(encodeURIComponent(a.name))}"><span role="button" tabindex="0" title="${name}" aria-label="${name} file attachment">${name}</span></span></li>`;
  });
  return `<div class="attachments" id="attachments"><h2>Attachments</h2>\n<ul>\n${items.join('\n')}\n</ul>\n</div>`;
}

const TOOLBAR = `<div class="page_buttons_right orderHeaderShowFloatingSection floatingSectionOnTop">
<button type="button">Edit</button> <button type="button">Copy</button> <button type="button">Print</button> <button type="button">Close PO</button>
</div>`;

/** `head`: what a heavy page adds (see assets.ts). */
export function poPage(po: PoRecord, head = ''): string {
  const lines = po.lines.map((l, i) => `<tr><td>${i + 1}</td><td>${escapeHtml(l.description)}</td><td>${l.quantity}</td><td>${escapeHtml(l.price)}</td></tr>`).join('\n');
  const requisition = po.requisitionId
    ? `<div class="requisition_link"><a href="/requisition_headers/${po.requisitionId}">Requisition</a></div>\n`
    : '';
  const body = `${TOOLBAR}
<h1 class="order_header_title">Purchase Order #${po.id} <span class="status status_${po.status.toLowerCase().replace(/\s+/g, '_')}">${escapeHtml(po.status)}</span></h1>
<div class="order_header_supplier"><label>Supplier</label> <span class="supplier_name">${escapeHtml(po.supplier)}</span></div>
${requisition}<h2>Lines</h2>
<table class="order_lines">
<thead><tr><th>#</th><th>Description</th><th>Quantity</th><th>Price</th></tr></thead>
<tbody>
${lines}
</tbody>
</table>
${attachmentsSection(po.attachments, po.markup)}`;
  return layout(`Purchase Order #${po.id}`, body, { head, ...(po.markup === 'spans' ? { script: SPAN_SCRIPT } : {}) });
}

export function requisitionPage(po: PoRecord, head = ''): string {
  const body = `<h1 class="requisition_header_title">Requisition #${po.requisitionId}</h1>
<p>For <a href="/order_headers/${po.id}">Purchase Order #${po.id}</a>, supplier <span class="supplier_name">${escapeHtml(po.supplier)}</span></p>
${attachmentsSection(po.requisitionAttachments, po.markup)}`;
  return layout(`Requisition #${po.requisitionId}`, body, { head, ...(po.markup === 'spans' ? { script: SPAN_SCRIPT } : {}) });
}

export function errorPage(message: string): string {
  return layout('Error', `<div class="flash_error">${escapeHtml(message)}</div>`);
}

export function serverErrorPage(status: number): string {
  const text = status === 503
    ? 'Service Unavailable. Coupa is temporarily unavailable, please try again shortly.'
    : "We're sorry, but something went wrong.";
  return layout(`Error ${status}`, `<h1>${escapeHtml(text)}</h1>`, { nav: false });
}

export function rateLimitedPage(): string {
  return layout('Too Many Requests', '<h1>Too Many Requests</h1><p>Please slow down and try again.</p>', { nav: false });
}

/** What some tenants answer instead of a file: a viewer page, status 200. */
export function viewerPage(attachment: AttachmentRecord): string {
  return layout('Document viewer', `<h1>Document viewer</h1><p>Loading ${escapeHtml(attachment.name)}…</p>`);
}
