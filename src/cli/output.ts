import { escapeText, hex, hex16, sizeName } from '../util/numbers.js';
import type { TranslateResult } from '../paging/types.js';

/** Print one JSON document on stdout: the form every `--json` uses. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v), 2) + '\n');
}

/** Print lines on stdout. */
export function printLines(lines: readonly string[]): void {
  process.stdout.write(lines.map((l) => l + '\n').join(''));
}

const encoder = new TextEncoder();

/** Bytes of a block handed to stdout at once. */
const BLOCK = 1 << 16;

/**
 * Bytes gathered into blocks of 64 KiB and handed to `write` one block at a time;
 * a listing formats into `buf` at `len` (after `room`) or copies chunks in with
 * `bytes`. A block once written is not touched again until its reader calls the
 * `release` it was handed (a stream holds it until written): released blocks are
 * taken again, so a long listing reuses a few warm blocks instead of faulting in
 * fresh memory for every 64 KiB. `write` returns false when its reader is full:
 * `full` is then set until `pace` has waited.
 */
export class ByteSink {
  buf: Uint8Array = Buffer.allocUnsafe(BLOCK);
  len = 0;
  /** Blocks written since the last pace(). */
  written = 0;
  full = false;
  private readonly free: Uint8Array[] = [];

  constructor(private readonly write: (block: Uint8Array, release: () => void) => boolean) {}

  /** Make room for `n` more bytes at `len` (n at most 64 KiB). */
  room(n: number): void {
    if (this.len + n > this.buf.length) this.flush();
  }

  /** Copy `chunk` in. */
  bytes(chunk: Uint8Array): void {
    let from = 0;
    while (from < chunk.length) {
      const n = Math.min(chunk.length - from, this.buf.length - this.len);
      this.buf.set(chunk.subarray(from, from + n), this.len);
      this.len += n;
      from += n;
      if (this.len === this.buf.length) this.flush();
    }
  }

  /** Text as UTF-8 (ASCII, the usual case, copied code by code). */
  text(text: string): void {
    if (text.length > this.buf.length - this.len) this.flush();
    if (text.length > this.buf.length) return this.bytes(encoder.encode(text));
    const buf = this.buf, at = this.len;
    for (let k = 0; k < text.length; k++) {
      const c = text.charCodeAt(k);
      if (c > 0x7f) return this.bytes(encoder.encode(text));
      buf[at + k] = c;
    }
    this.len += text.length;
  }

  /** Hand the bytes so far to `write`. */
  flush(): void {
    if (this.len === 0) return;
    const block = this.buf;
    if (!this.write(block.subarray(0, this.len), () => this.free.push(block))) this.full = true;
    this.written++;
    this.buf = this.free.pop() ?? Buffer.allocUnsafe(BLOCK);
    this.len = 0;
  }
}

/**
 * A sink onto stdout, and its pace: after blocks were written, wait for the reader
 * when the pipe is full ('drain'), else yield once so a pending EPIPE surfaces (main
 * ends the process quietly on it). pace() is false once stdout is gone.
 */
export function stdoutSink(): { sink: ByteSink; pace: () => Promise<boolean> } {
  const out = process.stdout;
  // The write callback runs once the stream is done with the block (or failed: then it is not reused).
  const sink = new ByteSink((b, release) => (out.destroyed ? true : out.write(b, (err) => err || release())));
  const pace = async (): Promise<boolean> => {
    if (sink.written === 0) return !out.destroyed;
    sink.written = 0;
    if (sink.full) {
      sink.full = false;
      await new Promise<void>((r) => {
        // Whichever comes first ends the wait; the other listener goes too, so none pile up.
        const done = () => (out.off('drain', done).off('close', done), r());
        out.once('drain', done).once('close', done);
      });
    } else await new Promise<void>((r) => setImmediate(r));
    return !out.destroyed;
  };
  return { sink, pace };
}

/**
 * Write a long listing without holding it: lines go out in blocks, waiting for
 * the reader when the pipe is full, and the listing stops as soon as the reader
 * has gone.
 */
export async function writeLines(lines: Iterable<string>): Promise<void> {
  const { sink, pace } = stdoutSink();
  for (const line of lines) {
    sink.text(line);
    sink.room(1);
    sink.buf[sink.len++] = 0x0a;
    if (sink.written && !(await pace())) return;
  }
  sink.flush();
}

/** Write byte chunks (each valid until the next is asked for) the same way. */
export async function writeChunks(chunks: Iterable<Uint8Array>): Promise<void> {
  const { sink, pace } = stdoutSink();
  for (const chunk of chunks) {
    sink.bytes(chunk);
    if (sink.written && !(await pace())) return;
  }
  sink.flush();
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

/** One translation as a line of memwalk's own format (the CLI's `translate`, the explorer's walk). */
export function describeTranslation(r: TranslateResult): string {
  if (r.ok) return `${hex16(r.va)} -> ${hex16(r.pa)} ${sizeAndRights(r.pageSize, r.rights)}`;
  const f = r.fault;
  // A non-canonical address is refused before any table is read (#GP on x86): there is no entry to show.
  if (f.kind === 'non-canonical') return `${hex16(r.va)} fault non-canonical: the address is outside both canonical halves (no table read)`;
  return `${hex16(r.va)} fault ${f.kind} at level ${f.level} (entry ${hex(f.entryAddress)} = ${hex(f.entryValue)}), error code ${hex(f.errorCode)}`;
}
