/** The child that reads one PO list for the supervisor (see listReader.ts), then exits. */
import { readPoFile } from './inputFiles';

process.once('message', (m: { path: string; pattern?: string }) => {
  readPoFile(m.path, m.pattern).then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (err: unknown) => process.send!({ ok: false, message: (err as Error)?.message ?? String(err) }, () => process.exit(0)),
  );
});
