/**
 * File names for attachments. The name comes from the server (Content-Disposition) or the page, so it
 * is untrusted: it must stay one plain file inside its PO folder on every OS users run, Windows included.
 */

const MAX_BYTES = 150;
/** Room kept for a " (123)" suffix, so making a name unique never pushes it over the cap. */
const SUFFIX_ROOM = 8;
/** Longer "extensions" are just part of a name with a dot in it. */
const MAX_EXT_BYTES = 16;
const FALLBACK = 'attachment';

// Characters Windows refuses, plus C0/C1 control characters and the bidi controls that can make
// "evil‮fdp.exe" read as a PDF in a file manager.
const ILLEGAL = /[<>:"/\\|?*\u0000-\u001f\u007f-\u009f]/g;
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Cuts by code points, so a character is never split into invalid UTF-8. */
function truncateBytes(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = byteLength(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

function splitExtension(name: string): [stem: string, ext: string] {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return [name, ''];
  const ext = name.slice(dot);
  if (byteLength(ext) > MAX_EXT_BYTES || /\s/.test(ext)) return [name, ''];
  return [name.slice(0, dot), ext];
}

/** Spaces and dots at either end: Windows drops trailing ones, and leading dots hide files or spell "..". */
function trimEnds(text: string): string {
  return text.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '');
}

/** One safe name, not yet made unique. */
function cleanName(raw: string): string {
  // A path keeps its meaningful parts ("../../evil.pdf" -> "evil.pdf", "/etc/passwd" -> "etc_passwd").
  const parts = raw.normalize('NFC').split(/[/\\]+/).filter((p) => p.trim() !== '' && !/^\s*\.+\s*$/.test(p));
  let name = parts.join('_').replace(INVISIBLE, '').replace(ILLEGAL, '_').replace(/\s+/g, ' ');
  name = trimEnds(name);
  if (name === '' || /^[_\s.]*$/.test(name)) return FALLBACK;
  // Windows reserves these names with any extension ("NUL.pdf", "com1.tar.gz").
  if (RESERVED.test(name.split('.')[0].trim())) name = `_${name}`;
  const [whole, ext] = splitExtension(name);
  let stem = trimEnds(truncateBytes(whole, MAX_BYTES - SUFFIX_ROOM - byteLength(ext)));
  if (stem === '') stem = FALLBACK;
  return `${stem}${ext}`;
}

/**
 * A file name that is safe on Windows, macOS and Linux and unique within `taken` (compared without
 * case, since the common file systems there ignore it). The result is added to `taken`.
 */
export function sanitizeFileName(name: string, taken: Set<string>): string {
  const clean = cleanName(name);
  const used = new Set([...taken].map((t) => t.toLowerCase()));
  let result = clean;
  if (used.has(result.toLowerCase())) {
    const [stem, ext] = splitExtension(clean);
    for (let n = 2; used.has(result.toLowerCase()); n++) result = `${stem} (${n})${ext}`;
  }
  taken.add(result);
  return result;
}
