import { Option, type Command } from 'commander';
import { loadImage } from '../image-engine.js';
import { addRootOptions, addWalkOptions, parseRootOptions, resolveRoot, walkFlags, type RootOptions, type AccessOptions } from '../walk-options.js';
import { address, choice, size, writeOutputFile } from '../args.js';
import { printJson, writeLines, note } from '../output.js';
import { xxdLines } from '../hexdump.js';
import { hex, quote } from '../../util/numbers.js';
import { readVirtual, readPhysical, MAX_VIRTUAL_BYTES, type Hole, type VirtualRead } from '../../address/virtual-memory.js';
import { InvalidInputError, NotFoundError } from '../../errors.js';
import type { BackendName } from '../../backends/backend.js';

interface Options extends RootOptions, AccessOptions {
  image: string;
  backend: string;
  physical?: boolean;
  raw?: boolean;
  out?: string;
  json?: boolean;
  user?: boolean;
}

/** Why a hole cannot be read, in the words `translate` uses. */
export function holeReason(h: Hole): string {
  if (!h.fault && h.excluded) return `physical ${hex(h.pa!)} was left out of the dump (excluded by makedumpfile)`;
  if (!h.fault) return `physical ${hex(h.pa!)} has no contents in the dump`;
  const f = h.fault;
  if (f.kind === 'non-canonical') return 'fault non-canonical: the address is outside both canonical halves';
  return `fault ${f.kind} at level ${f.level} (entry ${hex(f.entryAddress)} = ${hex(f.entryValue)}), error code ${hex(f.errorCode)}`;
}

function holeJson(h: Hole): object {
  const f = h.fault;
  return {
    address: hex(h.va),
    length: h.length,
    ...(f ? { fault: { kind: f.kind, level: f.level, errorCode: f.errorCode, entryAddress: hex(f.entryAddress), entryValue: hex(f.entryValue) } } : { pa: hex(h.pa!), noContents: true, ...(h.excluded ? { excluded: true } : {}) }),
  };
}

/** The read as readable pieces and holes, in address order. */
function* pieces(start: bigint, r: VirtualRead): Generator<{ at: bigint; bytes?: Uint8Array; hole?: Hole }> {
  let off = 0;
  for (const h of r.holes) {
    const k = Number(h.va - start);
    if (k > off) yield { at: start + BigInt(off), bytes: r.bytes.subarray(off, k) };
    yield { at: h.va, hole: h };
    off = k + h.length;
  }
  if (off < r.bytes.length) yield { at: start + BigInt(off), bytes: r.bytes.subarray(off) };
}

export function register(program: Command): void {
  const cmd = program
    .command('read')
    .description("read memory by virtual address through a root (or by physical address) and print it in xxd's layout")
    .argument('<address>', 'virtual address (physical with --physical)')
    .argument('<length>', 'bytes to read (K/M/G suffixes allowed)');
  addRootOptions(cmd);
  addWalkOptions(cmd)
    .option('-u, --user', 'read as user mode would (pages without the user bit are unreadable)')
    .option('--physical', 'read physical memory: the address is physical, no tables are walked')
    .addOption(new Option('--raw', 'write the bytes themselves (to stdout, or to --out FILE); refused when any byte is unreadable').conflicts('json'))
    .option('-o, --out <file>', 'with --raw: write to this file instead of stdout')
    .option('-j, --json', 'print {"address","length","pieces":[{"address","bytes"} | {"address","length","fault"}]}')
    .action(async (addrText: string, lenText: string, o: Options) => {
      const at = address(addrText, 'ADDRESS');
      const len = size(lenText, 'LENGTH');
      if (len > BigInt(MAX_VIRTUAL_BYTES)) throw new InvalidInputError(`LENGTH: ${quote(lenText)} is more than ${MAX_VIRTUAL_BYTES} bytes; read in pieces`, { input: 'LENGTH' });
      if (o.out !== undefined && !o.raw) throw new InvalidInputError('--out: only with --raw (the hexdump goes to stdout)', { input: '--out' });
      const backend = choice(o.backend, '--backend', ['wasm', 'reference'] as const) as BackendName;
      const rootChoice = parseRootOptions(o);
      const flags = walkFlags(o);
      const loaded = loadImage(o, backend);
      const e = loaded.engine;
      let r: VirtualRead;
      if (o.physical) {
        if (rootChoice.cr3 !== undefined || rootChoice.cpu !== undefined) throw new InvalidInputError('--physical: no root is walked; leave out --cr3 and --cpu', { input: '--physical' });
        r = readPhysical(e, at, Number(len), { partial: true });
      } else {
        const { root, format } = resolveRoot(loaded, rootChoice);
        r = readVirtual(e, root, at, Number(len), { format, ...flags, user: Boolean(o.user), partial: true });
      }
      if (o.raw) {
        const h = r.holes[0];
        if (h) throw new NotFoundError(`read: ${hex(h.va)} (${h.length} bytes) cannot be read: ${holeReason(h)}; nothing written (the hexdump form names every hole)`, { va: h.va });
        if (o.out !== undefined) writeOutputFile(o.out, '--out', r.bytes, [loaded.path]);
        else await new Promise<void>((done) => process.stdout.write(r.bytes, () => done()));
        return;
      }
      if (o.json) {
        printJson({
          address: hex(at),
          length: Number(len),
          physical: Boolean(o.physical),
          pieces: [...pieces(at, r)].map((p) => (p.hole ? holeJson(p.hole) : { address: hex(p.at), bytes: Buffer.from(p.bytes!).toString('hex') })),
        });
        return;
      }
      await writeLines(
        (function* () {
          for (const p of pieces(at, r)) {
            if (p.bytes) yield* xxdLines(p.at, p.bytes);
            else yield `${BigInt.asUintN(64, p.at).toString(16).padStart(8, '0')}: unreadable, ${p.hole!.length} bytes to ${hex(p.at + BigInt(p.hole!.length))}: ${holeReason(p.hole!)}`;
          }
        })(),
      );
      const missing = r.holes.reduce((a, h) => a + h.length, 0);
      if (missing) note(`${missing} of ${len} bytes could not be read (named in the listing)`);
    });
}
