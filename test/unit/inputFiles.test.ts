import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { readPoFile } from '../../src/supervisor/inputFiles';

describe('PO list files', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'po-inputs-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a Windows-1252 CSV with ; and a BOM by its PO_NUMBER column, with row numbers', async () => {
    const path = join(dir, 'list.csv');
    const text = 'Supplier;PO_NUMBER;Cost centre\r\nMüller GmbH;PO100001;4711\r\nCafé;n/a;4712\r\nX;100002;1\r\n';
    writeFileSync(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'latin1')]));
    const r = await readPoFile(path);
    assert.deepEqual(r.pos.map((p) => [p.poNumber, p.line]), [['PO100001', 2], ['PO100002', 4]]);
    assert.deepEqual(r.invalid.map((i) => i.line), [3]);
  });

  it('reads a spreadsheet: sheet PO_Data, a header below a title, formulas by their value', async () => {
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Notes').getCell('A1').value = 'not this sheet';
    const sheet = workbook.addWorksheet('PO_Data');
    sheet.getCell('A1').value = 'Open purchase orders';
    sheet.mergeCells('A1:C1');
    sheet.getRow(2).values = ['Supplier', 'PO Number'];
    sheet.getRow(3).values = ['ACME', 'PO100003'];
    sheet.getRow(4).values = ['ACME', { formula: '"PO"&"100004"', result: 'PO100004' }];
    sheet.getRow(5).values = ['ACME', 'PO12'];
    const path = join(dir, 'list.xlsx');
    await workbook.xlsx.writeFile(path);
    const r = await readPoFile(path);
    assert.deepEqual(r.pos.map((p) => [p.poNumber, p.line]), [['PO100003', 3], ['PO100004', 4]]);
    assert.deepEqual(r.invalid.map((i) => [i.line, i.reason]), [[5, 'invalid PO format: needs at least 6 digits, got 2']]);
  });

  it('reads an empty file as an empty list', async () => {
    const path = join(dir, 'empty.txt');
    writeFileSync(path, '');
    assert.deepEqual(await readPoFile(path), { pos: [], invalid: [], duplicates: [] });
  });
});
