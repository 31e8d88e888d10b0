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
//   - walks: from vCPU 0's CR3 (machine view), the planted user address and its
//     direct-map alias (0xffff888000000000 + pfn * 4096) both translate to p2m[pfn].
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

/** xenctx -a: "cr3: 000000003c318000" etc. */
function oracleRegisters(text) {
  const get = (n) => {
    const r = new RegExp(`\\b${n}: ([0-9a-f]+)`).exec(text);
    return r ? BigInt('0x' + r[1]) : undefined;
  };
  return { cr0: get('cr0'), cr2: get('cr2'), cr3: get('cr3'), cr4: get('cr4'), rip: get('rip'), rflags: get('flags'), cs: get('cs') };
}

function memwalkInfo(file, extra = []) {
  const r = spawnSync(process.execPath, [path.join(dist, 'src/cli/main.js'), 'info', '-f', file, '--json', ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`memwalk info -f ${file}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout);
}

async function main() {
  const { openDump, FrameState } = await import(path.join(dist, 'src/index.js'));
  const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const planted = /va=0x([0-9a-f]+) pfn=0x([0-9a-f]+)/.exec(meta.planted ?? '');
  if (!planted) throw new Error(`meta.json has no planted address (${meta.planted})`);
  const va = BigInt('0x' + planted[1]);
  const pfn = Number.parseInt(planted[2], 16);
  const p2m = oracleP2m(readFileSync(path.join(dir, 'mfndump-p2m.txt'), 'utf8'));
  const regs = oracleRegisters(readFileSync(path.join(dir, 'xenctx.txt'), 'utf8'));
  console.log(`xl-dump-core: domU ${meta.domid}, planted va ${hex(va)} pfn ${hex(pfn)}; xen-mfndump p2m ${p2m.m.size} entries (size ${p2m.size}); xenctx CR3 ${hex(regs.cr3 ?? -1n)}`);

  console.log('layout (parsed from the ELF bytes alone)');
  const layout = elfLayout(core);
  const { p2m: fileP2m, ...facts } = layout;
  writeFileSync(path.join(dir, 'layout.json'), JSON.stringify(facts, null, 2) + '\n');
  for (const s of layout.sections) {
    console.log(`        [${s.index}] ${s.name || '(null)'} type ${s.type} flags ${s.flags} offset ${hex(s.offset)} size ${hex(s.size)} align ${s.addralign} entsize ${s.entsize}`);
  }
  for (const n of layout.notes) console.log(`        note ${n.name} type ${n.type} descsz ${n.descsz} at ${hex(n.at)}${n.descsz <= 32 ? ` desc ${n.desc}` : ''}`);
  const hdr = layout.notes.find((n) => n.type === '0x2000001');
  const hdrDesc = Buffer.from(hdr?.desc ?? '', 'hex');
  const nrPages = hdrDesc.length >= 32 ? Number(hdrDesc.readBigUInt64LE(16)) : -1;
  check(hdr && hdrDesc.readBigUInt64LE(0) === 0xf00febedn, 'header note: xch_magic 0xf00febed (PV)');
  check(nrPages === p2m.size, `header note: xch_nr_pages ${nrPages} = xen-mfndump's P2M size ${p2m.size}`);

  const p2mDiff = fileP2m.findIndex(([pf, mf], i) => pf !== BigInt(i) || p2m.m.get(i) === undefined || mf !== BigInt(p2m.m.get(i)));
  check(fileP2m.length === p2m.size && p2mDiff < 0, `.xen_p2m: ${fileP2m.length} entries, entry i is {i, the mfn xen-mfndump printed for pfn i}`, p2mDiff >= 0 ? `entry ${p2mDiff} is {${fileP2m[p2mDiff].map(hex)}}` : '');

  console.log('memwalk info');
  const info = memwalkInfo(core);
  check(info.kind === 'xen-dump-core' && info.details?.guest === 'pv', `format ${info.kind}, guest ${info.details?.guest}`);
  check(info.details?.pages === nrPages, `pages ${info.details?.pages} = xch_nr_pages ${nrPages}`);
  check(info.vcpus?.length === 1, `vCPUs ${info.vcpus?.length} (xl vcpu-list: 1)`);
  const v = info.vcpus?.[0] ?? {};
  check(v.csSelector === Number(regs.cs ?? -1), `vCPU 0 CS ${v.csSelector} = xenctx cs ${regs.cs}`);
  for (const k of ['cr0', 'cr2', 'cr3', 'cr4', 'rip']) {
    check(regs[k] !== undefined && BigInt(v[k]) === regs[k], `vCPU 0 ${k} ${v[k]} = xenctx ${hex(regs[k] ?? -1n)}`);
  }
  check(v.pagingMode === '4-level' && BigInt(v.root) === (regs.cr3 ?? -1n), `vCPU 0 paging ${v.pagingMode}, root ${v.root}`);

  console.log('frames: the dump-core (memwalk, by pfn) against the host dump (memwalk ELF reader, by p2m[pfn])');
  const guest = openDump(core);
  const machine = openDump(core, { xenFrames: 'machine' });
  const host = openDump(path.join(dir, 'host.elf'));
  // `memwalk info --json` leaves RFLAGS out; the library has it.
  check(guest.vcpus[0]?.rflags === regs.rflags, `vCPU 0 rflags ${hex(guest.vcpus[0]?.rflags ?? -1n)} (openDump) = xenctx flags ${hex(regs.rflags ?? -1n)}`);
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

  console.log('walks from vCPU 0 CR3 (machine view)');
  const root = BigInt(machine.vcpus[0].root);
  const want = BigInt(p2m.m.get(pfn) ?? -1) * 4096n;
  for (const [label, addr] of [['planted user address', va], ['its direct-map alias', DIRECT_MAP + BigInt(pfn) * 4096n]]) {
    for (const off of [0n, 0x123n]) {
      const t = machine.engine.translate(root, addr + off);
      check(t.ok && t.pa === want + off, `${label} ${hex(addr + off)} -> ${t.ok ? hex(t.pa) : t.fault?.kind} (want ${hex(want + off)})`);
    }
  }
  const cli = spawnSync(process.execPath, [path.join(dist, 'src/cli/main.js'), 'translate', '-f', core, '--xen-frames', 'machine', hex(va + 0x123n)], { encoding: 'utf8' });
  const cliPa = /-> ([0-9a-f]+)/.exec(cli.stdout)?.[1];
  check(cli.status === 0 && cliPa !== undefined && BigInt('0x' + cliPa) === want + 0x123n, `memwalk translate --xen-frames machine ${hex(va + 0x123n)}: ${cli.stdout.trim() || cli.stderr.trim()}`);
  guest.close();
  machine.close();
  host.close();
  console.log(failures ? `xl-dump-core: ${failures} FAIL` : 'xl-dump-core: all checks passed');
  process.exit(failures ? 1 : 0);
}

main().catch((err) => {
  console.error(`xl-check: ${err.stack}`);
  process.exit(2);
});
