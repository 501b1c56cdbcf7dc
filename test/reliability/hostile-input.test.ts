import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join, relative } from 'node:path';
import ExcelJS from 'exceljs';
import { HOSTILE_NAMES, type Standin } from '../../src/coupa/standin';
import { parsePoText } from '../../src/protocol/po';
import { GetStatus, ListTasks, ReadPoFile, StartPool, SubmitTasks, CancelTask, RestartWorker, RetryTasks } from '../../src/protocol/rpc';
import { isFinal, type PoolConfig } from '../../src/protocol/types';
import { connectToSupervisor, type PoolClient } from '../../src/client/client';
import { readPoFile } from '../../src/supervisor/inputFiles';
import { statePaths } from '../../src/shared/paths';
import { PersistentWorkerPool } from '../../src/supervisor/pool';
import { TaskStore } from '../../src/supervisor/taskStore';
import { cmdline, kill9, memoryLogger, processesMentioning, standinWithProfile, SUPERVISOR_SCRIPT, tempDir, waitUntil, WORKER_SCRIPT } from '../support';
import { audit, assertClean, served } from './harness';

describe('reliability: hostile input', function () {
  this.timeout(240_000);

  describe('PO lists', () => {
    let dir: string;
    before(() => (dir = tempDir('rel-lists')));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, content: string | Buffer) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };

    it('junk and PO numbers in every odd form: the valid ones found, the rest reported with line numbers', async () => {
      const lines = [
        'PO Number', //                      1 header: not an error
        'PO15262984', //                     2
        'po 15262985', //                    3
        'PM-15262986', //                    4 -> PM15262986
        '15262987', //                       5
        'PO#15262988, urgent', //            6
        '  PO: 000015262989  ', //           7 leading zeros -> PO15262989
        'PO12345', //                        8 too short
        'PO1234567890123', //                9 too long
        'hello world', //                   10
        'Invoice 2024-03-01 total 1,234.56', // 11 a date and an amount are not POs
        'PO１５２６２９９０', //             12 full-width digits
        '<script>alert(1)</script>', //    13
        "'; DROP TABLE po; --", //          14
        'PO15262984', //                    15 duplicate of line 2
        '\u202EPO15262991', //              16 bidi control before a PO
        'x'.repeat(5000), //                17
        '# a comment', //                   18 ignored
        '', //                              19 blank
        'PO15262992\tPO15262993', //        20 two on a line
      ];
      const r = await readPoFile(file('odd.txt', lines.join('\r\n')));
      const found = r.pos.map((p) => `${p.poNumber}@${p.line}`);
      assert.deepEqual(found, [
        'PO15262984@2', 'PO15262985@3', 'PM15262986@4', 'PO15262987@5', 'PO15262988@6', 'PO15262989@7', 'PO15262991@16', 'PO15262992@20', 'PO15262993@20',
      ]);
      const invalid = new Map(r.invalid.map((i) => [i.line, i.reason]));
      assert.deepEqual([...invalid.keys()].sort((a, b) => a - b), [8, 9, 10, 11, 12, 13, 14, 17]);
      assert.match(invalid.get(8)!, /at least 6 digits/);
      assert.match(invalid.get(9)!, /more than 12 digits/);
      assert.ok(r.invalid.every((i) => i.text.length <= 41), 'long lines are clipped in the report');
      assert.deepEqual(r.duplicates, [{ poNumber: 'PO15262984', lines: [2, 15] }]);
    });

    it('100 000 lines are parsed in about ten times the time of 10 000 (linear, not quadratic), in seconds', async () => {
      const list = (n: number) => Array.from({ length: n }, (_, i) => (i % 10 === 9 ? `junk line ${i} lorem ipsum` : `PO${100_000_000 + i}`)).join('\n');
      const timed = async (name: string, n: number) => {
        const path = file(name, list(n));
        const t = Date.now();
        const r = await readPoFile(path);
        return { r, ms: Date.now() - t };
      };
      // Side by side, so a busy machine slows both: the ratio is what tells linear from quadratic.
      const small = await timed('small.txt', 10_000);
      const { r, ms } = await timed('big.txt', 100_000);
      assert.equal(r.pos.length, 90_000);
      assert.equal(r.invalid.length, 10_000);
      assert.equal(r.invalid[0].line, 10);
      console.log(`      figures 10 000 lines in ${small.ms} ms, 100 000 in ${ms} ms`);
      assert.ok(ms < 15 * Math.max(small.ms, 50), `100 000 lines took ${ms} ms, 10 000 took ${small.ms} ms`);
      assert.ok(ms < 10_000, `100 000 lines in ${ms} ms`);
      const t2 = Date.now();
      parsePoText('PO100000001 '.repeat(20_000) + '\n' + 'x'.repeat(1_000_000));
      assert.ok(Date.now() - t2 < 2_000, 'a 1 MB line and a line of 20 000 POs do not stall the parser');
    });

    it('binary garbage, a 0-byte file, a folder, and a 70 MB file do not crash', async () => {
      const garbage = await readPoFile(file('garbage.txt', randomBytes(256 * 1024)));
      assert.ok(garbage.invalid.length > 0);
      assert.ok(garbage.pos.length < 5, 'random bytes are not taken for POs');
      const withPo = await readPoFile(file('mixed.bin', Buffer.concat([randomBytes(500).map((b) => (b === 10 || b === 13 ? 0 : b)), Buffer.from('\nPO15262984\n'), randomBytes(100).map((b) => (b === 10 || b === 13 ? 0 : b))])));
      assert.deepEqual(withPo.pos.map((p) => `${p.poNumber}@${p.line}`), ['PO15262984@2']);
      for (const name of ['empty.txt', 'empty.csv', 'empty.xlsx']) {
        const r = await readPoFile(file(name, '')).catch((err: Error) => err);
        if (r instanceof Error) assert.match(r.message, /.+/, `${name}: an error with a message`);
        else assert.deepEqual(r, { pos: [], invalid: [], duplicates: [] }, name);
      }
      await assert.rejects(readPoFile(dir), /is not a file/);
      const huge = file('huge.txt', Buffer.alloc(70 * 1024 * 1024, 0x41));
      await assert.rejects(readPoFile(huge), /limit is 64 MB/);
      rmSync(huge);
      await assert.rejects(readPoFile(file('fake.xlsx', randomBytes(4096))), (err: Error) => err instanceof Error && err.message.length > 0);
    });

    it('a CSV with ";", a BOM and Windows-1252, and a CSV with quotes gone wrong', async () => {
      const rows = ['Lieferant;PO_NUMBER;Betrag', 'Müller & Söhne;PO100001;1.234,56 €', 'Café Façade;100002;12,00 €', 'Øresund;PO12;1,00', 'Straße;;', 'Ñandú;PM-100005;3'];
      const text = rows.join('\r\n');
      // Windows-1252: latin1 for these letters, and 0x80 for €.
      const cp1252 = Buffer.from(text.replace(/€/g, '\u0080'), 'latin1');
      const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
      for (const [name, bytes] of [['cp1252.csv', cp1252], ['bom.csv', withBom]] as const) {
        const r = await readPoFile(file(name, bytes));
        assert.deepEqual(r.pos.map((p) => `${p.poNumber}@${p.line}`), ['PO100001@2', 'PO100002@3', 'PM100005@6'], name);
        assert.deepEqual(r.invalid.map((i) => i.line), [4], name);
      }
      const utf8 = await readPoFile(file('utf8.csv', '\uFEFFPO_NUMBER,Supplier\r\nPO100001,"Smith, ""Best"" Ltd"\r\n"PO100002,broken\r\nPO100003,x\r\n'));
      assert.ok(utf8.pos.some((p) => p.poNumber === 'PO100001'), JSON.stringify(utf8));
    });

    it('a spreadsheet with a title block, formulas, merged cells and junk cells', async () => {
      const wb = new ExcelJS.Workbook();
      wb.addWorksheet('Summary').getCell('A1').value = 'see PO_Data';
      const ws = wb.addWorksheet('PO_Data');
      ws.mergeCells('A1:C1');
      ws.getCell('A1').value = 'Purchase orders to download — Q3';
      ws.getRow(3).values = ['Supplier', 'PO Number', 'Amount'];
      ws.getRow(4).values = ['Acme', 'PO100001', 10];
      ws.getRow(5).values = ['Acme', { formula: '"PO"&"100002"', result: 'PO100002' } as unknown as ExcelJS.CellValue, 11];
      ws.getRow(6).values = ['Merged', 100003, 12];
      ws.mergeCells('B7:B8');
      ws.getCell('B7').value = 'PO100004';
      ws.getRow(9).values = ['Bad', 'PO12', 13];
      ws.getRow(10).values = ['Error', { error: '#REF!' } as unknown as ExcelJS.CellValue, 14];
      ws.getRow(11).values = ['Date', new Date('2024-01-01'), 15];
      ws.getRow(12).values = ['Rich', { richText: [{ text: 'PO' }, { text: '100006' }] } as unknown as ExcelJS.CellValue, 16];
      const path = join(dir, 'list.xlsx');
      await wb.xlsx.writeFile(path);
      const r = await readPoFile(path);
      assert.deepEqual(r.pos.map((p) => `${p.poNumber}@${p.line}`), ['PO100001@4', 'PO100002@5', 'PO100003@6', 'PO100004@7', 'PO100006@12']);
      const bad = new Map(r.invalid.map((i) => [i.line, i.reason]));
      assert.ok(bad.has(9), JSON.stringify(r.invalid));
      assert.ok(bad.has(11), 'a date is reported, not taken for a PO');
      assert.ok(![...bad.keys()].includes(8), 'the lower half of a merged cell is not an error');
    });
  });

  describe('attachments and downloads', () => {
    let standin: Standin;
    let profile: string;
    let dir: string;
    let pool: PersistentWorkerPool | undefined;
    let store: TaskStore | undefined;

    const env = standinWithProfile({ seed: 41, maxAttachments: 3, hostileNames: true, poCount: 400 }, 'rh');
    before(() => ({ standin, profile } = env));
    beforeEach(() => {
      dir = tempDir('rhr');
      standin.resetKnobs();
    });
    afterEach(async () => {
      if (pool) await pool.shutdown(5);
      store?.close();
      pool = undefined;
      store = undefined;
      const left = processesMentioning(dir);
      for (const p of left) kill9(p.pid, (pid) => cmdline(pid).includes(dir));
      assert.deepEqual(left, []);
      rmSync(dir, { recursive: true, force: true });
    });

    async function run(pos: string[], config: Partial<PoolConfig> = {}) {
      store = TaskStore.open(join(dir, 'journal.jsonl')).store;
      pool = new PersistentWorkerPool(
        { baseProfilePath: profile, coupaUrl: standin.url, downloadDir: join(dir, 'out'), workerCount: 2, maxRetries: 1, ...config },
        { store, profilesDir: join(dir, 'profiles'), log: memoryLogger(), workerScript: WORKER_SCRIPT, retryBaseMs: 200 },
      );
      await pool.start();
      pool.submitTasks(pos.map((poNumber) => ({ poNumber })));
      const s = store;
      await waitUntil(() => s.latest().every((t) => isFinal(t.status)), 180_000, 'every PO to end');
      return s.latest();
    }

    /** Every file under `out`, relative. */
    function walk(base: string, at = base): string[] {
      return readdirSync(at).flatMap((name) => {
        const p = join(at, name);
        return lstatSync(p).isDirectory() ? walk(base, p) : [relative(base, p)];
      });
    }

    /** What Coupa sent: the evidence of POs that did not end well (screenshots, the tab's HTML) is the pool's own. */
    const downloaded = (out: string) => walk(out).filter((f) => !f.startsWith('po-pool-evidence/'));

    it('hostile names (../, absolute paths, NUL, CON, 300 chars, case-only and exact duplicates) all land inside their PO folder, none overwritten', async () => {
      const ids = standin.catalog.ids();
      const all = `PO${ids[0]}`;
      assert.ok(standin.catalog.po(all)!.attachments.length >= HOSTILE_NAMES.length, 'the first PO carries every hostile name');
      const pos = [all, ...ids.slice(1, 13).map((id) => `PO${id}`)];
      const tasks = await run(pos);
      const out = join(dir, 'out');
      const a = audit({ standin, out, submitted: pos, tasks });
      assertClean(a, 'hostile names');
      assert.equal(a.completed, pos.length, JSON.stringify(a.byStatus));
      for (const t of tasks) {
        const folder = join(out, t.poNumber);
        if (t.status !== 'COMPLETED') continue;
        const names = readdirSync(folder);
        assert.equal(names.length, served(standin, t.poNumber).length, `${t.poNumber}: one file per attachment, none overwritten`);
        assert.equal(new Set(names.map((n) => n.toLowerCase())).size, names.length, `${t.poNumber}: no two names differ only by case`);
        for (const n of names) {
          assert.ok(Buffer.byteLength(n) <= 255, `${n.slice(0, 40)}… fits a file system name`);
          assert.ok(!/[\u0000-\u001f/\\]/.test(n), `${JSON.stringify(n)} has no control character or separator`);
          assert.ok(!/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(n), `${n} is not a reserved Windows name`);
          assert.ok(realpathSync(join(folder, n)).startsWith(realpathSync(folder) + '/'));
          assert.ok(statSync(join(folder, n)).isFile());
        }
      }
      // Nothing anywhere but <PO>/<file> (and no stray file next to the download folder).
      for (const f of walk(out)) assert.match(f, /^P[OM]\d+\/[^/]+$/, `${f} is inside a PO folder`);
      assert.deepEqual(readdirSync(dir).filter((n) => /evil|passwd|win\.ini/i.test(n)), []);
      assert.ok(!existsSync(join(dir, 'evil.pdf')) && !existsSync(join(out, 'evil.pdf')));
    });

    it('oversized downloads and HTML instead of a file: a clear DownloadError or PARTIAL, nothing wrong left on disk', async () => {
      const ids = standin.catalog.ids().slice(20, 34).map((id) => `PO${id}`);
      const limit = 15_000;
      const out = join(dir, 'out');
      let tasks = await run(ids, { maxDownloadBytes: limit });
      for (const t of tasks) {
        const files = served(standin, t.poNumber);
        const big = files.filter((f) => f.bytes > limit);
        if (files.length === 0) assert.equal(t.status, 'NO_ATTACHMENTS');
        else if (big.length === 0) assert.equal(t.status, 'COMPLETED', `${t.poNumber}: ${JSON.stringify(t.result?.error)}`);
        else if (big.length === files.length) {
          assert.equal(t.status, 'FAILED', `${t.poNumber} has only files above the limit`);
          assert.equal(t.result?.error?.kind, 'DownloadError');
          assert.match(t.result!.error!.message, /limit/);
        } else {
          assert.equal(t.status, 'PARTIAL');
          assert.equal(t.result?.error?.kind, 'DownloadError');
          assert.equal(t.result?.files.length, files.length - big.length);
        }
      }
      assert.ok(tasks.some((t) => t.status === 'PARTIAL' || t.status === 'FAILED'), 'some files were over the limit');
      for (const f of downloaded(out)) assert.ok(statSync(join(out, f)).size <= limit, `${f} is within the limit`);
      assert.ok(walk(out).some((f) => f.startsWith('po-pool-evidence/')), 'the POs that did not end well have evidence');
      const a = audit({ standin, out, submitted: ids, tasks });
      assert.equal(a.duplicatedFiles + a.lost, 0, a.problems.join('\n'));
      await pool!.shutdown(5);
      store!.close();
      pool = undefined;

      // HTML where every file should be.
      const htmlPos = standin.catalog.ids().slice(40, 46).map((id) => `PO${id}`);
      standin.knobs.htmlInsteadOfFileRate = 1;
      rmSync(join(dir, 'journal.jsonl'));
      tasks = await run(htmlPos);
      for (const t of tasks) {
        if (served(standin, t.poNumber).length === 0) {
          assert.equal(t.status, 'NO_ATTACHMENTS');
          continue;
        }
        assert.equal(t.status, 'FAILED', `${t.poNumber}: ${t.status}`);
        assert.equal(t.result?.error?.kind, 'DownloadError', JSON.stringify(t.result?.error));
        assert.match(t.result!.error!.message, /web page instead of the file/);
        assert.ok(!existsSync(join(out, t.poNumber)), `${t.poNumber}: no folder of web pages`);
      }
      for (const f of downloaded(out)) assert.ok(!/^<!doctype html|^<html/i.test(readFileSync(join(out, f), 'utf8').slice(0, 100)), `${f} is not a web page`);
    });
  });

  describe('malformed JSON-RPC on the socket', () => {
    let stateDir: string;
    let good: PoolClient;
    before(async () => {
      stateDir = tempDir('rrpc');
      good = await connectToSupervisor({ clientName: 'good', stateDir, spawn: true, supervisorScript: SUPERVISOR_SCRIPT });
    });
    after(async () => {
      const pid = good.hello.supervisorPid;
      good.dispose();
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
      await waitUntil(() => !existsSync(`/proc/${pid}`), 15_000, 'the supervisor to exit').catch(() => kill9(pid, () => true));
      rmSync(stateDir, { recursive: true, force: true });
    });

    const stillServing = async () => assert.equal((await good.request(GetStatus, undefined)).supervisorPid, good.hello.supervisorPid);

    async function raw(): Promise<{ socket: Socket; text: () => string; closed: Promise<void> }> {
      const socket = netConnect(statePaths(stateDir).socket);
      socket.on('error', () => undefined);
      await new Promise((r) => socket.once('connect', r));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      return { socket, text: () => text, closed };
    }
    const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

    it('bad JSON, bad headers, unknown methods, requests before hello: error answers or a logged refusal; the supervisor stays up', async () => {
      // Each on its own connection: a broken header is refused at once; a broken body leaves the stream
      // unreadable, and the connection is dropped when no hello arrives within 5 s. Both are logged.
      const junk = [
        frame('{"jsonrpc":"2.0","id":1,"method":'),
        'Content-Length: abc\r\n\r\n{}',
        'Content-Length: -5\r\n\r\n',
        '\r\n\r\n\r\n',
        frame('\u0000\uFFFF'),
        frame(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'pool/getStatus' })),
        frame(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'pool/shutdown', params: { force: true } })),
      ];
      const conns = await Promise.all(junk.map(async (bytes) => {
        const c = await raw();
        c.socket.write(bytes);
        return c;
      }));
      await Promise.all(conns.map((c) => Promise.race([c.closed, new Promise((r) => setTimeout(r, 8_000))])));
      for (const c of conns) assert.ok(c.socket.destroyed || c.socket.readyState !== 'open', 'every junk connection was closed by the supervisor');
      assert.match(conns[5].text(), /"error"/, `a request before hello is answered with an error: ${JSON.stringify(conns.map((c) => c.text()))}`);
      assert.match(conns[6].text(), /hello/, 'so is a shutdown before hello');
      await stillServing();

      const d = await raw();
      d.socket.write(frame(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hello', params: { token: 42 } })));
      await Promise.race([d.closed, new Promise((r) => setTimeout(r, 1_500))]);
      assert.match(d.text(), /wrong token/);
      d.socket.destroy();
      const log = readFileSync(statePaths(stateDir).log, 'utf8');
      assert.match(log, /refused connection #\d+: request before hello/);
      assert.ok((log.match(/refused connection #\d+: no hello within 5 s/g) ?? []).length >= 2, 'broken bodies: dropped after 5 s, logged');
      assert.match(log, /refused connection #\d+: a Content-Length that is not a plain number \("abc"\)/, 'a broken header: refused at once, logged');
      assert.match(log, /refused connection #\d+: a Content-Length that is not a plain number \("-5"\)/);
      assert.match(log, /refused connection #\d+: a message header line without ":"/);
      assert.match(log, /refused connection #\d+: wrong or missing token/);
      await assert.rejects(good.connection.sendRequest('pool/noSuchMethod', {}), /Unhandled method|not found/i);
      await assert.rejects(good.connection.sendRequest('hello\u0000', {}), /Unhandled method|not found/i);
      await stillServing();
    });

    it('wrong parameter types on every method: an error answer, never a crash', async () => {
      const attempts: [unknown, unknown][] = [
        [SubmitTasks, { tasks: 'PO100001' }],
        [SubmitTasks, { tasks: [null] }],
        [SubmitTasks, { tasks: [{ poNumber: { $gt: '' } }] }],
        [SubmitTasks, { tasks: [{ poNumber: 'PO100001', priority: 'high', metadata: 'x', timeoutOverride: -1 }] }],
        [SubmitTasks, null],
        [ListTasks, { limit: 'all', offset: -1, status: 5 }],
        [CancelTask, { taskId: 5 }],
        [CancelTask, null],
        [RestartWorker, { workerId: ['worker-1'] }],
        [RetryTasks, { taskIds: 'all' }],
        [StartPool, { workerCount: 'four', coupaUrl: 'javascript:alert(1)' }],
        [StartPool, []],
        [ReadPoFile, { path: 42 }],
        [ReadPoFile, { path: '/proc/self/mem' }],
        [ReadPoFile, { path: '/', pattern: '(' }],
      ];
      const answered: string[] = [];
      for (const [type, params] of attempts) {
        try {
          const r = await good.connection.sendRequest(type as typeof GetStatus, params as never);
          answered.push(`${(type as typeof GetStatus).method} ${JSON.stringify(params)} -> ${JSON.stringify(r).slice(0, 120)}`);
        } catch {
          // an error answer
        }
      }
      console.log(`      accepted despite odd params:\n        ${answered.join('\n        ')}`);
      assert.ok(answered.length <= 4, answered.join('\n'));
      await stillServing();
      // The sane request after all that still works; a queued junk PO never reached the queue.
      const list = await good.request(ListTasks, {});
      assert.ok(list.tasks.every((t) => /^P[OM]\d{6,12}$/.test(t.poNumber)), JSON.stringify(list.tasks.map((t) => t.poNumber)));
    });

    it('a 50 MB message actually sent, however its length is spelled, and a 15 MB one of junk: refused or answered; the supervisor stays up and small', async () => {
      const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
      const pid = good.hello.supervisorPid;
      const rssBefore = rssOf(pid);
      const body = Buffer.alloc(50 * 1024 * 1024, 0x20);
      // vscode-jsonrpc reads the length with parseInt: "+52428800" and "0x3200000" are 50 MB to it too.
      const lengths = [String(body.length), `+${body.length}`, `0x${body.length.toString(16)}`, '99999999999999999999'];
      for (const length of lengths) {
        const big = await raw();
        const sentAt = Date.now();
        big.socket.write(`Content-Length: ${length}\r\n\r\n`);
        big.socket.write(body);
        await Promise.race([big.closed, new Promise((r) => setTimeout(r, 20_000))]);
        // The answer is best effort: closing a socket with unread input resets it, which may drop the answer.
        assert.ok(/message larger than|not a plain number/.test(big.text()) || big.socket.destroyed, `${length}: answered with an error, or hung up`);
        assert.ok(Date.now() - sentAt < 3_000, `${length}: refused at once, not after the hello deadline (${Date.now() - sentAt} ms)`);
        big.socket.destroy();
      }
      const grown = rssOf(pid) - rssBefore;
      assert.ok(grown < 30 * 1024 * 1024, `none of the 50 MB was kept (${Math.round(grown / 1024 / 1024)} MB more)`);
      const log = readFileSync(statePaths(stateDir).log, 'utf8');
      assert.equal((log.match(/refused connection #\d+: a message larger than 16 MB/g) ?? []).length, 2, 'the plain lengths');
      assert.match(log, /refused connection #\d+: a Content-Length that is not a plain number \("\+52428800"\)/);
      assert.match(log, /refused connection #\d+: a Content-Length that is not a plain number \("0x3200000"\)/);

      const mid = await raw();
      mid.socket.write(frame('['.repeat(15 * 1024 * 1024)));
      await new Promise((r) => setTimeout(r, 3_000));
      mid.socket.destroy();
      await stillServing();
      assert.ok(rssOf(pid) < 400 * 1024 * 1024, `the supervisor stays small (${Math.round(rssOf(pid) / 1024 / 1024)} MB)`);
    });
  });
});
