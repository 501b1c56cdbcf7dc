/**
 * PO lists as users keep them: text (one PO per line), CSV (`;` or `,`, a BOM, UTF-8 or
 * Windows-1252) with a PO column found by its header, and Excel workbooks (sheet `PO_Data` or the
 * first). Every PO keeps the line (or row) it came from, so problems can be pointed at.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type ExcelJS from 'exceljs';
import { parsePoCells, parsePoText, type ParseResult } from '../protocol/po';

/** Larger lists are refused with a clear message rather than exhausting memory. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

const PO_HEADER = /^\s*(po[\s_-]*(number|no\.?|num|#|id)?|purchase[\s_-]*order([\s_-]*(number|no\.?|#))?|order[\s_-]*(number|no\.?|#))\s*$/i;

export async function readPoFile(path: string, pattern?: string): Promise<ParseResult> {
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`${path} is not a file`);
  if (info.size > MAX_INPUT_BYTES) throw new Error(`${path} is ${Math.round(info.size / 1024 / 1024)} MB; the limit is ${MAX_INPUT_BYTES / 1024 / 1024} MB`);
  const bytes = await readFile(path);
  switch (extname(path).toLowerCase()) {
    case '.xlsx':
    case '.xlsm':
      return readWorkbook(bytes);
    case '.csv':
    case '.tsv':
      return readCsv(decode(bytes), pattern);
    default:
      return parsePoText(decode(bytes), { pattern });
  }
}

/** UTF-8 when it decodes cleanly, else Windows-1252 (what Excel on Windows writes). */
export function decode(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

export function readCsv(text: string, pattern?: string): ParseResult {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const delimiter = [';', '\t', ','].reduce((best, d) => (count(firstLine, d) > count(firstLine, best) ? d : best), ',');
  let rows: string[][];
  try {
    rows = parseCsv(text, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: false, bom: true }) as string[][];
  } catch {
    // Not really CSV after all: read it as free text so the POs in it are still found.
    return parsePoText(text, { pattern });
  }
  const column = rows.length ? rows[0].findIndex((h) => PO_HEADER.test(h)) : -1;
  if (column < 0) return parsePoText(text, { pattern });
  return parsePoCells(rows.slice(1).map((row, i) => ({ line: i + 2, value: String(row[column] ?? '') })));
}

/** A real PO list unpacks to a few MB; anything near this is a zip bomb or not a list. */
export const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

/**
 * What a zip (an .xlsx is one) says its files unpack to, from its central directory, before any of
 * it is inflated. Sizes that do not fit in 32 bits (zip64) count as too large.
 */
export function unpackedSize(zip: Buffer): number {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > zip.length) throw new Error('not a spreadsheet (no zip directory)');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  let total = 0;
  for (let i = 0; i < entries; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== 0x02014b50) throw new Error('not a spreadsheet (damaged zip directory)');
    const size = zip.readUInt32LE(at + 24);
    total += size === 0xffffffff ? Number.MAX_SAFE_INTEGER : size;
    at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return total;
}

async function readWorkbook(bytes: Buffer): Promise<ParseResult> {
  const size = unpackedSize(bytes);
  if (size > MAX_UNPACKED_BYTES) {
    throw new Error(`the spreadsheet unpacks to ${size >= Number.MAX_SAFE_INTEGER ? 'more than 4 GB' : `${Math.round(size / 1024 / 1024)} MB`}; the limit is ${MAX_UNPACKED_BYTES / 1024 / 1024} MB`);
  }
  // exceljs is large and only spreadsheets need it.
  const { default: Excel } = await import('exceljs');
  const workbook = new Excel.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  const sheet = workbook.getWorksheet('PO_Data') ?? workbook.worksheets[0];
  if (!sheet) return { pos: [], invalid: [], duplicates: [] };
  let headerRow = 0;
  let column = 0;
  // The header may sit below a title block; look at the first rows for it.
  for (let r = 1; r <= Math.min(sheet.rowCount, 20) && !column; r++) {
    sheet.getRow(r).eachCell((cell, c) => {
      if (!column && PO_HEADER.test(cellText(cell.value))) {
        headerRow = r;
        column = c;
      }
    });
  }
  const cells: { line: number; value: string }[] = [];
  if (column) {
    for (let r = headerRow + 1; r <= sheet.rowCount; r++) cells.push({ line: r, value: cellText(sheet.getRow(r).getCell(column).value) });
    return parsePoCells(cells);
  }
  // No header: every cell's text, row by row, as free text.
  const lines: string[] = [];
  for (let r = 1; r <= sheet.rowCount; r++) {
    const values: string[] = [];
    sheet.getRow(r).eachCell((cell) => values.push(cellText(cell.value)));
    lines.push(values.join(' '));
  }
  return parsePoText(lines.join('\n'));
}

/** A cell's shown value: formulas give their cached result, rich text its plain text. */
function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') {
    if (value instanceof Date) return value.toISOString();
    if ('result' in value) return cellText((value as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
    if ('richText' in value) return (value as ExcelJS.CellRichTextValue).richText.map((t) => t.text).join('');
    if ('text' in value) return String((value as ExcelJS.CellHyperlinkValue).text);
    if ('error' in value) return '';
  }
  return String(value);
}

function count(text: string, ch: string): number {
  return text.split(ch).length - 1;
}
