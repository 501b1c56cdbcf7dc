/** `po-pool login`: a person signs into Coupa once, in a visible browser, on the base profile. */
import { resolve } from 'node:path';
import { SignIn } from '../../protocol/rpc';
import { connectOrStart, print, type Context } from '../context';
import { EXIT_OK, EXIT_PO_FAILED } from '../outcome';

export interface LoginOptions {
  coupa: string;
  profile: string;
  browser?: string;
  /** Seconds. */
  timeout?: number;
}

export async function login(ctx: Context, options: LoginOptions): Promise<number> {
  const client = await connectOrStart(ctx);
  try {
    print(ctx.io.stderr, `a browser window opens at ${options.coupa}; sign in there (it closes by itself)…`);
    const r = await client.request(SignIn, {
      coupaUrl: options.coupa,
      profilePath: resolve(options.profile),
      ...(options.browser !== undefined ? { browser: options.browser } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    });
    print(ctx.io.stdout, r.message);
    return r.signedIn ? EXIT_OK : EXIT_PO_FAILED;
  } finally {
    client.dispose();
  }
}
