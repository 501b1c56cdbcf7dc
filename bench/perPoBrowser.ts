/**
 * Contestant 2, the way existing tools work: for every PO, launch Chromium on a fresh copy of the
 * signed-in profile, check the sign-in, process the one PO with the same adapter, close the browser.
 * `lanes` POs at a time (p-limit). Run as its own process so its tree (node + browsers) is measured alone.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { chromium } from 'playwright-core';
import { processPo } from '../src/coupa/adapter';
import { sessionState } from '../src/coupa/session';
import { AuthenticationError, NetworkError } from '../src/protocol/errors';
import { browserArgs } from '../src/shared/browsers.mjs';
import { copyProfile, removeProfileCopy } from '../src/shared/profile';
import { fromError, fromResult, readArgs, worthRetrying, writeReport } from './contestant';
import type { Outcome } from './lib';

const args = readArgs();

async function attempt(poNumber: string, deadline: number) {
  const copy = join(args.workDir, `profile-${poNumber}-${randomBytes(3).toString('hex')}`);
  await copyProfile(args.baseProfile, copy);
  const context = await chromium.launchPersistentContext(copy, {
    executablePath: args.executablePath,
    args: browserArgs(),
    headless: true,
    acceptDownloads: true,
    timeout: 30_000,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const state = await sessionState(page, args.coupaUrl, 15_000);
    if (state === 'unreachable') throw new NetworkError(`${args.coupaUrl} cannot be reached`);
    if (state !== 'alive') throw new AuthenticationError('the profile is not signed in');
    return await processPo(page, poNumber, { baseUrl: args.coupaUrl, downloadDir: args.downloadDir, maxDownloadBytes: 200 * 1024 * 1024, deadline });
  } finally {
    await context.close().catch(() => undefined);
    removeProfileCopy(copy);
  }
}

async function one(poNumber: string): Promise<Outcome> {
  const startedAt = Date.now();
  for (let attempts = 1; ; attempts++) {
    try {
      return fromResult(await attempt(poNumber, Date.now() + args.taskTimeoutSec * 1000), startedAt, attempts);
    } catch (err) {
      if (attempts > args.maxRetries || !worthRetrying(err)) return fromError(poNumber, err, startedAt, attempts);
      await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** (attempts - 1))));
    }
  }
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const limit = pLimit(args.lanes);
  const outcomes = await Promise.all(args.pos.map((po) => limit(() => one(po))));
  writeReport(args, outcomes, startedAt);
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
