import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { sanitizeFileName } from '../../src/coupa/names';

const WINDOWS_ILLEGAL = /[<>:"/\\|?*\u0000-\u001f]/;
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

/** What every result must be, whatever it was made from. */
function assertSafe(name: string): void {
  assert.ok(name.length > 0, 'not empty');
  assert.doesNotMatch(name, WINDOWS_ILLEGAL, `${JSON.stringify(name)} has no illegal character`);
  assert.doesNotMatch(name, RESERVED, `${JSON.stringify(name)} is not a reserved name`);
  assert.doesNotMatch(name, /[. ]$/, `${JSON.stringify(name)} does not end in a dot or space`);
  assert.ok(!name.startsWith('.'), `${JSON.stringify(name)} is not hidden and not ".."`);
  assert.ok(Buffer.byteLength(name) <= 160, `${name.length} chars fits the byte cap`);
  const folder = '/downloads/PO1';
  assert.equal(dirname(resolve(folder, name)), folder, `${JSON.stringify(name)} stays inside its folder`);
  assert.equal(basename(name), name);
}

describe('attachment file names', () => {
  it('keeps ordinary names as they are', () => {
    const taken = new Set<string>();
    assert.equal(sanitizeFileName('Invoice 2024.pdf', taken), 'Invoice 2024.pdf');
    assert.equal(sanitizeFileName('Contrat signé (final).docx', taken), 'Contrat signé (final).docx');
    assert.equal(sanitizeFileName('emoji 📄 ✓.pdf', taken), 'emoji 📄 ✓.pdf');
  });

  it('turns hostile names into safe names inside the folder', () => {
    const hostile = [
      '../../evil.pdf', '/etc/passwd', 'C:\\x\\y.pdf', '..\\..\\Windows\\win.ini', 'a\u0000b.pdf',
      'tab\there\r\nnew line\u0007bell\u001b[31m.csv', 'CON', 'NUL.pdf', 'com1.txt', 'LPT9.tar.gz', 'aux ',
      'prn.', '...', '..', '.', '', '   ', '.hidden', ' trailing dot and space. ', '<img src=x onerror="alert(1)">&amp;.pdf',
      'what?*|:.xlsx', 'evil\u202efdp.exe', '\u0085next line.pdf',
    ];
    const taken = new Set<string>();
    const results = hostile.map((name) => sanitizeFileName(name, taken));
    results.forEach(assertSafe);
    assert.equal(new Set(results.map((r) => r.toLowerCase())).size, results.length, 'all unique');
    assert.ok(!results.some((r) => r.includes('..')), 'no ".." anywhere');
    assert.ok(results.includes('attachment'), 'an empty name becomes "attachment"');
    assert.match(results[hostile.indexOf('NUL.pdf')], /\.pdf$/, 'the extension is kept');
    assert.equal(results[0], 'evil.pdf');
    assert.equal(results[1], 'etc_passwd');
    assert.equal(taken.size, hostile.length, 'each result is added to taken');
  });

  it('caps long names in UTF-8 bytes without splitting a character, keeping the extension', () => {
    const taken = new Set<string>();
    const long = `${'Très long nom de pièce jointe '.repeat(11)}`.slice(0, 296) + '.pdf';
    const first = sanitizeFileName(long, taken);
    const second = sanitizeFileName(long, taken);
    for (const name of [first, second]) {
      assertSafe(name);
      assert.ok(Buffer.byteLength(name) <= 150, `${Buffer.byteLength(name)} bytes`);
      assert.match(name, /\.pdf$/);
      assert.ok(!name.includes('\ufffd'));
    }
    assert.notEqual(first, second);
    assert.match(second, / \(2\)\.pdf$/);
    const emoji = sanitizeFileName('📄'.repeat(100) + '.pdf', new Set());
    assert.ok(Buffer.byteLength(emoji) <= 150 && /^(📄)+\.pdf$/u.test(emoji), emoji);
  });

  it('makes names unique without regard to case, numbering before the extension', () => {
    const taken = new Set<string>();
    assert.equal(sanitizeFileName('Invoice.PDF', taken), 'Invoice.PDF');
    assert.equal(sanitizeFileName('invoice.pdf', taken), 'invoice (2).pdf');
    assert.equal(sanitizeFileName('same name.pdf', taken), 'same name.pdf');
    assert.equal(sanitizeFileName('same name.pdf', taken), 'same name (2).pdf');
    assert.equal(sanitizeFileName('SAME NAME.pdf', taken), 'SAME NAME (3).pdf');
    assert.equal(sanitizeFileName('', taken), 'attachment');
    assert.equal(sanitizeFileName('...', taken), 'attachment (2)');
    assert.deepEqual([...taken].length, 7);
  });

  it('never overwrites: every hostile name written into one folder is a separate file there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'po-names-'));
    try {
      const names = ['../../evil.pdf', '../evil.pdf', 'evil.pdf', 'EVIL.pdf', '/evil.pdf', 'CON', 'con', 'NUL.pdf', '', '...', 'a\u0000b.pdf', 'a_b.pdf'];
      const taken = new Set<string>();
      names.forEach((n, i) => writeFileSync(join(dir, sanitizeFileName(n, taken)), String(i)));
      assert.equal(readdirSync(dir).length, names.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
