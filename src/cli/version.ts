/** The package's version, written in by esbuild from package.json (`define` in esbuild.mjs). */
declare const PACKAGE_VERSION: string;

export const VERSION: string = PACKAGE_VERSION;
