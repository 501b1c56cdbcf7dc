export interface FoundBrowser {
  name: string;
  executablePath: string;
  channel?: string;
}
export function findBrowser(preference?: string): FoundBrowser | undefined;
export function installHint(): string;
export function browserArgs(): string[];
