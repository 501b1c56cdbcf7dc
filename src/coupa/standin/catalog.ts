/**
 * The stand-in's purchase orders, generated from the seed on demand. Nothing is stored up front, so a
 * catalog of a million POs costs nothing until its POs are asked for; a PO, once built, is kept.
 */
import { createHash } from 'node:crypto';
import { Rng } from './random';

export interface AttachmentRecord {
  id: string;
  name: string;
  bytes: number;
  sha256: string;
  contentType: string;
  content(): Buffer;
}

export interface PoRecord {
  id: string;
  poNumber: string;
  status: string;
  supplier: string;
  lines: { description: string; quantity: number; price: string }[];
  attachments: AttachmentRecord[];
  requisitionId?: string;
  requisitionAttachments: AttachmentRecord[];
  requisitionAccessible: boolean;
  markup: 'spans' | 'links';
}

/**
 * What a client must end up with for a PO: the PO page's own attachments, or, when it has none, its
 * requisition's, if that page is accessible. The one answer tests, benchmarks and the demo compare with.
 */
export interface Served {
  source: 'po' | 'requisition';
  attachments: AttachmentRecord[];
}

export interface CatalogOptions {
  seed: number;
  firstPoId: number;
  poCount: number;
  missingRate: number;
  missingIds: string[];
  maxAttachments: number;
  minAttachmentBytes: number;
  maxAttachmentBytes: number;
  hostileNames: boolean;
  markup: 'spans' | 'links' | 'mixed';
  requisitionRate: number;
}

/** Hostile names, grouped: a group is added to one PO as a whole (the pairs only mean something together). */
export const HOSTILE_NAME_GROUPS: readonly (readonly string[])[] = [
  ['../../evil.pdf'],
  ['/etc/passwd'],
  ['..\\..\\Windows\\win.ini'],
  ['CON'],
  ['NUL.pdf'],
  ['a\u0000b.pdf'],
  ['tab\there\r\nnew line\u0007bell\u001b[31m.csv'],
  [`${'Très long nom de pièce jointe '.repeat(11)}`.slice(0, 296) + '.pdf'],
  ['Invoice.PDF', 'invoice.pdf'],
  ['same name.pdf', 'same name.pdf'],
  ['<img src=x onerror="alert(1)">&amp;.pdf'],
  [' trailing dot and space. '],
  ['.hidden'],
  ['emoji 📄 ✓.pdf'],
];
export const HOSTILE_NAMES: readonly string[] = HOSTILE_NAME_GROUPS.flat();

// Attachment ids are `<po id><3-digit slot>`, so a download URL alone leads back to its PO.
const REQUISITION_SLOT = 500;
const MAX_ATTACHMENTS = 400;
// Requisition ids live in their own URL space; an offset keeps them distinct from the PO's own id.
const REQUISITION_OFFSET = 5_000_000;

const SUPPLIERS = [
  'Acme Industrial Supply',
  'Müller & Söhne GmbH',
  "Société Générale d'Équipement",
  'Añil Logística S.A.',
  'Øresund Supply ApS',
  'Strojírny Čech s.r.o.',
  'Łódź Metal Sp. z o.o.',
  'Café Façade SARL',
  'Björk Industrial AB',
  'São Paulo Têxtil Ltda',
  'Smith & Sons <Ltd> "Best"',
  'A/B Services: Nord',
  'Ōsaka Precision K.K.',
  'Nordic Paper Oy',
];

const STATUSES: readonly (readonly [string, number])[] = [
  ['Issued', 6], ['Closed', 2], ['Soft Closed', 1], ['Received', 1], ['Buyer Hold', 0.5], ['Cancelled', 0.5],
];

const LINE_ITEMS = [
  'Laptop 14" (Latitude 7450)',
  'Bürostühle, ergonomisch',
  'Consulting services – Q3',
  'Câble réseau Cat6 5 m',
  'Toner cartridge <black>',
  'Licence logicielle annuelle',
  'Safety gloves & goggles',
  'Pallet of A4 paper',
  'Annual maintenance contract',
];

const CURRENCIES = ['EUR', 'USD', 'GBP', 'SEK'];

type Ext = 'pdf' | 'msg' | 'eml' | 'docx' | 'xlsx' | 'csv' | 'png';
const EXT_WEIGHTS: readonly (readonly [Ext, number])[] = [
  ['pdf', 45], ['msg', 10], ['eml', 8], ['docx', 10], ['xlsx', 12], ['csv', 7], ['png', 8],
];
// Stems hold what real names hold: spaces, accents, and characters no file system takes (`:*?"<>|`).
const STEMS: Record<Ext, string[]> = {
  pdf: ['Invoice', 'Quote', 'Purchase order', 'Contrat signé', 'Factura', 'Certificate of conformity', 'Lieferschein', 'Angebot v2*'],
  msg: ['RE: Order confirmation', 'FW: Delivery date?', 'Approval from Jürgen', 'Question about "price"'],
  eml: ['RE: Invoice', 'Confirmación de pedido', 'Shipping notice'],
  docx: ['Statement of work', 'Cahier des charges', 'Terms & conditions', 'Draft <rev B>'],
  xlsx: ['Price list', 'Übersicht Kosten', 'BOM <rev A>', 'Budget 2024|2025'],
  csv: ['Line items', 'Export 2024|Q3', 'données'],
  png: ['Photo', 'Scan 001', 'Screenshot*', 'Étiquette'],
};

const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  msg: 'application/vnd.ms-outlook',
  eml: 'message/rfc822',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv',
  png: 'image/png',
};

/** Just the digits of `PO100001`, `pm 100001`, `100001`; undefined for anything else. */
export function poDigits(text: string): string | undefined {
  const m = /^\s*(?:P[OM])?[\s#:_-]*0*(\d+)\s*$/i.exec(text);
  return m ? m[1] : undefined;
}

export class Catalog {
  private readonly opts: CatalogOptions;
  private readonly built = new Map<string, PoRecord>();
  private readonly missing: Set<string>;
  private existingIds?: string[];

  constructor(options: CatalogOptions) {
    this.opts = { ...options, maxAttachments: Math.max(0, Math.min(MAX_ATTACHMENTS, Math.floor(options.maxAttachments))) };
    this.missing = new Set(options.missingIds.map((id) => poDigits(id) ?? id));
  }

  exists(id: string): boolean {
    const n = Number(id);
    if (!/^\d+$/.test(id) || !Number.isSafeInteger(n)) return false;
    const { firstPoId, poCount, seed, missingRate } = this.opts;
    if (n < firstPoId || n >= firstPoId + poCount || this.missing.has(id)) return false;
    return !Rng.for(seed, 'exists', id).chance(missingRate);
  }

  ids(): string[] {
    if (!this.existingIds) {
      this.existingIds = [];
      for (let n = this.opts.firstPoId; n < this.opts.firstPoId + this.opts.poCount; n++) {
        if (this.exists(String(n))) this.existingIds.push(String(n));
      }
    }
    return [...this.existingIds];
  }

  po(idOrPoNumber: string): PoRecord | undefined {
    const id = poDigits(idOrPoNumber);
    if (id === undefined || !this.exists(id)) return undefined;
    let po = this.built.get(id);
    if (!po) {
      po = this.build(id);
      this.built.set(id, po);
    }
    return po;
  }

  served(idOrPoNumber: string): Served | undefined {
    const po = this.po(idOrPoNumber);
    if (!po) return undefined;
    if (po.attachments.length === 0 && po.requisitionAccessible && po.requisitionAttachments.length > 0) {
      return { source: 'requisition', attachments: po.requisitionAttachments };
    }
    return { source: 'po', attachments: po.attachments };
  }

  /** The PO a requisition belongs to, when that PO links to it. */
  poOfRequisition(rid: string): PoRecord | undefined {
    if (!/^\d+$/.test(rid)) return undefined;
    const po = this.po(String(Number(rid) - REQUISITION_OFFSET));
    return po?.requisitionId === rid ? po : undefined;
  }

  attachment(aid: string): { po: PoRecord; attachment: AttachmentRecord; onRequisition: boolean } | undefined {
    if (!/^\d{4,}$/.test(aid)) return undefined;
    const po = this.po(aid.slice(0, -3));
    if (!po) return undefined;
    const slot = Number(aid.slice(-3));
    const onRequisition = slot >= REQUISITION_SLOT;
    const list = onRequisition ? po.requisitionAttachments : po.attachments;
    const attachment = list[onRequisition ? slot - REQUISITION_SLOT : slot];
    return attachment?.id === aid ? { po, attachment, onRequisition } : undefined;
  }

  private firstExisting(): string | undefined {
    if (this.existingIds) return this.existingIds[0];
    for (let n = this.opts.firstPoId; n < this.opts.firstPoId + this.opts.poCount; n++) {
      if (this.exists(String(n))) return String(n);
    }
    return undefined;
  }

  private build(id: string): PoRecord {
    const { seed, maxAttachments, hostileNames, requisitionRate } = this.opts;
    // Separate streams per aspect, so switching one option (hostileNames, markup) leaves the rest alone.
    const head = Rng.for(seed, 'po', id);
    const att = Rng.for(seed, 'attachments', id);
    const req = Rng.for(seed, 'requisition', id);
    const hostile = Rng.for(seed, 'hostile', id);

    const currency = head.pick(CURRENCIES);
    const lines = Array.from({ length: head.int(1, 5) }, () => ({
      description: head.pick(LINE_ITEMS),
      quantity: head.int(1, 50),
      price: `${(head.int(100, 2_500_000) / 100).toFixed(2)} ${currency}`,
    }));
    const supplier = head.pick(SUPPLIERS);
    const status = head.weighted(STATUSES);
    const markupRoll = head.chance(0.5);
    const markup = this.opts.markup === 'mixed' ? (markupRoll ? 'spans' : 'links') : this.opts.markup;

    // The lowest existing PO carries every hostile name, so a test always knows where to find them.
    const carriesAllHostile = hostileNames && id === this.firstExisting();
    const onlyOnRequisition = !carriesAllHostile && req.chance(requisitionRate);
    const names = onlyOnRequisition ? [] : randomNames(att, att.int(0, maxAttachments));
    if (carriesAllHostile) names.push(...HOSTILE_NAMES);
    else if (hostileNames && !onlyOnRequisition && hostile.chance(0.3)) names.push(...hostile.pick(HOSTILE_NAME_GROUPS));

    const hasRequisition = onlyOnRequisition || req.chance(0.6);
    const requisitionAccessible = onlyOnRequisition || (hasRequisition && req.chance(0.85));
    // A PO with nothing of its own falls back to its requisition only when requisitionRate says so;
    // otherwise the share of such POs would drift away from requisitionRate.
    let requisitionNames: string[] = [];
    if (onlyOnRequisition) requisitionNames = randomNames(req, req.int(1, Math.max(1, maxAttachments)));
    else if (requisitionAccessible && names.length > 0) requisitionNames = randomNames(req, req.int(0, Math.ceil(maxAttachments / 2)));

    return {
      id,
      poNumber: `PO${id}`,
      status,
      supplier,
      lines,
      attachments: names.map((name, i) => this.attachmentRecord(id, i, name)),
      ...(hasRequisition ? { requisitionId: String(Number(id) + REQUISITION_OFFSET) } : {}),
      requisitionAttachments: requisitionNames.map((name, i) => this.attachmentRecord(id, REQUISITION_SLOT + i, name)),
      requisitionAccessible,
      markup,
    };
  }

  private attachmentRecord(poId: string, slot: number, name: string): AttachmentRecord {
    const aid = `${poId}${String(slot).padStart(3, '0')}`;
    const { seed, minAttachmentBytes, maxAttachmentBytes } = this.opts;
    const lo = Math.max(0, Math.min(minAttachmentBytes, maxAttachmentBytes));
    const hi = Math.max(minAttachmentBytes, maxAttachmentBytes);
    // Log-uniform: mostly small files and a few large ones, as in real POs.
    const r = Rng.for(seed, 'size', aid).next();
    const bytes = lo === hi ? lo : Math.round(Math.exp(Math.log(lo + 1) + r * (Math.log(hi + 1) - Math.log(lo + 1))) - 1);
    const ext = extensionOf(name);
    const contentSeed = `${seed}|content|${aid}`;
    let digest: string | undefined;
    const content = (): Buffer => makeContent(ext, name, bytes, contentSeed);
    return {
      id: aid,
      name,
      bytes,
      contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
      content,
      // Hashing every file up front would cost a full generation pass; most are never asked for.
      get sha256() {
        digest ??= createHash('sha256').update(content()).digest('hex');
        return digest;
      },
    };
  }
}

function randomNames(rng: Rng, count: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0 && rng.chance(0.12)) {
      names.push(rng.pick(names));
      continue;
    }
    const ext = rng.weighted(EXT_WEIGHTS);
    let stem = rng.pick(STEMS[ext]);
    if (rng.chance(0.4)) stem += ` ${rng.int(1, 99999)}`;
    if (rng.chance(0.1)) stem += ` (${rng.pick(['copy', 'signé', 'final', '2'])})`;
    names.push(`${stem}.${ext}`);
  }
  return names;
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

const SIGNATURES: Record<string, Buffer> = {
  pdf: Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n', 'latin1'),
  png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  docx: Buffer.from('PK\x03\x04', 'latin1'),
  xlsx: Buffer.from('PK\x03\x04', 'latin1'),
  msg: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
};
const PDF_TRAILER = Buffer.from('\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1');

/**
 * Exactly `size` deterministic bytes that look like the type: the right magic bytes first, text
 * where the type is text. Below the size of the header, the header itself is cut.
 */
function makeContent(ext: string, name: string, size: number, seedKey: string): Buffer {
  const rng = Rng.for(seedKey);
  const out = Buffer.alloc(size);
  let head: Buffer;
  if (ext === 'csv' || ext === 'eml') {
    const ascii = name.replace(/[^\x20-\x7e]/g, '_');
    head = Buffer.from(ext === 'csv'
      ? 'line;description;quantity;price\r\n'
      : `From: "Supplier" <orders@supplier.example>\r\nTo: buyer@example.com\r\nSubject: ${ascii}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n`);
    // One block of text rows, repeated: large text files need not cost one PRNG call per row.
    const rows: string[] = [];
    let length = 0;
    while (length < Math.min(size, 16_384)) {
      const row = `${rows.length + 1};item ${rng.int(1000, 9999)};${rng.int(1, 99)};${rng.int(1, 99999)}.${rng.int(10, 99)}\r\n`;
      rows.push(row);
      length += row.length;
    }
    if (length > 0) out.fill(rows.join(''), 0, size, 'latin1');
  } else {
    head = SIGNATURES[ext] ?? Buffer.alloc(0);
    const whole = size - (size % 4);
    for (let i = 0; i < whole; i += 4) out.writeUInt32LE(rng.nextUint32(), i);
    for (let i = whole; i < size; i++) out[i] = rng.nextUint32() & 0xff;
  }
  head.copy(out, 0, 0, Math.min(head.length, size));
  if (ext === 'pdf' && size >= head.length + PDF_TRAILER.length) PDF_TRAILER.copy(out, size - PDF_TRAILER.length);
  return out;
}
