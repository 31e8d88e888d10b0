#!/usr/bin/env node
// Cut the real `xl dump-core` file of an xl-dump-core capture down to a few KB for
// test/fixtures/xen/xl-dump-core-pv.json: the first bytes up to `.xen_pages` verbatim
// (ELF header, section headers, notes, .xen_prstatus, .xen_shared_info; gzip, base64),
// `.shstrtab` at the end, `.xen_p2m` as runs, and of the page data only the page-table
// entries that the walks from vCPU 0's CR3 to the planted page use (the planted page
// itself is rebuilt from xl-planter.c's formula). Everything is read here from the raw
// bytes, without memwalk. test/dumps-xen-real.test.ts rebuilds a sparse file of the
// real size from it.
// Usage: node scripts/qemu-e2e/xl-make-fixture.mjs [--work DIR]
import { closeSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const work = process.argv[2] === '--work' ? process.argv[3] : process.env.MEMWALK_QEMU_WORK || '/tmp/memwalk-qemu-e2e';
const dir = path.join(work, 'xl-dump-core');
const core = path.join(dir, 'domu.core');
const out = path.resolve(here, '../../test/fixtures/xen/xl-dump-core-pv.json');
const DIRECT_MAP = 0xffff888000000000n;
const hex = (v) => '0x' + BigInt(v).toString(16);

const fd = openSync(core, 'r');
const read = (off, len) => {
  const b = Buffer.alloc(len);
  readSync(fd, b, 0, len, Number(off));
  return b;
};
const eh = read(0, 64);
const shoff = Number(eh.readBigUInt64LE(40));
const shnum = eh.readUInt16LE(60);
const shstrndx = eh.readUInt16LE(62);
const shs = read(shoff, shnum * 64);
const sec = (i) => ({ offset: Number(shs.readBigUInt64LE(i * 64 + 24)), size: Number(shs.readBigUInt64LE(i * 64 + 32)), name: shs.readUInt32LE(i * 64) });
const strtab = sec(shstrndx);
const names = read(strtab.offset, strtab.size);
const byName = new Map();
for (let i = 0; i < shnum; i++) {
  const s = sec(i);
  byName.set(names.toString('latin1', s.name, names.indexOf(0, s.name)), s);
}
const pages = byName.get('.xen_pages');
const p2mSec = byName.get('.xen_p2m');
const raw = read(p2mSec.offset, p2mSec.size);
const indexOfMfn = new Map();
const runs = [];
for (let i = 0; i < raw.length / 16; i++) {
  const pfn = Number(raw.readBigUInt64LE(i * 16));
  const mfn = Number(raw.readBigUInt64LE(i * 16 + 8));
  indexOfMfn.set(mfn, i);
  const last = runs[runs.length - 1];
  if (last && last[0] + last[2] === pfn && last[1] + last[2] === mfn) last[2]++;
  else runs.push([pfn, mfn, 1]);
}
if (runs.some(([pfn], k) => pfn !== (k === 0 ? 0 : runs[k - 1][0] + runs[k - 1][2]))) throw new Error('.xen_p2m is not in pfn order: the run encoding assumes it');

// vCPU 0's CR3 (ctrlreg[3] at 4984 in the first vcpu_guest_context) and a 4-level walk.
const cr3 = read(byName.get('.xen_prstatus').offset + 4984 + 24, 8).readBigUInt64LE(0);
const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
const [, vaHex, pfnHex] = /va=0x([0-9a-f]+) pfn=0x([0-9a-f]+)/.exec(meta.planted);
const planted = { va: BigInt('0x' + vaHex), pfn: Number.parseInt(pfnHex, 16) };
const entries = new Map(); // page index -> Map(byte offset -> value)
function walk(va) {
  let table = cr3 & 0xffffffffff000n;
  for (let level = 4; level >= 1; level--) {
    const idx = Number((va >> BigInt(12 + 9 * (level - 1))) & 0x1ffn);
    const page = indexOfMfn.get(Number(table >> 12n));
    if (page === undefined) throw new Error(`table ${hex(table)} is not in the dump`);
    const e = read(pages.offset + page * 4096 + idx * 8, 8).readBigUInt64LE(0);
    if (!entries.has(page)) entries.set(page, new Map());
    entries.get(page).set(idx * 8, e);
    if (!(e & 1n)) throw new Error(`walk of ${hex(va)}: level ${level} entry ${idx} not present`);
    if (level > 1 && e & 0x80n) throw new Error(`walk of ${hex(va)}: a large page at level ${level}; only 4 KiB walks are cut`);
    table = e & 0xffffffffff000n;
  }
  return table;
}
const a = walk(planted.va);
const b = walk(DIRECT_MAP + BigInt(planted.pfn) * 4096n);
if (a !== b) throw new Error(`the two walks end at ${hex(a)} and ${hex(b)}`);
const head = gzipSync(read(0, pages.offset), { level: 9 }).toString('base64');
closeSync(fd);

const fixture = {
  about:
    'Cut from a real `xl dump-core` of a 96 MiB 64-bit PV domU (Debian Linux 6.1) under Xen 4.17.7 (Debian), made by ' +
    'scripts/qemu-e2e/xl-capture.mjs and cut by xl-make-fixture.mjs. head: the file from 0 to .xen_pages, gzip, base64. ' +
    'tail: .shstrtab. p2m: .xen_p2m as [pfn, mfn, count] runs. pages: the page-table entries on the walks to the planted page. ' +
    'Everything else in .xen_pages is zero here.',
  capturedAt: meta.capturedAt,
  fileSize: statSync(core).size,
  head,
  tail: { offset: strtab.offset, hex: names.toString('hex') },
  pagesOffset: pages.offset,
  p2mOffset: p2mSec.offset,
  p2m: runs,
  pages: [...entries].map(([index, m]) => ({ index, entries: [...m].map(([off, v]) => [off, hex(v)]) })),
  planted: { va: hex(planted.va), pfn: hex(planted.pfn) },
};
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(fixture, null, 1) + '\n');
console.log(`xl-make-fixture: ${out} (${statSync(out).size} bytes): ${runs.length} p2m runs, ${entries.size} table pages, walk ends at ${hex(a)}`);
