#!/usr/bin/env node
// Check memwalk's Xen dump-core reader against the real `xl dump-core` file captured
// by xl-capture.mjs, with oracles that do not go through memwalk's Xen reader:
//   - layout: the file's sections and notes, parsed here from the ELF bytes alone
//     (written to layout.json; docs/dumps.md records them);
//   - `memwalk info`: format xen-dump-core, PV, one vCPU, pages = the p2m size that
//     xen-mfndump printed, and CR0/CR2/CR3/CR4/RIP equal to what xenctx printed;
//   - frames: every guest frame memwalk reads from the dump-core (guest view, by
//     pfn) equals the host's frame p2m[pfn] in QEMU's ELF dump of the whole host
//     (read with memwalk's ELF reader, already checked against QEMU), p2m taken from
//     xen-mfndump's printout of the live domain; and the machine view agrees;
//   - the planted page: the pattern the domU wrote is in guest frame `pfn` (as the
//     guest said, from /proc/self/pagemap) and in host frame p2m[pfn];
//   - walks: from the CR3 of the vCPU that was in user mode (machine view), the
//     planted user address translates to p2m[pfn], and its direct-map alias
//     (0xffff888000000000 + pfn * 4096) does from every vCPU's CR3.
// When the capture has a PVH domU too (pvh/), its dump-core (an HVM one: .xen_pfn,
// guest frames only) is checked the same way, except that there is no p2m printout
// for it: each of its non-zero frames must be some frame of the host dump (by
// content), the planted page's host frame is found by searching the host dump, and
// the walks are in guest-physical frames.
// Usage: node scripts/qemu-e2e/xl-check.mjs [--work DIR]
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../../dist');
const work = process.argv[2] === '--work' ? process.argv[3] : process.env.MEMWALK_QEMU_WORK || '/tmp/memwalk-qemu-e2e';
const dir = path.join(work, 'xl-dump-core');
const core = path.join(dir, 'domu.core');
const DIRECT_MAP = 0xffff888000000000n;

let failures = 0;
const ok = (m) => console.log(`  ok    ${m}`);
const bad = (m) => {
  failures++;
  console.log(`  FAIL  ${m}`);
};
const check = (cond, m, why = '') => (cond ? ok(m) : bad(why ? `${m}: ${why}` : m));
const hex = (v) => '0x' + BigInt(v).toString(16);

/** The planted page, as xl-planter.c writes it. */
function plantedPattern() {
  const p = Buffer.alloc(4096);
  for (let i = 0; i < 4096; i++) p[i] = (i * 7 + 0x5a) & 0xff;
  p.write('MEMWALK-XLDUMP-PLANTED-PAGE-4K!!', 0, 'latin1');
  return p;
}

/** Sections and notes of an ELF64 file, from its bytes (independent of memwalk). */
function elfLayout(file) {
  const fd = openSync(file, 'r');
  const read = (off, len) => {
    const b = Buffer.alloc(len);
    readSync(fd, b, 0, len, Number(off));
    return b;
  };
  try {
    const eh = read(0, 64);
    const h = {
      ident: eh.subarray(0, 16).toString('hex'),
      type: eh.readUInt16LE(16),
      machine: eh.readUInt16LE(18),
      version: eh.readUInt32LE(20),
      entry: hex(eh.readBigUInt64LE(24)),
      phoff: Number(eh.readBigUInt64LE(32)),
      shoff: Number(eh.readBigUInt64LE(40)),
      flags: eh.readUInt32LE(48),
      ehsize: eh.readUInt16LE(52),
      phentsize: eh.readUInt16LE(54),
      phnum: eh.readUInt16LE(56),
      shentsize: eh.readUInt16LE(58),
      shnum: eh.readUInt16LE(60),
      shstrndx: eh.readUInt16LE(62),
    };
    const shs = [];
    const all = read(h.shoff, h.shnum * h.shentsize);
    for (let i = 0; i < h.shnum; i++) {
      const o = i * h.shentsize;
      shs.push({
        index: i,
        nameOffset: all.readUInt32LE(o),
        type: all.readUInt32LE(o + 4),
        flags: Number(all.readBigUInt64LE(o + 8)),
        addr: Number(all.readBigUInt64LE(o + 16)),
        offset: Number(all.readBigUInt64LE(o + 24)),
        size: Number(all.readBigUInt64LE(o + 32)),
        link: all.readUInt32LE(o + 40),
        info: all.readUInt32LE(o + 44),
        addralign: Number(all.readBigUInt64LE(o + 48)),
        entsize: Number(all.readBigUInt64LE(o + 56)),
      });
    }
    const strtab = read(shs[h.shstrndx].offset, shs[h.shstrndx].size);
    for (const s of shs) s.name = strtab.toString('latin1', s.nameOffset, strtab.indexOf(0, s.nameOffset));
    const notes = [];
    for (const s of shs.filter((x) => x.type === 7)) {
      const b = read(s.offset, s.size);
      for (let o = 0; o + 12 <= b.length; ) {
        const namesz = b.readUInt32LE(o);
        const descsz = b.readUInt32LE(o + 4);
        const type = b.readUInt32LE(o + 8);
        const name = b.toString('latin1', o + 12, o + 12 + namesz).replace(/\0+$/, '');
        const d = o + 12 + ((namesz + 3) & ~3);
        const desc = b.subarray(d, d + descsz);
        notes.push({ section: s.name, at: s.offset + o, name, namesz, type: hex(type), descsz, desc: desc.toString('hex') });
        o = d + ((descsz + 3) & ~3);
      }
    }
    const p2mSection = shs.find((x) => x.name === '.xen_p2m');
    const raw = p2mSection ? read(p2mSection.offset, p2mSection.size) : Buffer.alloc(0);
    const p2m = [];
    for (let o = 0; o + 16 <= raw.length; o += 16) p2m.push([raw.readBigUInt64LE(o), raw.readBigUInt64LE(o + 8)]);
    return { header: h, sections: shs, notes, p2m };
  } finally {
    closeSync(fd);
  }
}

/** xen-mfndump dump-p2m: "pfn=0x.. ==> mfn=0x.. (type ..)" lines. */
function oracleP2m(text) {
  const m = new Map();
  for (const [, pfn, mfn] of text.matchAll(/pfn=0x([0-9a-f]+) ==> mfn=0x([0-9a-f]+)/g)) m.set(Number.parseInt(pfn, 16), Number.parseInt(mfn, 16));
  const size = Number(/P2M size: = (\d+)/.exec(text)?.[1] ?? -1);
  return { m, size };
}

/** xenctx -a -C: per "vcpuN:" block, "cr3: 000000003c318000" etc. */
function oracleRegisters(text) {
  const parts = text.split(/^vcpu(\d+):$/m);
  const out = [];
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const block = parts[i + 1];
    const get = (n) => {
      const r = new RegExp(`\\b${n}: ([0-9a-f]+)`).exec(block);
      return r ? BigInt('0x' + r[1]) : undefined;
    };
    out[Number(parts[i])] = { cr0: get('cr0'), cr2: get('cr2'), cr3: get('cr3'), cr4: get('cr4'), rip: get('rip'), rflags: get('flags'), cs: get('cs') };
  }
  return out;
}

const USER_TOP = 0x800000000000n;

function memwalkInfo(file, extra = []) {
  const r = spawnSync(process.execPath, [path.join(dist, 'src/cli/main.js'), 'info', '-f', file, '--json', ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`memwalk info -f ${file}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout);
}

function printLayout(layout) {
  for (const s of layout.sections) {
    console.log(`        [${s.index}] ${s.name || '(null)'} type ${s.type} flags ${s.flags} offset ${hex(s.offset)} size ${hex(s.size)} align ${s.addralign} entsize ${s.entsize}`);
  }
  for (const n of layout.notes) console.log(`        note ${n.name} type ${n.type} descsz ${n.descsz} at ${hex(n.at)}${n.descsz <= 32 ? ` desc ${n.desc}` : ''}`);
}

/** `memwalk info` and the library's vCPUs against xenctx, vCPU by vCPU. */
function checkVcpus(file, dump, regs, nrPages, guestKind) {
  const info = memwalkInfo(file);
  check(info.kind === 'xen-dump-core' && info.details?.guest === guestKind, `memwalk info: format ${info.kind}, guest ${info.details?.guest} (want ${guestKind})`);
  check(info.details?.pages === nrPages, `memwalk info: pages ${info.details?.pages} = xch_nr_pages ${nrPages}`);
  check(info.vcpus?.length === regs.length, `memwalk info: ${info.vcpus?.length} vCPUs, xenctx ${regs.length}`);
  regs.forEach((r, k) => {
    const v = info.vcpus?.[k] ?? {};
    const fields = ['cr0', 'cr2', 'cr3', 'cr4', 'rip'];
    const wrong = fields.filter((f) => r[f] === undefined || BigInt(v[f] ?? -1) !== r[f]);
    if (BigInt(dump.vcpus[k]?.rflags ?? -1) !== r.rflags) wrong.push('rflags');
    if (v.csSelector !== Number(r.cs ?? -1)) wrong.push('cs');
    check(!wrong.length, `vCPU ${k}: CR0 ${v.cr0} CR2 ${v.cr2} CR3 ${v.cr3} CR4 ${v.cr4} RIP ${v.rip} RFLAGS ${hex(dump.vcpus[k]?.rflags ?? 0n)} CS ${hex(v.csSelector ?? 0)} = xenctx`, `differ: ${wrong.map((f) => `${f} xenctx ${hex(r[f] ?? -1n)}`).join(', ')}`);
  });
  return info;
}

/** The vCPU that was running user code (the planter's loop) when the domain was paused. */
function userVcpu(regs) {
  const k = regs.findIndex((r) => r.rip !== undefined && r.rip < USER_TOP);
  return k < 0 ? 0 : k;
}

function checkWalks(dump, vcpu, va, pfn, want, view) {
  const label = `${view} view`;
  for (const off of [0n, 0x123n]) {
    const t = dump.engine.translate(BigInt(dump.vcpus[vcpu].root), va + off);
    check(t.ok && t.pa === want + off, `${label}, vCPU ${vcpu} (in user mode): planted ${hex(va + off)} -> ${t.ok ? hex(t.pa) : t.fault?.kind} (want ${hex(want + off)})`);
  }
  dump.vcpus.forEach((v, k) => {
    const alias = DIRECT_MAP + BigInt(pfn) * 4096n + 0x123n;
    const t = dump.engine.translate(BigInt(v.root), alias);
    check(t.ok && t.pa === want + 0x123n, `${label}, vCPU ${k}: direct-map alias ${hex(alias)} -> ${t.ok ? hex(t.pa) : t.fault?.kind}`);
  });
}

/**
 * The dump-core's layout parsed from its ELF bytes alone, printed and written to
 * `outDir`/layout.json (without the p2m), and its header note (xch_magic,
 * xch_nr_pages).
 */
function layoutOf(file, outDir) {
  console.log('layout (parsed from the ELF bytes alone)');
  const layout = elfLayout(file);
  const { p2m: _p2m, ...facts } = layout;
  writeFileSync(path.join(outDir, 'layout.json'), JSON.stringify(facts, null, 2) + '\n');
  printLayout(layout);
  const hdr = layout.notes.find((n) => n.type === '0x2000001');
  const hdrDesc = Buffer.from(hdr?.desc ?? '', 'hex');
  const nrPages = hdrDesc.length >= 32 ? Number(hdrDesc.readBigUInt64LE(16)) : -1;
  return { layout, hdr, hdrDesc, nrPages };
}

function plantedOf(consoleText) {
  const m = /XLDUMP-PLANTED va=0x([0-9a-f]+) pfn=0x([0-9a-f]+)/.exec(consoleText ?? '');
  if (!m) throw new Error(`no XLDUMP-PLANTED line (${consoleText})`);
  return { va: BigInt('0x' + m[1]), pfn: Number.parseInt(m[2], 16) };
}

async function checkPv(lib, host) {
  const { openDump, FrameState } = lib;
  const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const { va, pfn } = plantedOf(meta.planted);
  const p2m = oracleP2m(readFileSync(path.join(dir, 'mfndump-p2m.txt'), 'utf8'));
  const regs = oracleRegisters(readFileSync(path.join(dir, 'xenctx.txt'), 'utf8'));
  console.log(`PV domU ${meta.domid}: planted va ${hex(va)} pfn ${hex(pfn)}; xen-mfndump p2m ${p2m.m.size} entries (size ${p2m.size}); xenctx ${regs.length} vCPUs`);

  const { layout, hdr, hdrDesc, nrPages } = layoutOf(core, dir);
  const fileP2m = layout.p2m;
  check(hdr && hdrDesc.readBigUInt64LE(0) === 0xf00febedn, 'header note: xch_magic 0xf00febed (PV)');
  check(nrPages === p2m.size, `header note: xch_nr_pages ${nrPages} = xen-mfndump's P2M size ${p2m.size}`);
  const p2mDiff = fileP2m.findIndex(([pf, mf], i) => pf !== BigInt(i) || p2m.m.get(i) === undefined || mf !== BigInt(p2m.m.get(i)));
  check(fileP2m.length === p2m.size && p2mDiff < 0, `.xen_p2m: ${fileP2m.length} entries, entry i is {i, the mfn xen-mfndump printed for pfn i}`, p2mDiff >= 0 ? `entry ${p2mDiff} is {${fileP2m[p2mDiff].map(hex)}}` : '');

  const guest = openDump(core);
  const machine = openDump(core, { xenFrames: 'machine' });
  console.log('vCPUs');
  checkVcpus(core, guest, regs, nrPages, 'pv');

  console.log('frames: the dump-core (memwalk, by pfn) against the host dump (memwalk ELF reader, by p2m[pfn])');
  const a = new Uint8Array(4096);
  const b = new Uint8Array(4096);
  const c = new Uint8Array(4096);
  let same = 0;
  let nonzero = 0;
  const diffs = [];
  for (let f = 0; f < p2m.size; f++) {
    const mfn = p2m.m.get(f);
    if (mfn === undefined) {
      diffs.push(`pfn ${hex(f)} has no mfn in xen-mfndump`);
      continue;
    }
    const sg = guest.source.readFrame(f, a);
    const sm = machine.source.readFrame(mfn, c);
    host.source.readFrame(mfn, b);
    if (sg !== FrameState.Present || sm !== FrameState.Present) diffs.push(`pfn ${hex(f)} (mfn ${hex(mfn)}): state guest ${sg}, machine ${sm}`);
    else if (!Buffer.from(a).equals(b)) diffs.push(`pfn ${hex(f)}: differs from host frame ${hex(mfn)}`);
    else if (!Buffer.from(c).equals(b)) diffs.push(`mfn ${hex(mfn)}: machine view differs from the host`);
    else {
      same++;
      if (a.some((x) => x !== 0)) nonzero++;
    }
    if ((f & 1023) === 0) await new Promise((r) => setImmediate(r));
  }
  check(diffs.length === 0, `${same} of ${p2m.size} frames equal the host's p2m[pfn] frame (${nonzero} of them non-zero)`, diffs.slice(0, 5).join('; '));
  const runs = [];
  for (const mfn of [...p2m.m.values()].sort((x, y) => x - y)) {
    if (runs.length && runs[runs.length - 1][1] === mfn) runs[runs.length - 1][1]++;
    else runs.push([mfn, mfn + 1]);
  }
  const wantMachine = runs.map(([s0, e]) => `${hex(s0 * 4096)}..${hex(e * 4096)}`).join(' ');
  const gotMachine = machine.ranges.map((r) => `${hex(r.start)}..${hex(r.end)}`).join(' ');
  check(gotMachine === wantMachine, `machine view: ${machine.ranges.length} ranges, the runs of xen-mfndump's mfns`, `memwalk ${gotMachine.slice(0, 200)}; xen-mfndump ${wantMachine.slice(0, 200)}`);
  const ranges = guest.ranges.map((r) => `${hex(r.start)}..${hex(r.end)}`).join(' ');
  check(ranges === `0x0..${hex(p2m.size * 4096)}`, `guest view ranges ${ranges}`);

  console.log('the planted page');
  const pattern = plantedPattern();
  guest.source.readFrame(pfn, a);
  check(Buffer.from(a).equals(pattern), `guest frame ${hex(pfn)} (the pfn the guest printed) holds the pattern`);
  host.source.readFrame(p2m.m.get(pfn) ?? 0, b);
  check(Buffer.from(b).equals(pattern), `host frame ${hex(p2m.m.get(pfn) ?? -1)} (p2m[${hex(pfn)}]) holds the pattern`);

  console.log('walks (a PV guest\'s tables hold machine frames)');
  const want = BigInt(p2m.m.get(pfn) ?? -1) * 4096n;
  const k = userVcpu(regs);
  checkWalks(machine, k, va, pfn, want, 'machine');
  const cli = spawnSync(process.execPath, [path.join(dist, 'src/cli/main.js'), 'translate', '-f', core, '--xen-frames', 'machine', '--cpu', String(k), hex(va + 0x123n)], { encoding: 'utf8' });
  const cliPa = /-> ([0-9a-f]+)/.exec(cli.stdout)?.[1];
  check(cli.status === 0 && cliPa !== undefined && BigInt('0x' + cliPa) === want + 0x123n, `memwalk translate --xen-frames machine --cpu ${k} ${hex(va + 0x123n)}: ${cli.stdout.trim() || cli.stderr.trim()}`);
  guest.close();
  machine.close();
}

/** Every host frame's SHA-1, and where the planted page is. */
async function hostIndex(host) {
  const { createHash } = await import('node:crypto');
  const hashes = new Map();
  const planted = [];
  const pattern = plantedPattern();
  const b = new Uint8Array(4096);
  let n = 0;
  for (const r of host.ranges) {
    for (let f = Number(r.start >> 12n); f < Number(r.end >> 12n); f++) {
      host.source.readFrame(f, b);
      const h = createHash('sha1').update(b).digest('hex');
      if (!hashes.has(h)) hashes.set(h, f);
      if (Buffer.from(b).equals(pattern)) planted.push(f);
      if ((++n & 4095) === 0) await new Promise((res) => setImmediate(res));
    }
  }
  return { hashes, planted };
}

async function checkPvh(lib, host, index) {
  const { openDump, FrameState } = lib;
  const pdir = path.join(dir, 'pvh');
  const file = path.join(pdir, 'domu.core');
  const { va, pfn } = plantedOf(readFileSync(path.join(pdir, 'domu-console.log'), 'latin1'));
  const regs = oracleRegisters(readFileSync(path.join(pdir, 'xenctx.txt'), 'utf8'));
  console.log(`PVH domU ${readFileSync(path.join(pdir, 'domid'), 'utf8').trim()}: planted va ${hex(va)} pfn ${hex(pfn)}; xenctx ${regs.length} vCPUs`);
  const { layout, hdr, hdrDesc, nrPages } = layoutOf(file, pdir);
  check(hdr && hdrDesc.readBigUInt64LE(0) === 0xf00febeen, 'header note: xch_magic 0xf00febee (HVM: PVH is an HVM container)');
  check(layout.sections.some((x) => x.name === '.xen_pfn') && !layout.sections.some((x) => x.name === '.xen_p2m'), 'sections: .xen_pfn, no .xen_p2m');

  const guest = openDump(file);
  console.log('vCPUs');
  checkVcpus(file, guest, regs, nrPages, 'hvm');

  console.log('frames: every non-zero dump-core frame is a frame of the host dump (by content)');
  const a = new Uint8Array(4096);
  let total = 0;
  let zero = 0;
  const missing = [];
  const { createHash } = await import('node:crypto');
  for (const r of guest.ranges) {
    for (let f = Number(r.start >> 12n); f < Number(r.end >> 12n); f++) {
      total++;
      if (guest.source.readFrame(f, a) !== FrameState.Present) missing.push(`pfn ${hex(f)} not Present`);
      else if (!a.some((x) => x !== 0)) zero++;
      else if (!index.hashes.has(createHash('sha1').update(a).digest('hex'))) missing.push(`pfn ${hex(f)}`);
    }
    await new Promise((res) => setImmediate(res));
  }
  check(total === nrPages, `guest view: ${total} frames in ${guest.ranges.length} ranges = xch_nr_pages ${nrPages} (${guest.ranges.map((r) => `${hex(r.start)}..${hex(r.end)}`).join(' ')})`);
  check(missing.length === 0, `${total - zero - missing.length} non-zero frames found in the host dump (${zero} zero)`, `${missing.length} not: ${missing.slice(0, 5).join(', ')}`);

  console.log('the planted page');
  guest.source.readFrame(pfn, a);
  check(Buffer.from(a).equals(plantedPattern()), `guest frame ${hex(pfn)} (the pfn the guest printed) holds the pattern`);
  console.log(`        host frames holding the pattern: ${index.planted.map(hex).join(' ')}`);

  console.log('walks (an HVM guest\'s tables hold guest frames)');
  checkWalks(guest, userVcpu(regs), va, pfn, BigInt(pfn) * 4096n, 'guest');
  guest.close();
}

async function main() {
  const lib = await import(path.join(dist, 'src/index.js'));
  const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const host = lib.openDump(path.join(dir, 'host.elf'));
  try {
    await checkPv(lib, host);
    if (meta.pvh) {
      const index = await hostIndex(host);
      // A refusal (a typed memwalk error) is a finding too: say it and go on.
      await checkPvh(lib, host, index).catch((err) => bad(`PVH dump-core: ${err.message}`));
    } else {
      console.log('  note  no PVH domU in this capture');
    }
  } finally {
    host.close();
  }
  console.log(failures ? `xl-dump-core: ${failures} FAIL` : 'xl-dump-core: all checks passed');
  process.exit(failures ? 1 : 0);
}

main().catch((err) => {
  console.error(`xl-check: ${err.stack}`);
  process.exit(2);
});
