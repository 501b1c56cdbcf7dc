/**
 * Where things are on a Coupa tenant's pages. Tenants differ in markup (a customised theme, another
 * version, another language, another identity provider): when one renders something else, this file is
 * what changes. Patterns are kept as strings where they travel into the page (`page.evaluate`).
 */

/**
 * Coupa's attachment widget is not a link: `li.attachment[data-url]` around `span.attachment-file[data-url]`
 * around a `span[role=button]` whose title is the file name and whose aria-label ends "file attachment".
 */
export const ATTACHMENT_WIDGET = '[aria-label*="file attachment" i], li.attachment [role="button"][title], .attachment-file [role="button"][title]';
/** The widget's ancestors that carry the file's address, nearest first. */
export const WIDGET_URL_HOLDERS = ['li.attachment', '.attachment-file'];
/** Other tenants render plain links: `/attachments/<n>/download`, `/api/blob/download?id=..&filename=..`. */
export const ATTACHMENT_LINK = 'a[href*="attachment" i], a[href*="download" i], a[download]';
/** Upload and edit forms are linked like attachments, but are not files. */
export const NOT_A_FILE_PATH = '/(new|edit)/?$';
/** The suffix that tells a download link from the attachment's own address, so both markups de-duplicate. */
export const DOWNLOAD_SUFFIX = '/download/?(?=$|\\?)';

export const REQUISITION_LINK = 'a[href*="/requisition_headers/"]';
/** The floating toolbar covers the upper right of the page and takes clicks meant for what is under it. */
export const FLOATING_TOOLBAR = '.floatingSectionOnTop, .orderHeaderShowFloatingSection';

export const SUPPLIER = ['.supplier_name', '#supplier_name', '[data-field="supplier"]', '.order_header_supplier a', '.supplier a'];
export const STATUS = ['.order_header_title .status', 'h1 .status', '.status_label', '#order_header_status', '[data-field="status"]'];
/** For tenants without telling class names: a label element, then its value as the next element. */
export const LABEL_ELEMENTS = 'label, th, dt, .label, span, div';
export const SUPPLIER_LABEL = '^supplier:?$';
export const STATUS_LABEL = '^status:?$';

/** Where Coupa's error pages put their message: 200 on some tenants, 404 on others. */
export const ERROR_MESSAGE = 'div.flash_error, #error_explanation, h1';
/** The messages themselves (English; other languages still use the same elements). */
export const ERROR_PAGE_TEXTS = [
  /oops!? we couldn.t find what you wanted/i,
  /you are not authorized/i,
  /access denied/i,
  /the page you were looking for doesn.t exist/i,
  /not authorized to (view|access)/i,
];

/** Some tenants render a sign-in form in place, at the address that was asked for. */
export const PASSWORD_FIELD = '#user_password, input[type="password"]';
/** Words in an identity provider's address (host or path): Okta, Entra ID, PingFederate, ADFS, generic SAML and OAuth. */
export const IDP_WORDS = /login|signin|sign_in|sso|saml|oauth|okta|openid|pingfederate|authorization|adfs/i;
/** Coupa's own sign-in paths, including the assertion consumer an identity provider posts back to. */
export const COUPA_SIGN_IN_PATH = /^\/(sessions(\/|$)|users\/sign_in|login|sso|saml|oauth|okta|openid)/i;
