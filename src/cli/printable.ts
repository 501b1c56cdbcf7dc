/** Making text that came from Coupa or the supervisor safe to show on a terminal. */

/**
 * Control characters (C0, DEL, C1) and bidirectional overrides, which a terminal would obey: a
 * supplier name from Coupa must not be able to clear the screen, ring the bell, retitle the window
 * or reverse the text around it.
 */
const CONTROLS = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/** One field that came from Coupa or the supervisor, safe to print: line breaks and tabs become spaces, other controls go. */
export function printable(text: string): string {
  return text.replace(/[\t\n\v\f\r]/g, ' ').replace(CONTROLS, '');
}

/** Lines of output, each made printable, the breaks between them kept. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
