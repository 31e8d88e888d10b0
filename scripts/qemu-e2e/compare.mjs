#!/usr/bin/env node
// Compare memwalk with what real QEMU printed (captures made by capture.mjs).
//
// For each variant directory it checks, in order:
//   1. `memwalk info --image dump.elf --json`: vCPU 0's CR0/CR3/CR4 and paging mode
//      equal QEMU's `info registers`.
//   2. reference: an independent model of the monitor's walk (monitor-walk.mjs) fed
//      to memwalk's qemu-format formatters reproduces `info tlb`, `info mem` and the
//      gva2gpa answers byte for byte (this validates the formatters and the capture).
//   3. engine: the memwalk commands `mappings --format qemu-tlb|qemu-mem` and
//      `translate --format qemu-gva2gpa` on the dump reproduce them too. When the
//      CLI does not have these commands yet, the step says SKIP (use --strict to fail).
// Under LA57, QEMU 7.2's `info mem` prints nothing (a QEMU bug); memwalk prints the
// corrected listing, so step 3 compares it with step 2's corrected output instead.
//
// The large variant (6 GiB, 2 vCPUs) has no step 1-3 split by vCPU 0: the reference
// model checks every vCPU's listings on the ELF dump, then, for every dump file
// (ELF, QEMU's flattened kdump, the plain kdump made by `makedumpfile -R`), `memwalk
// info` must give every vCPU's CR3 (and not read a kdump as raw) and the engine
// commands with `--cpu N` must reproduce vCPU N's listings. A CLI that says it cannot
// read a format gives SKIPs; any other error or difference is a FAIL. Last, a timing
// step prints `memwalk mappings --format qemu-tlb` and `memwalk translate --image DUMP
// VA` as whole processes (wall time, peak RSS) for each dump, next to `node -e 0` and
// `memwalk --help`; it never decides the result (--no-timing leaves it out).
//
// Usage: node scripts/qemu-e2e/compare.mjs [--work DIR] [--strict] [--no-timing | --timing-only] [--repeat N] [VARIANT...]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorMappings, monitorTranslate } from './monitor-walk.mjs';
import { openDumpReader } from './dump-reader.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const dist = path.join(repo, 'dist');
const cli = path.join(dist, 'src/cli/main.js');

// The engine commands of step 3. Adjust here if the CLI's options change.
const engineCommands = {
  // --limit 0: no cap on the number of mappings (a Xen host's listing is long).
  tlb: (dump, cpu = 0) => ['mappings', '--image', dump, '--cpu', String(cpu), '--format', 'qemu-tlb', '--limit', '0'],
  mem: (dump, cpu = 0) => ['mappings', '--image', dump, '--cpu', String(cpu), '--format', 'qemu-mem', '--limit', '0'],
  gva2gpa: (dump, addrs, cpu = 0) => ['translate', '--image', dump, '--cpu', String(cpu), '--format', 'qemu-gva2gpa', ...addrs],
};

let failures = 0;
let skips = 0;
const ok = (msg) => console.log(`  ok    ${msg}`);
const bad = (msg) => {
  failures++;
  console.log(`  FAIL  ${msg}`);
};
const skip = (msg) => {
  skips++;
  console.log(`  SKIP  ${msg}`);
};

/** Compare two listings line by line; print the first differences. */
function diff(label, got, want, saveAs) {
  if (got === want) {
    ok(`${label}: ${want.split('\n').filter(Boolean).length} lines identical`);
    return;
  }
  if (saveAs) writeFileSync(saveAs, got);
  const g = got.split('\n');
  const w = want.split('\n');
  const shown = [];
  for (let i = 0; i < Math.max(g.length, w.length) && shown.length < 5; i++) {
    if (g[i] !== w[i]) shown.push(`      line ${i + 1}: memwalk ${JSON.stringify(g[i] ?? '<none>')}  qemu ${JSON.stringify(w[i] ?? '<none>')}`);
  }
  bad(`${label}: memwalk ${g.length - 1} lines, qemu ${w.length - 1} lines${saveAs ? ` (memwalk's output: ${saveAs})` : ''}`);
  for (const s of shown) console.log(s);
}

function runCli(args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 900_000 });
  const stderr = (r.stderr ?? '').trim() || (r.error ? String(r.error.message) : r.signal ? `killed by ${r.signal}` : '');
  return { code: r.status, stdout: r.stdout ?? '', stderr };
}

const missingCommand = (r) => r.code !== 0 && /unknown (command|option)|too many arguments/i.test(r.stderr);

async function compareVariant(dir) {
  const variant = path.basename(dir);
  console.log(`${variant}: ${dir}`);
  const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  if (meta.vcpus) return compareEveryVcpu(dir, meta);
  const dump = path.join(dir, 'dump.elf');
  const want = {
    tlb: readFileSync(path.join(dir, 'info-tlb.txt'), 'utf8'),
    mem: readFileSync(path.join(dir, 'info-mem.txt'), 'utf8'),
    gva: readFileSync(path.join(dir, 'gva2gpa.tsv'), 'utf8'),
  };
  const out = path.join(dir, 'memwalk');
  mkdirSync(out, { recursive: true });

  // 1. info
  const info = runCli(['info', '--image', dump, '--json']);
  if (info.code !== 0) {
    bad(`memwalk info failed (${info.code}): ${info.stderr}`);
  } else {
    const j = JSON.parse(info.stdout);
    const c = j.vcpus[0];
    const mode = meta.la57 ? '5-level' : '4-level';
    const same = (a, b) => BigInt(a) === BigInt(b);
    if (same(c.cr0, meta.vcpu0.cr0) && same(c.cr3, meta.vcpu0.cr3) && same(c.cr4, meta.vcpu0.cr4) && c.pagingMode === mode) {
      ok(`info: vCPU 0 CR0=${c.cr0} CR3=${c.cr3} CR4=${c.cr4} ${c.pagingMode}; ${j.vcpus.length} vCPUs, ${j.segments.length} segments`);
    } else {
      bad(`info: vCPU 0 ${JSON.stringify(c)} but QEMU said ${JSON.stringify(meta.vcpu0)} (${mode})`);
    }
  }

  // 2. reference model + formatters
  const fmt = await import(path.join(dist, 'src/images/qemu-format.js'));
  const dr = await openDumpReader(dump, dist);
  const cr3 = BigInt(meta.vcpu0.cr3);
  const maps = [...monitorMappings(dr.read, cr3, meta.la57)];
  const refTlb = fmt.formatInfoTlb(maps, meta.la57);
  const refMem = fmt.formatInfoMem(maps, meta.la57);
  diff('reference info tlb', refTlb, want.tlb, path.join(out, 'reference-info-tlb.txt'));
  if (meta.la57) {
    if (want.mem === '') ok(`reference info mem: QEMU printed nothing (its LA57 bug); the corrected listing has ${refMem.split('\n').length - 1} lines`);
    else diff('reference info mem (QEMU printed something under LA57?)', refMem, want.mem);
    writeFileSync(path.join(out, 'reference-info-mem-la57-fixed.txt'), refMem);
  } else {
    diff('reference info mem', refMem, want.mem, path.join(out, 'reference-info-mem.txt'));
  }
  const samples = want.gva.split('\n').filter(Boolean).map((l) => l.split('\t'));
  const refGva = samples.map(([a]) => `${a}\t${fmt.formatGva2gpa(monitorTranslate(dr.read, cr3, meta.la57, BigInt(a)))}`).join('\n') + '\n';
  diff('reference gva2gpa', refGva, want.gva);
  dr.close();

  // 3. engine
  const tlb = runCli(engineCommands.tlb(dump));
  if (missingCommand(tlb)) skip(`engine info tlb: 'memwalk ${engineCommands.tlb('DUMP').join(' ')}' not available yet (${tlb.stderr.split('\n')[0]})`);
  else if (tlb.code !== 0) bad(`engine info tlb: exit ${tlb.code}: ${tlb.stderr}`);
  else diff('engine info tlb', tlb.stdout, want.tlb, path.join(out, 'engine-info-tlb.txt'));

  const mem = runCli(engineCommands.mem(dump));
  if (missingCommand(mem)) skip(`engine info mem: 'memwalk ${engineCommands.mem('DUMP').join(' ')}' not available yet`);
  else if (mem.code !== 0) bad(`engine info mem: exit ${mem.code}: ${mem.stderr}`);
  else if (meta.la57) diff('engine info mem (LA57, against the corrected reference)', mem.stdout, refMem, path.join(out, 'engine-info-mem.txt'));
  else diff('engine info mem', mem.stdout, want.mem, path.join(out, 'engine-info-mem.txt'));

  const gva = runCli(engineCommands.gva2gpa(dump, samples.map(([a]) => a)));
  if (missingCommand(gva)) skip(`engine gva2gpa: 'memwalk ${engineCommands.gva2gpa('DUMP', ['ADDR...']).join(' ')}' not available yet`);
  else if (gva.code !== 0) bad(`engine gva2gpa: exit ${gva.code}: ${gva.stderr}`);
  else {
    // One answer line per address, in order; accept "ADDR<TAB>answer" or the bare answer.
    const lines = gva.stdout.split('\n').filter(Boolean).map((l) => l.split('\t').pop());
    const got = samples.map(([a], i) => `${a}\t${lines[i] ?? '<none>'}`).join('\n') + '\n';
    diff('engine gva2gpa', got, want.gva, path.join(out, 'engine-gva2gpa.tsv'));
  }
}

// The CLI says it cannot read this kind of file at all (as opposed to reading it wrongly
// or refusing its size): the comparisons on it are SKIPs, not FAILs.
const unsupportedFormat = (r) =>
  r.code !== 0 && /(unsupported|not supported|cannot read)[^\n]*(format|kdump|flattened)|(format|kdump|flattened)[^\n]*(unsupported|not supported)/i.test(r.stderr);

const firstLine = (text) => text.split('\n')[0];

/**
 * A multi-vCPU capture (capture.mjs --variant large): every dump file QEMU wrote (ELF,
 * kdump flattened, kdump made plain by makedumpfile -R) against every vCPU's listings.
 */
async function compareEveryVcpu(dir, meta) {
  const want = meta.vcpus.map((v) => {
    const d = path.join(dir, `cpu${v.index}`);
    return {
      tlb: readFileSync(path.join(d, 'info-tlb.txt'), 'utf8'),
      mem: readFileSync(path.join(d, 'info-mem.txt'), 'utf8'),
      gva: readFileSync(path.join(d, 'gva2gpa.tsv'), 'utf8'),
    };
  });
  const samples = want.map((w) => w.gva.split('\n').filter(Boolean).map((l) => l.split('\t')));
  const out = path.join(dir, 'memwalk');
  mkdirSync(out, { recursive: true });
  console.log(
    `  (${meta.qemu}; ${meta.mem} MiB, ${meta.smp} vCPUs, CR3 ${meta.vcpus.map((v) => v.cr3).join(' / ')}; QEMU offered ${meta.formatsOffered.join(', ')})`,
  );

  // Reference: the independent monitor model over the ELF dump reproduces every
  // vCPU's listings, so the capture itself is sound before memwalk is judged on it.
  const elf = path.join(dir, 'dump.elf');
  if (!existsSync(elf)) {
    // --drop-dumps removed it after its first comparison, when this check ran; the other dumps are still compared.
    console.log('  (dump.elf was dropped after its comparison: the reference check of the capture is not repeated)');
  } else {
    const dr = await openDumpReader(elf, dist);
    const fmt = await import(path.join(dist, 'src/images/qemu-format.js'));
    for (const v of meta.vcpus) {
      const n = v.index;
      const cr3 = BigInt(v.cr3);
      const maps = [...monitorMappings(dr.read, cr3, false)];
      diff(`reference vCPU ${n} info tlb`, fmt.formatInfoTlb(maps, false), want[n].tlb, path.join(out, `reference-cpu${n}-info-tlb.txt`));
      diff(`reference vCPU ${n} info mem`, fmt.formatInfoMem(maps, false), want[n].mem, path.join(out, `reference-cpu${n}-info-mem.txt`));
      const refGva = samples[n].map(([a]) => `${a}\t${fmt.formatGva2gpa(monitorTranslate(dr.read, cr3, false, BigInt(a)))}`).join('\n') + '\n';
      diff(`reference vCPU ${n} gva2gpa`, refGva, want[n].gva);
    }
    dr.close();
  }

  for (const d of meta.dumps) {
    const file = path.join(dir, d.file);
    const label = `${d.file} (${d.format}${d.file.endsWith('.kdump') ? ', plain' : d.file.endsWith('.flat') ? ', flattened' : ''})`;
    if (!existsSync(file)) {
      skip(`${label}: not there (dropped by --drop-dumps after its comparison, or never captured: capture again)`);
      continue;
    }
    console.log(` ${label}, ${d.bytes} bytes`);
    const info = runCli(['info', '--image', file, '--json']);
    if (unsupportedFormat(info)) {
      skip(`${label}: memwalk cannot read this format yet: ${firstLine(info.stderr)} (${1 + 3 * meta.vcpus.length} comparisons skipped)`);
      continue;
    }
    if (info.code !== 0) {
      bad(`${label} info: exit ${info.code}: ${firstLine(info.stderr)}`);
    } else {
      const j = JSON.parse(info.stdout);
      const cr3s = (j.vcpus ?? []).map((c) => c.cr3);
      const same = cr3s.length === meta.vcpus.length && meta.vcpus.every((v, i) => BigInt(cr3s[i]) === BigInt(v.cr3));
      if (d.format !== 'elf' && j.kind === 'raw') bad(`${label} info: read as a raw image (${j.kind}), but it is a ${d.format} dump`);
      else if (!same) bad(`${label} info: vCPU CR3s [${cr3s.join(', ')}] but QEMU said [${meta.vcpus.map((v) => v.cr3).join(', ')}]`);
      else ok(`${label} info: ${j.kind}, ${cr3s.length} vCPUs with QEMU's CR3s, ${j.segments.length} segments`);
    }
    for (const v of meta.vcpus) {
      const n = v.index;
      const base = `${label} vCPU ${n}`;
      const save = (what) => path.join(out, `${d.file}-cpu${n}-${what}`);
      const run = (what, args, compare) => {
        const r = runCli(args);
        if (missingCommand(r)) skip(`${base} ${what}: 'memwalk ${args.join(' ')}' not available yet (${firstLine(r.stderr)})`);
        else if (unsupportedFormat(r)) skip(`${base} ${what}: memwalk cannot read this format yet: ${firstLine(r.stderr)}`);
        else if (r.code !== 0) bad(`${base} ${what}: exit ${r.code}: ${firstLine(r.stderr)}`);
        else compare(r.stdout);
      };
      run('info tlb', engineCommands.tlb(file, n), (got) => diff(`${base} info tlb`, got, want[n].tlb, save('info-tlb.txt')));
      run('info mem', engineCommands.mem(file, n), (got) => diff(`${base} info mem`, got, want[n].mem, save('info-mem.txt')));
      run('gva2gpa', engineCommands.gva2gpa(file, samples[n].map(([a]) => a), n), (stdout) => {
        const lines = stdout.split('\n').filter(Boolean).map((l) => l.split('\t').pop());
        const got = samples[n].map(([a], i) => `${a}\t${lines[i] ?? '<none>'}`).join('\n') + '\n';
        diff(`${base} gva2gpa (${samples[n].length} addresses)`, got, want[n].gva, save('gva2gpa.tsv'));
      });
    }
  }
}

/** Wall time (and peak RSS when /usr/bin/time is there) of one whole process. */
function timeProcess(argv) {
  const gnuTime = existsSync('/usr/bin/time');
  const cmd = gnuTime ? '/usr/bin/time' : argv[0];
  const args = gnuTime ? ['-v', ...argv] : argv.slice(1);
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 900_000 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const err = r.stderr ?? '';
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
  const status = gnuTime ? Number(/Exit status: (\d+)/.exec(err)?.[1] ?? r.status) : r.status;
  const message = err.split('\n').filter((l) => l && !/^\t/.test(l) && !/^Command (exited|terminated)/.test(l))[0] ?? '';
  return { ms, rssMiB: rss ? Number(rss[1]) / 1024 : undefined, status, stdout: r.stdout ?? '', message };
}

/**
 * Whole-process cost of the CLI on each dump of a multi-vCPU capture, next to `node -e 0`
 * and `memwalk --help`: `mappings --format qemu-tlb` (the longest vCPU listing) and
 * `translate` of one kernel address. Each command runs `repeat` times, the commands
 * interleaved round by round (the machine is shared); the median wall time and the
 * largest peak RSS (GNU time) are printed and written to DIR/timing.json. Never
 * judged: timing does not decide the result.
 */
function timeCommands(dir, meta, repeat) {
  // The vCPU with the longest listing (under Xen, the pCPU with dom0's kernel tables).
  const cpu = meta.vcpus.reduce((a, b) => (b.lines.infoTlb > a.lines.infoTlb ? b : a)).index;
  const tsv = readFileSync(path.join(dir, `cpu${cpu}`, 'gva2gpa.tsv'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
  const va = (tsv.find(([a, r]) => BigInt(a) >= 0xffff800000000000n && r.startsWith('gpa:')) ?? tsv[0])[0];
  const commands = [
    { what: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    { what: 'memwalk --help', argv: [process.execPath, cli, '--help'] },
  ];
  for (const d of meta.dumps) {
    const file = path.join(dir, d.file);
    if (!existsSync(file)) continue;
    const size = `${(d.bytes / 2 ** 20).toFixed(0)} MiB file`;
    commands.push({ what: `memwalk mappings --format qemu-tlb --limit 0 --cpu ${cpu} --image ${d.file}`, argv: [process.execPath, cli, ...engineCommands.tlb(file, cpu)], size, lines: true });
    commands.push({ what: `memwalk translate --cpu ${cpu} --image ${d.file} ${va}`, argv: [process.execPath, cli, 'translate', '--cpu', String(cpu), '--image', file, va], size });
  }
  const loadBefore = existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').trim() : '';
  const runs = commands.map(() => []);
  for (let r = 0; r < repeat; r++) commands.forEach((c, i) => runs[i].push(timeProcess(c.argv)));
  const loadAfter = existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').trim() : '';
  console.log(`timing: ${repeat} interleaved runs each; load average before ${loadBefore}, after ${loadAfter}`);
  const rows = commands.map((c, i) => {
    const xs = runs[i];
    const ms = xs.map((x) => x.ms).sort((p, q) => p - q);
    const rss = xs.every((x) => x.rssMiB === undefined) ? null : Math.max(...xs.map((x) => x.rssMiB ?? 0));
    const last = xs[xs.length - 1];
    const result = last.status !== 0 ? `exit ${last.status}: ${last.message}` : c.lines ? `${last.stdout.split('\n').filter(Boolean).length} lines` : c.size ? firstLine(last.stdout.trim()) : '';
    const row = { what: c.what, medianMs: Math.round(ms[ms.length >> 1]), minMs: Math.round(ms[0]), peakRssMiB: rss === null ? null : Math.round(rss), status: last.status, result };
    console.log(
      `timing: ${c.what}: median ${row.medianMs} ms (min ${row.minMs})${rss === null ? '' : `, peak RSS ${row.peakRssMiB} MiB`}${c.size ? ` (${c.size})` : ''}${result ? ` -> ${result}` : ''}`,
    );
    return row;
  });
  writeFileSync(path.join(dir, 'timing.json'), JSON.stringify({ repeat, loadBefore, loadAfter, at: new Date().toISOString(), rows }, null, 2) + '\n');
}


async function main() {
  const args = process.argv.slice(2);
  let work = process.env.MEMWALK_QEMU_WORK || '/tmp/memwalk-qemu-e2e';
  let strict = false;
  let timing = true;
  let compare = true;
  let repeat = 1;
  const variants = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--work') work = args[++i];
    else if (args[i] === '--strict') strict = true;
    else if (args[i] === '--no-timing') timing = false;
    else if (args[i] === '--timing-only') compare = false;
    else if (args[i] === '--repeat') repeat = Number(args[++i]);
    else variants.push(args[i]);
  }
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  const list = variants.length ? variants : ['4level', 'la57', 'large', 'huge', 'xen'].filter((v) => existsSync(path.join(work, v, 'meta.json')));
  if (!list.length) throw new Error(`no captures in ${work}: run capture.mjs first`);
  if (compare) for (const v of list) await compareVariant(path.join(work, v));
  for (const v of list) {
    const meta = JSON.parse(readFileSync(path.join(work, v, 'meta.json'), 'utf8'));
    if (timing && meta.vcpus) timeCommands(path.join(work, v), meta, repeat);
  }
  console.log(`compare: ${failures} failed, ${skips} skipped`);
  if (failures || (strict && skips)) process.exit(1);
}

main().catch((err) => {
  console.error(`compare: ${err.message}`);
  process.exit(1);
});
