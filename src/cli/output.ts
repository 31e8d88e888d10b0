import { escapeText, sizeName } from '../util/numbers.js';

/** Print one JSON document on stdout: the form every `--json` uses. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v), 2) + '\n');
}

/** Print lines on stdout. */
export function printLines(lines: readonly string[]): void {
  process.stdout.write(lines.map((l) => l + '\n').join(''));
}

/**
 * Write a long listing without holding it: lines are flushed in blocks, waiting
 * for the reader when the pipe is full, and the listing stops as soon as the
 * reader has gone (main ends the process quietly on EPIPE).
 */
export async function writeLines(lines: Iterable<string>): Promise<void> {
  let block = '';
  for (const line of lines) {
    block += line + '\n';
    if (block.length > 1 << 16) {
      if (process.stdout.destroyed) return;
      const more = process.stdout.write(block);
      block = '';
      // Let a pending EPIPE surface; wait for the reader when the pipe is full.
      if (!more) await new Promise<void>((r) => process.stdout.once('drain', r).once('close', r));
      else await new Promise<void>((r) => setImmediate(r));
    }
  }
  if (!process.stdout.destroyed) process.stdout.write(block);
}

const notes = new Map<string, string>();

/**
 * A remark that is not an error (`memwalk: note: ...`), at most once per key. Notes
 * are held until the command ends: main prints them after a successful run, or
 * folds them into the error line, so an error stays one line.
 */
export function note(text: string, key = text): void {
  if (!notes.has(key)) notes.set(key, escapeText(text));
}

/** The notes so far, emptied. */
export function takeNotes(): string[] {
  const all = [...notes.values()];
  notes.clear();
  return all;
}

/** Page size and rights as `translate` and `mappings` both print them: `4K wx user`, `2M -- supervisor`. */
export function sizeAndRights(size: bigint | number, r: { write: boolean; execute: boolean; user: boolean }): string {
  return `${sizeName(size).padStart(4)} ${r.write ? 'w' : '-'}${r.execute ? 'x' : '-'} ${r.user ? 'user' : 'supervisor'}`;
}
