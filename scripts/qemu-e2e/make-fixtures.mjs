#!/usr/bin/env node
// Turn a capture (capture.mjs) into small test fixtures under test/fixtures/qemu/<variant>/:
//   meta.json         versions, vCPU 0's CR0/CR3/CR4 (from `info registers`), line counts,
//                     the dump's size and the length of its header part
//   registers.txt     `info registers` of vCPU 0 as QEMU printed it
//   dump-head.bin     the dump's first bytes: ELF header, section and program headers, notes
//   tables.bin.br     every page-table page the monitor walk of vCPU 0 reads
//                     (records of u64 LE page address + 4096 bytes, brotli)
//   info-tlb.txt.br   `info tlb` of vCPU 0 (brotli)
//   info-mem.txt.br   `info mem` of vCPU 0 (brotli; empty under LA57: QEMU bug)
//   gva2gpa.tsv       sample address TAB QEMU's answer
// Usage: node scripts/qemu-e2e/make-fixtures.mjs [--work DIR] [--out test/fixtures/qemu] VARIANT...
import { brotliCompressSync, constants } from 'node:zlib';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorMappings, encodePages } from './monitor-walk.mjs';
import { openDumpReader } from './dump-reader.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

function brotli(buf) {
  return brotliCompressSync(buf, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  });
}

async function main() {
  const args = process.argv.slice(2);
  let work = process.env.MEMWALK_QEMU_WORK || '/tmp/memwalk-qemu-e2e';
  let out = path.join(repo, 'test/fixtures/qemu');
  const variants = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--work') work = args[++i];
    else if (args[i] === '--out') out = args[++i];
    else variants.push(args[i]);
  }
  if (!variants.length) variants.push('4level', 'la57');
  for (const v of variants) {
    const src = path.join(work, v);
    const dst = path.join(out, v);
    mkdirSync(dst, { recursive: true });
    const meta = JSON.parse(readFileSync(path.join(src, 'meta.json'), 'utf8'));
    const dr = await openDumpReader(path.join(src, 'dump.elf'), path.join(repo, 'dist'));
    const cr3 = BigInt(meta.vcpu0.cr3);
    const tables = new Map();
    let leaves = 0;
    for (const _ of monitorMappings(dr.read, cr3, meta.la57, (t) => {
      const b = dr.page(t);
      if (b) tables.set(t, Buffer.from(b));
    })) leaves++;
    const headLength = Number(dr.image.segments.reduce((m, s) => (s.fileOffset < m ? s.fileOffset : m), BigInt(dr.image.fileSize)));
    const head = Buffer.alloc(headLength);
    const fd = openSync(path.join(src, 'dump.elf'), 'r');
    readSync(fd, head, 0, headLength, 0);
    closeSync(fd);
    dr.close();
    writeFileSync(path.join(dst, 'dump-head.bin'), head);
    writeFileSync(path.join(dst, 'tables.bin.br'), brotli(encodePages(tables)));
    writeFileSync(path.join(dst, 'info-tlb.txt.br'), brotli(readFileSync(path.join(src, 'info-tlb.txt'))));
    writeFileSync(path.join(dst, 'info-mem.txt.br'), brotli(readFileSync(path.join(src, 'info-mem.txt'))));
    copyFileSync(path.join(src, 'gva2gpa.tsv'), path.join(dst, 'gva2gpa.tsv'));
    copyFileSync(path.join(src, 'registers.txt'), path.join(dst, 'registers.txt'));
    const fixtureMeta = {
      ...meta,
      dumpBytes: Number(dr.image.fileSize),
      headBytes: headLength,
      segments: dr.image.segments.map((s) => ({ pa: '0x' + s.pa.toString(16), fileOffset: '0x' + s.fileOffset.toString(16), size: '0x' + s.size.toString(16) })),
      tablePages: tables.size,
      leaves,
    };
    delete fixtureMeta.capturedAt;
    delete fixtureMeta.bootSeconds;
    delete fixtureMeta.dumpSeconds;
    delete fixtureMeta.captureSeconds;
    delete fixtureMeta.totalSeconds;
    writeFileSync(path.join(dst, 'meta.json'), JSON.stringify(fixtureMeta, null, 2) + '\n');
    const total = ['meta.json', 'registers.txt', 'dump-head.bin', 'tables.bin.br', 'info-tlb.txt.br', 'info-mem.txt.br', 'gva2gpa.tsv']
      .map((f) => statSync(path.join(dst, f)).size)
      .reduce((a, b) => a + b, 0);
    console.log(`make-fixtures: ${v}: ${tables.size} table pages, ${leaves} leaves, ${total} bytes in ${path.relative(repo, dst)}`);
  }
}

main().catch((err) => {
  console.error(`make-fixtures: ${err.message}`);
  process.exit(1);
});
