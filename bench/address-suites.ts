// Suites of the address-space tools and of dumps on demand:
//   read     reading 256 MiB of virtual memory into one buffer, vs a C memcpy
//   search   a 4 GiB address space searched for a 16-byte pattern, vs C memmem
//   reverse  1,000 physical addresses looked up over real Linux tables
//   startup  `memwalk translate` as a whole process on 6 GiB dumps (ELF and kdump)
//            vs `node -e 0` and `memwalk --help`; `mappings --format qemu-tlb` of a
//            12 GiB dump: wall time and peak RSS. MEMWALK_BENCH_DUMP=path adds the
//            same rows for a real dump (vCPU 0's root).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeStatus } from '../src/perf/native.js';
import { packageRoot } from '../src/perf/native.js';
import { runWorkloads, type Timer } from '../src/perf/runner.js';
import { stats } from '../src/perf/measure.js';
import type { TaskRecord } from '../src/perf/report.js';
import { buildAddressScenario, readWorkloads, reverseWorkloads, searchWorkloads } from '../src/perf/address-workloads.js';
import { BENCH_DUMP_VA, topTables, writeElfDump, writeKdumpDump } from '../src/perf/dump-files.js';
import { startProgress } from '../src/util/progress.js';
import type { SuiteArgs, SuiteResult } from './suite.js';
import { timeProcess, timeProcesses, type ProcessRow, type ProcessSample } from './process-timer.js';

const GiB = 2 ** 30;
/** Pages the startup dumps map: about the lines QEMU's `info tlb` prints for a 12 GiB Linux guest. */
const LISTED_PAGES = 76_800;

export async function addressSuite(args: SuiteArgs, native: NativeStatus, timer: Timer, log: (s: string) => void): Promise<SuiteResult> {
  const families = args.only ?? ['read', 'search', 'reverse', 'startup'];
  const want = (f: string) => families.some((x) => f.startsWith(x));
  const result: SuiteResult = { tasks: [], mismatches: [], scenario: {} };
  const run = async (label: string, engine: Parameters<typeof runWorkloads>[0], ws: Parameters<typeof runWorkloads>[1], nativeRoot?: bigint) => {
    const bar = startProgress(label, ws.length * 3);
    const r = await runWorkloads(engine, ws, {
      runs: args.runs,
      timer,
      ...(nativeRoot !== undefined ? { native: { status: native, imagePath: join(args.out, 'address-image.bin'), repeats: args.runs, root: nativeRoot } } : {}),
      onProgress: (d) => bar.update(d),
      log,
    });
    bar.stop();
    result.tasks.push(...r.tasks);
    result.mismatches.push(...r.mismatches);
  };

  if (want('read') || want('search')) {
    const a = buildAddressScenario();
    log(`built 256 MiB mapped by 4 KiB pages, and 4 GiB of address space over it, in ${a.buildMs.toFixed(0)} ms`);
    result.scenario.address = `256 MiB of data mapped contiguously by 4 KiB pages; a second root mapping it 16 times (4 GiB, 4 KiB pages), the pattern planted ${a.planted.length} times; built in ${Math.round(a.buildMs)} ms`;
    const ws = [...(want('read') ? readWorkloads(a) : []), ...(want('search') ? searchWorkloads(a) : [])];
    await run('address spaces', a.scn.engine, ws, a.scn.root);
    rmSync(join(args.out, 'address-image.bin'), { force: true });
  }
  if (want('reverse')) {
    const r = await reverseWorkloads(packageRoot());
    result.scenario.reverse = `QEMU fixture test/fixtures/qemu/4level: Linux 6.1, 512 MiB guest, ${r.leaves} leaves`;
    await run('reverse', r.engine, r.workloads);
  }
  if (want('startup')) result.tasks.push(...startupTasks(args, log, result.scenario));
  return result;
}

function record(name: string, samples: readonly ProcessSample[], items: number, unit: string, checksum: string): TaskRecord {
  const ms = samples.map((s) => s.ms);
  const st = stats(ms);
  return { name, family: 'startup', backend: 'wasm', ...st, samples: ms.map((x) => Math.round(x * 100) / 100), runs: ms.length, items, unit, itemsPerSec: items / (st.medianMs / 1000), checksum };
}

/** The dumps (sparse: a few hundred KiB of disk each) and the process rows, runs interleaved so load drifts hit each alike. */
function startupTasks(args: SuiteArgs, log: (s: string) => void, scenario: Record<string, unknown>): TaskRecord[] {
  const dir = join(args.out, 'startup-dumps');
  mkdirSync(dir, { recursive: true });
  const small = 6 * GiB, big = 12 * GiB;
  const t6 = topTables(small, LISTED_PAGES), t12 = topTables(big, LISTED_PAGES);
  const elf6 = join(dir, 'guest-6g.elf'), kdump6 = join(dir, 'guest-6g.kdump'), elf12 = join(dir, 'guest-12g.elf');
  writeElfDump(elf6, small, t6);
  writeKdumpDump(kdump6, small, t6);
  writeElfDump(elf12, big, t12);
  // The command users run: the package's bin (the bundle scripts/build-cli.mjs makes).
  const cli = join(packageRoot(), 'dist', 'cli', 'memwalk.cjs');
  const node = process.execPath;
  const cr3 = (t: { rootPfn: number }) => '0x' + (BigInt(t.rootPfn) * 4096n).toString(16);
  const va = '0x' + (BENCH_DUMP_VA + 0x1234n).toString(16);
  scenario.startup = `sparse dumps, x86-64 tables in the top frames mapping ${LISTED_PAGES} 4 KiB pages: 6 GiB ELF core and kdump (zlib, only the table frames dumped), 12 GiB ELF core`;
  type Row = ProcessRow & { name: string; items?: number; unit?: string };
  const rows: Row[] = [
    { name: 'node -e 0', cmd: node, argv: ['-e', '0'] },
    { name: 'memwalk --help', cmd: node, argv: [cli, '--help'] },
    { name: 'memwalk translate, 6 GiB ELF dump (process)', cmd: node, argv: [cli, 'translate', '--image', elf6, '--cr3', cr3(t6), va] },
    { name: 'memwalk translate, 6 GiB kdump (process)', cmd: node, argv: [cli, 'translate', '--image', kdump6, '--cr3', cr3(t6), va] },
    { name: `memwalk mappings --format qemu-tlb, 12 GiB ELF dump (process, ${LISTED_PAGES} lines)`, cmd: node, argv: [cli, 'mappings', '--image', elf12, '--cr3', cr3(t12), '--format', 'qemu-tlb', '--limit', '0'], rss: true, keep: false, items: LISTED_PAGES, unit: 'lines' },
  ];
  const real = process.env.MEMWALK_BENCH_DUMP;
  if (real) {
    // vCPU 0's root; the address: the first mapping's (found untimed).
    const first = timeProcess({ cmd: node, argv: [cli, 'mappings', '--image', real, '--limit', '1', '--json'] }).out;
    const m = /"va"\s*:\s*"(0x[0-9a-f]+)"/i.exec(first);
    if (m) rows.push({ name: `memwalk translate, MEMWALK_BENCH_DUMP (process)`, cmd: node, argv: [cli, 'translate', '--image', real, m[1]!] });
    rows.push({ name: 'memwalk mappings --format qemu-tlb, MEMWALK_BENCH_DUMP (process)', cmd: node, argv: [cli, 'mappings', '--image', real, '--format', 'qemu-tlb', '--limit', '0'], rss: true, keep: false, unit: 'lines' });
    scenario.realDump = real;
  }
  const runs = Math.max(3, Math.min(args.runs, 10));
  log(`startup: ${rows.length} commands, ${runs + 1} rounds, timed from a fresh process`);
  const samples = timeProcesses(rows, runs);
  const out: TaskRecord[] = [];
  rows.forEach((row, i) => {
    const ss = samples[i]!;
    const rss = ss.map((s) => s.rssKiB).filter((x): x is number => x !== undefined);
    // The output's first line stands for it (the same every run); for listings, the child's peak RSS.
    const sum = rss.length ? `maxRssKiB=${Math.max(...rss)}` : (ss[0]!.out.split('\n')[0] ?? '').slice(0, 80);
    out.push(record(row.name, ss, row.items ?? 1, row.unit ?? 'process', sum));
  });
  rmSync(dir, { recursive: true, force: true });
  log(`startup: ${out.map((t) => `${t.name} ${t.medianMs.toFixed(0)} ms`).join('; ')}`);
  return out;
}
