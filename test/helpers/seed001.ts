import { readFileSync } from 'node:fs';

/**
 * The dom0 printout of seed 001, read from the seed thread itself (shared/ sits
 * beside the repository, in CI too), so the repository holds no copy of it: the
 * raw lines from "PHYSICAL MEMORY ARRANGEMENT:" to "ENTRY ADDRESS", as the mail
 * has them (log prefixes, the line wrap and any non-breaking spaces included).
 */
export function seed001PrintoutLines(): string[] {
  const text = readFileSync(new URL('../../../shared/seeds/001_19fbabfa854f1a9b.txt', import.meta.url), 'utf8');
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('(d2) (XEN) PHYSICAL MEMORY ARRANGEMENT:'));
  const end = lines.findIndex((l, i) => i > start && l.includes('ENTRY ADDRESS:'));
  if (start < 0 || end < 0) throw new Error('seed 001: the dom0 printout was not found');
  return lines.slice(start, end + 1);
}
