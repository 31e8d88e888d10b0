import { existsSync, readFileSync } from 'node:fs';

const SEED = new URL('../../../shared/seeds/001_19fbabfa854f1a9b.txt', import.meta.url);

/**
 * Whether the seed threads sit beside the repository (shared/seeds/), as in the
 * project's CI. Outside it (a plain clone) the golden tests that read them are
 * skipped; under CI their absence is an error, so they can never go missing silently.
 */
export function seedsAvailable(): boolean {
  if (existsSync(SEED)) return true;
  if (process.env.CI) throw new Error(`seed 001 not found at ${SEED.pathname}: CI must have shared/ beside the repository`);
  return false;
}

/**
 * The dom0 printout of seed 001, read from the seed thread itself, so the
 * repository holds no copy of it: the raw lines from "PHYSICAL MEMORY
 * ARRANGEMENT:" to "ENTRY ADDRESS", as the mail has them (log prefixes, the line
 * wrap and any non-breaking spaces included).
 */
export function seed001PrintoutLines(): string[] {
  const lines = readFileSync(SEED, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith('(d2) (XEN) PHYSICAL MEMORY ARRANGEMENT:'));
  const end = lines.findIndex((l, i) => i > start && l.includes('ENTRY ADDRESS:'));
  if (start < 0 || end < 0) throw new Error('seed 001: the dom0 printout was not found');
  return lines.slice(start, end + 1);
}

/**
 * The same block as Xen printed it: the mail's "(d2) (XEN) " prefixes removed, its
 * non-breaking spaces made plain, and the line it wrapped joined again.
 */
export function seed001Block(): string[] {
  const raw = seed001PrintoutLines().join('\n').replace(/\u00a0/g, ' ').split('\n').filter((l) => l !== '');
  const lines: string[] = [];
  for (const l of raw) {
    if (l.startsWith('(d2) (XEN) ')) lines.push(l.slice('(d2) (XEN) '.length));
    else lines[lines.length - 1] += ' ' + l;
  }
  return lines;
}
