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
// Usage: node scripts/qemu-e2e/compare.mjs [--work DIR] [--strict] [VARIANT...]
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
  tlb: (dump) => ['mappings', '--image', dump, '--cpu', '0', '--format', 'qemu-tlb'],
  mem: (dump) => ['mappings', '--image', dump, '--cpu', '0', '--format', 'qemu-mem'],
  gva2gpa: (dump, addrs) => ['translate', '--image', dump, '--cpu', '0', '--format', 'qemu-gva2gpa', ...addrs],
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
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '').trim() };
}

const missingCommand = (r) => r.code !== 0 && /unknown (command|option)|too many arguments/i.test(r.stderr);

async function compareVariant(dir) {
  const variant = path.basename(dir);
  console.log(`${variant}: ${dir}`);
  const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
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

async function main() {
  const args = process.argv.slice(2);
  let work = process.env.MEMWALK_QEMU_WORK || '/tmp/memwalk-qemu-e2e';
  let strict = false;
  const variants = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--work') work = args[++i];
    else if (args[i] === '--strict') strict = true;
    else variants.push(args[i]);
  }
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  const list = variants.length ? variants : ['4level', 'la57'].filter((v) => existsSync(path.join(work, v, 'meta.json')));
  if (!list.length) throw new Error(`no captures in ${work}: run capture.mjs first`);
  for (const v of list) await compareVariant(path.join(work, v));
  console.log(`compare: ${failures} failed, ${skips} skipped`);
  if (failures || (strict && skips)) process.exit(1);
}

main().catch((err) => {
  console.error(`compare: ${err.message}`);
  process.exit(1);
});
