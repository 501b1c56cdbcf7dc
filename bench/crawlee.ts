/**
 * Contestant 3: Crawlee's PlaywrightCrawler with maxConcurrency = minConcurrency = the lane count,
 * one persistent context on a copy of the same signed-in profile (userDataDir, useIncognitoPages
 * false), the same Chromium, and the same adapter in the request handler. Requests skip Crawlee's own
 * navigation (processPo navigates), and a PO that does not exist is final, as in the pool.
 */
import { join } from 'node:path';
import { Configuration, log, PlaywrightCrawler } from '@crawlee/playwright';
import { chromium } from 'playwright';
import type { Page } from 'playwright-core';
import { processPo } from '../src/coupa/adapter';
import { normalizePo } from '../src/protocol/po';
import { browserArgs } from '../src/shared/browsers.mjs';
import { copyProfile, removeProfileCopy } from '../src/shared/profile';
import { fromError, fromResult, readArgs, worthRetrying, writeReport } from './contestant';
import type { Outcome } from './lib';

const args = readArgs();

async function main(): Promise<void> {
  const startedAt = Date.now();
  log.setLevel(log.LEVELS.WARNING);
  const copy = join(args.workDir, 'crawlee-profile');
  await copyProfile(args.baseProfile, copy);
  const outcomes = new Map<string, Outcome>();
  const firstStart = new Map<string, number>();
  const config = new Configuration({ persistStorage: false, purgeOnStart: true, storageClientOptions: { localDataDirectory: join(args.workDir, 'storage') } });
  const crawler = new PlaywrightCrawler({
    minConcurrency: args.lanes,
    maxConcurrency: args.lanes,
    maxRequestRetries: args.maxRetries,
    requestHandlerTimeoutSecs: args.taskTimeoutSec + 10,
    useSessionPool: false,
    persistCookiesPerSession: false,
    launchContext: {
      launcher: chromium,
      useIncognitoPages: false,
      userDataDir: copy,
      launchOptions: { executablePath: args.executablePath, args: browserArgs(), headless: true },
    },
    browserPoolOptions: { useFingerprints: false, retireBrowserAfterPageCount: 1_000_000, maxOpenPagesPerBrowser: Math.max(20, args.lanes) },
    requestHandler: async ({ page, request }) => {
      const po = request.userData.po as string;
      if (!firstStart.has(po)) firstStart.set(po, Date.now());
      const attempts = request.retryCount + 1;
      try {
        const result = await processPo(page as unknown as Page, po, {
          baseUrl: args.coupaUrl, downloadDir: args.downloadDir, maxDownloadBytes: 200 * 1024 * 1024,
          deadline: Date.now() + args.taskTimeoutSec * 1000,
        });
        outcomes.set(po, fromResult(result, firstStart.get(po)!, attempts));
      } catch (err) {
        if (worthRetrying(err) && attempts <= args.maxRetries) throw err;
        outcomes.set(po, fromError(po, err, firstStart.get(po)!, attempts));
      }
    },
    failedRequestHandler: async ({ request }, error) => {
      const po = request.userData.po as string;
      outcomes.set(po, fromError(po, error, firstStart.get(po) ?? Date.now(), request.retryCount + 1));
    },
  }, config);
  await crawler.run(args.pos.map((po) => {
    const parsed = normalizePo(po);
    const id = parsed.ok ? parsed.id : po;
    return { url: `${args.coupaUrl}/order_headers/${id}`, uniqueKey: po, skipNavigation: true, userData: { po } };
  }));
  await crawler.teardown();
  removeProfileCopy(copy);
  writeReport(args, args.pos.map((po) => outcomes.get(po)).filter((o): o is Outcome => Boolean(o)), startedAt);
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
