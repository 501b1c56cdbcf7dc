export interface FoundBrowser {
  name: string;
  executablePath: string;
  channel?: string;
}
export function findBrowser(preference?: string): FoundBrowser | undefined;
export function installHint(): string;
export function browserArgs(): string[];
export function playwrightCacheDir(): string;
export function cachedHeadlessShells(cacheDir: string): string[];
export function findHeadlessShell(preference?: string, places?: string[]): { name: string; executablePath: string } | undefined;
