/**
 * "Try the Demo": the embedded Coupa stand-in served from the supervisor itself, and a profile
 * signed into it, so the whole product can be seen without a Coupa account.
 */
import { join } from 'node:path';
import type { Standin } from '../coupa/standin';
import type { Logger } from './log';
import type { StatePaths } from '../shared/paths';

/**
 * A little latency, so the demo looks like a real tenant rather than a local file server; and
 * sessions as real tenants keep them: Coupa's ends (here every 2 minutes) while the identity
 * provider's lives on, so the demo shows sessions renewed without a person.
 */
export const DEMO_STANDIN = { seed: 1, pageLatencyMs: 150, downloadLatencyMs: 60, expiredSession: 'idp-bounce', sessionLifetimeSec: 120 } as const;
export const DEMO_CREDENTIALS = { email: 'demo@example.com', password: 'demo' };

export function demoStarter(paths: StatePaths, log: Logger): { start: (downloadDir: string) => Promise<{ coupaUrl: string; baseProfilePath: string }>; close: () => Promise<void> } {
  let standin: Standin | undefined;
  let profileReady = false;
  const baseProfilePath = join(paths.dir, 'demo-profile');
  return {
    async start() {
      // Loaded on first use, like everything that pulls in playwright-core: most supervisors never run the demo.
      const [{ createStandin }, { createSignedInProfile }] = await Promise.all([import('../coupa/standin'), import('../coupa/signIn')]);
      if (!standin) {
        standin = await createStandin({ ...DEMO_STANDIN, logger: { debug: () => undefined } });
        profileReady = false;
        log.info(`Coupa stand-in serving at ${standin.url}`);
      }
      // Sessions live in the stand-in's memory: a new stand-in needs a newly signed-in profile.
      if (!profileReady) {
        await createSignedInProfile({ profileDir: baseProfilePath, coupaUrl: standin.url, ...DEMO_CREDENTIALS });
        profileReady = true;
        log.info(`demo profile signed in at ${baseProfilePath}`);
      }
      return { coupaUrl: standin.url, baseProfilePath };
    },
    async close() {
      await standin?.close();
      standin = undefined;
    },
  };
}
