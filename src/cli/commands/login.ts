/** `po-pool login`: a person signs into Coupa once, in a visible browser, on the base profile. */
import { SignIn } from '../../protocol/rpc';
import { ENV, type Settings } from '../config';
import { connectOrStart, print, type Context } from '../context';
import { EXIT_OK, EXIT_PO_FAILED, UsageError } from '../outcome';

export interface LoginOptions {
  /** `coupaUrl`, `baseProfilePath` (absolute) and `browser` are used. */
  settings: Settings;
  /** Seconds. */
  timeout?: number;
}

export async function login(ctx: Context, options: LoginOptions): Promise<number> {
  const { coupaUrl, baseProfilePath, browser } = options.settings;
  if (!coupaUrl) throw new UsageError(`login needs your Coupa address: --coupa URL, ${ENV.coupaUrl}, or coupaUrl in the config file`);
  if (!baseProfilePath) throw new UsageError(`login needs the profile folder to sign in: --profile DIR, ${ENV.baseProfilePath}, or baseProfilePath in the config file`);
  const client = await connectOrStart(ctx);
  try {
    print(ctx.io.stderr, `a browser window opens at ${coupaUrl}; sign in there (it closes by itself)…`);
    const r = await client.request(SignIn, {
      coupaUrl,
      profilePath: baseProfilePath,
      ...(browser !== undefined ? { browser } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    });
    print(ctx.io.stdout, r.message);
    return r.signedIn ? EXIT_OK : EXIT_PO_FAILED;
  } finally {
    client.dispose();
  }
}
