import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statePaths } from '../../src/shared/paths';

describe('state paths', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'po-paths-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('a socket path is measured in bytes: a state folder with non-ASCII names gets its socket where it fits', () => {
    // 87 characters but 138 bytes: within the limit counted in characters, far over it in bytes.
    const dir = join('/home', 'Überweisungsbestätigungen', 'données-élèves', '日本語の購買発注書フォルダ', '請求書と添付ファイル');
    assert.ok(join(dir, 'supervisor.sock').length <= 100 && Buffer.byteLength(join(dir, 'supervisor.sock')) > 104);
    const socket = statePaths(dir).socket;
    assert.ok(Buffer.byteLength(socket) <= 100, `${socket} is ${Buffer.byteLength(socket)} bytes`);
    assert.ok(socket.startsWith(tmpdir()), socket);
    const ascii = join(root, 'state');
    assert.equal(statePaths(ascii).socket, join(ascii, 'supervisor.sock'), 'a short folder keeps its socket');
  });

  describe('on Windows', () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    beforeEach(() => Object.defineProperty(process, 'platform', { value: 'win32' }));
    afterEach(() => Object.defineProperty(process, 'platform', platform));

    it('the pipe name cannot be guessed: it has a random part, kept owner-only in the state folder', () => {
      const a = join(root, 'a');
      const b = join(root, 'b');
      const pipe = statePaths(a).socket;
      assert.match(pipe, /^\\\\\.\\pipe\\po-pool-[0-9a-f]{32}$/);
      assert.equal(statePaths(a).socket, pipe, 'the same folder, the same pipe');
      assert.notEqual(statePaths(b).socket, pipe);
      assert.deepEqual(readdirSync(a), ['pipe-secret']);
      assert.equal(statSync(join(a, 'pipe-secret')).mode & 0o777, 0o600);
      rmSync(a, { recursive: true });
      assert.notEqual(statePaths(a).socket, pipe, 'a new state folder, a new name');
    });
  });
});
