/** A stand-in that behaves as real tenants do, and a browser profile signed into it. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSignedInProfile } from '../../src/coupa/signIn';
import { createStandin, type Standin, type StandinOptions } from '../../src/coupa/standin';
import { tempDir } from './files';

export const CREDENTIALS = { email: 'demo@example.com', password: 'demo' };

export async function makeBaseProfile(profileDir: string, coupaUrl: string): Promise<void> {
  await createSignedInProfile({ profileDir, coupaUrl, ...CREDENTIALS });
}

/**
 * How real tenants treat sessions, on unless a test says otherwise: Coupa's own session ends (here
 * every 20 s) while the corporate identity provider's lives on, and any page sent to sign-in bounces
 * through the provider and back. Tests that reset the stand-in (`resetKnobs()`) come back to this.
 */
export const REAL_SESSIONS: StandinOptions = { expiredSession: 'idp-bounce', sessionLifetimeSec: 20 };

/**
 * For a whole describe block: a stand-in with REAL_SESSIONS unless `options` says otherwise, and a
 * base profile signed into it (through its identity provider), in a temp folder named after
 * `prefix`; both gone after the block. Read them in hooks and tests, not at definition time.
 */
export function standinWithProfile(options: StandinOptions, prefix: string): { standin: Standin; profile: string } {
  const env = { root: '' } as { standin: Standin; profile: string; root: string };
  before(async () => {
    env.standin = await createStandin({ ...REAL_SESSIONS, ...options });
    env.root = tempDir(prefix);
    env.profile = join(env.root, 'base-profile');
    await makeBaseProfile(env.profile, env.standin.url);
  });
  after(async () => {
    await env.standin?.close();
    if (env.root) rmSync(env.root, { recursive: true, force: true });
  });
  return env;
}
