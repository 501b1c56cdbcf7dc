// The options every bundle shares, so the benchmark is bundled the way the product is:
// esbuild.mjs (the product and its tests) and bench/build.mjs both start from these.

export const nodeBundle = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
};

// playwright-core ships as a package in the .vsix: it reads its own files at run time.
export const external = ['vscode', 'playwright-core', 'playwright-core/*'];
