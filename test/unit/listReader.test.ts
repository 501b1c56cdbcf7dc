import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ExcelJS from 'exceljs';
import { checkPoPattern, parsePoText } from '../../src/protocol/po';
import { MAX_UNPACKED_BYTES, readPoFile, unpackedSize } from '../../src/supervisor/inputFiles';
import { readPoFileIsolated } from '../../src/supervisor/listReader';

const READER = resolve('dist/listReader.js');

describe('PO lists that attack the reader', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'po-hostile-lists-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function workbook(): Promise<Buffer> {
    const book = new ExcelJS.Workbook();
    book.addWorksheet('PO_Data').getRow(1).values = ['PO Number'];
    book.getWorksheet('PO_Data')!.getRow(2).values = ['PO100001'];
    return Buffer.from(await book.xlsx.writeBuffer());
  }

  it('refuses a spreadsheet whose zip says it unpacks to gigabytes, before unpacking it', async () => {
    const bytes = await workbook();
    assert.ok(unpackedSize(bytes) < 100_000, 'a real list is small');
    // The same file, its directory claiming 1 GB for every part: what a zip bomb declares.
    const bomb = Buffer.from(bytes);
    for (let at = bomb.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at >= 0; at = bomb.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 4)) {
      bomb.writeUInt32LE(1024 ** 3, at + 24);
    }
    const path = join(dir, 'bomb.xlsx');
    writeFileSync(path, bomb);
    const started = Date.now();
    await assert.rejects(readPoFile(path), new RegExp(`unpacks to \\d+ MB; the limit is ${MAX_UNPACKED_BYTES / 1024 / 1024} MB`));
    assert.ok(Date.now() - started < 2000, 'refused without inflating');
  });

  it('reads lists in a child, so a list that never finishes or fails costs the child, not the supervisor', async function () {
    this.timeout(30_000);
    const good = join(dir, 'good.xlsx');
    writeFileSync(good, await workbook());
    assert.deepEqual((await readPoFileIsolated(good, undefined, READER)).pos.map((p) => p.poNumber), ['PO100001']);
    const csv = join(dir, 'big.csv');
    writeFileSync(csv, 'PO Number\n' + 'PO100002\n'.repeat(200_000));
    await assert.rejects(readPoFileIsolated(csv, undefined, READER, 1), /took longer than 0.001 s/);
    await assert.rejects(readPoFileIsolated(join(dir, 'fake.xlsx'), undefined, READER), /ENOENT|no such file/);
    writeFileSync(join(dir, 'fake.xlsx'), 'not a zip');
    await assert.rejects(readPoFileIsolated(join(dir, 'fake.xlsx'), undefined, READER), /not a spreadsheet/);
    assert.equal(readFileSync(good).length > 0, true);
  });

  it('refuses PO patterns that can take exponential time, before running them', () => {
    assert.equal(checkPoPattern('PO-(\\d{8})'), undefined);
    assert.match(checkPoPattern('(\\d+)+$') ?? '', /repeats a repetition/);
    assert.match(checkPoPattern('x'.repeat(300)) ?? '', /at most 200/);
    assert.match(checkPoPattern('(') ?? '', /not a valid regular expression/);
    const started = Date.now();
    assert.throws(() => parsePoText(`${'1'.repeat(40)}x`, { pattern: '^(\\d+)+$' }), /repeats a repetition/);
    assert.ok(Date.now() - started < 100);
  });
});
