/** How sizes and rates read in every client, so the CLI and the editor say the same thing. */

const MB = 1024 * 1024;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MB) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 * MB) return `${(bytes / MB).toFixed(1)} MB`;
  return `${(bytes / (1024 * MB)).toFixed(2)} GB`;
}

export function formatRate(perMinute: number): string {
  return `${perMinute >= 10 ? perMinute.toFixed(0) : perMinute.toFixed(1)} POs/min`;
}
