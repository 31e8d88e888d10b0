#!/usr/bin/env node
// Boot Debian's kernel + a busybox initramfs under QEMU (TCG, -cpu max), let it
// settle, stop the VM, and capture over QMP what QEMU's monitor prints (`info
// registers`, `info tlb`, `info mem`, `gva2gpa` for sample addresses), then
// `dump-guest-memory` the stopped VM. Listings and dumps therefore describe the same
// instant.
//
// Variants:
//   4level, la57  -m 512, listings of vCPU 0, one ELF dump. Writes DIR/<variant>/:
//                 dump.elf, registers.txt, info-tlb.txt, info-mem.txt, gva2gpa.tsv
//                 (address TAB output), console.log, meta.json.
//   large         -m 6144 (RAM continues above 4 GiB), 2 vCPUs each running a pinned
//                 user loop (so their CR3s differ), listings of every vCPU, and the
//                 dump in every format this QEMU offers. Writes DIR/large/:
//                 cpu<N>/{registers.txt,info-tlb.txt,info-mem.txt,gva2gpa.tsv},
//                 registers-all.txt, dump.elf, dump-<zlib|lzo|snappy>.flat (QEMU's
//                 kdump, in makedumpfile's flattened format), dump-<...>.kdump (the
//                 same made plain by `makedumpfile -R`), console.log, meta.json.
//   huge          as large with -m 12288 (a 12 GiB guest; the ELF dump is 12 GiB).
//   xen           a whole Xen host: Xen 4.17 with the kernel and initramfs as PV dom0
//                 (-m 4096, 2 pCPUs, dom0 1 GiB with 2 vCPUs, a pinned user loop on
//                 dom0's vCPU 0 only, a VGA card). Captured and dumped as large, at
//                 whatever each pCPU runs when stopped (a dom0 process's user tables
//                 on one, Xen idling on the other); writes DIR/xen/.
//
// Usage: node scripts/qemu-e2e/capture.mjs --variant 4level|la57|large|huge|xen [--work DIR]
//          [--mem MiB] [--smp N] [--boot-timeout 900] [--settle 5]
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Qmp } from './qmp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// `large` runs both vCPUs on one host thread (round robin): the machine is shared,
// and a stopped VM's state does not depend on how TCG scheduled it.
const VARIANTS = {
  '4level': { mem: 512, smp: 2, cmdline: ['no5lvl'], perCpu: false },
  la57: { mem: 512, smp: 2, cmdline: [], perCpu: false },
  large: { mem: 6144, smp: 2, cmdline: ['no5lvl', 'memwalk_spin'], perCpu: true, accel: 'tcg,thread=single' },
  huge: { mem: 12288, smp: 2, cmdline: ['no5lvl', 'memwalk_spin'], perCpu: true, accel: 'tcg,thread=single' },
  // A whole Xen host: Xen 4.17 (multiboot, the 32-bit ELF inside /boot/xen-*.gz) with
  // the same kernel and initramfs as its PV dom0. Under TCG, dom0 dies on its first
  // exception bounce unless SMAP and PKU are off (-cpu max,smap=off,pku=off). A VGA
  // card adds its 16 MiB framebuffer as a segment of the dump, as on a real host.
  xen: {
    mem: 4096,
    smp: 2,
    cmdline: ['no5lvl', 'memwalk_spin1'],
    perCpu: true,
    accel: 'tcg,thread=single',
    cpu: 'max,smap=off,pku=off',
    xen: ['console=com1', 'com1=115200,8n1', 'dom0_mem=1024M,max:1024M', 'dom0_max_vcpus=2', 'noreboot', 'loglvl=all', 'guest_loglvl=all'],
    devices: ['-device', 'VGA'],
  },
};

// QMP format name -> file name, in the order they are dumped.
const DUMP_FORMATS = [
  ['elf', 'dump.elf'],
  ['kdump-zlib', 'dump-zlib.flat'],
  ['kdump-lzo', 'dump-lzo.flat'],
  ['kdump-snappy', 'dump-snappy.flat'],
];

function parseArgs(argv) {
  const opts = {
    variant: '',
    work: process.env.MEMWALK_QEMU_WORK || '/tmp/memwalk-qemu-e2e',
    mem: 0,
    smp: 0,
    bootTimeout: 900,
    settle: 5,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--variant') opts.variant = v();
    else if (a === '--work') opts.work = v();
    else if (a === '--mem') opts.mem = Number(v());
    else if (a === '--smp') opts.smp = Number(v());
    else if (a === '--boot-timeout') opts.bootTimeout = Number(v());
    else if (a === '--settle') opts.settle = Number(v());
    else throw new Error(`unknown option ${a}`);
  }
  const v = VARIANTS[opts.variant];
  if (!v) throw new Error(`--variant must be one of ${Object.keys(VARIANTS).join(', ')}`);
  opts.mem ||= v.mem;
  opts.smp ||= v.smp;
  return opts;
}

/** /boot/xen-*.gz decompressed into `dir`: QEMU's multiboot loader wants the 32-bit ELF. */
function xenImage(dir) {
  const zs = readdirSync('/boot').filter((f) => /^xen-.*\.gz$/.test(f)).sort();
  if (!zs.length) throw new Error('no /boot/xen-*.gz: install xen-hypervisor-4.17-amd64 (scripts/qemu-e2e/install.sh --xen)');
  const out = path.join(dir, zs[zs.length - 1].replace(/\.gz$/, ''));
  writeFileSync(out, gunzipSync(readFileSync(path.join('/boot', zs[zs.length - 1]))));
  return out;
}

function newestKernel() {
  const ks = readdirSync('/boot').filter((f) => /^vmlinuz-/.test(f)).sort();
  if (!ks.length) throw new Error('no /boot/vmlinuz-*: install linux-image-amd64 (scripts/qemu-e2e/install.sh)');
  return path.join('/boot', ks[ks.length - 1]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Parse `info registers` (one vCPU) into {cr0, cr2, cr3, cr4, efer, rip} as hex strings. */
export function parseRegisters(text) {
  const get = (re) => {
    const m = re.exec(text);
    return m ? '0x' + BigInt('0x' + m[1]).toString(16) : null;
  };
  return {
    cr0: get(/CR0=([0-9a-f]+)/),
    cr2: get(/CR2=([0-9a-f]+)/),
    cr3: get(/CR3=([0-9a-f]+)/),
    cr4: get(/CR4=([0-9a-f]+)/),
    efer: get(/EFER=([0-9a-f]+)/),
    rip: get(/RIP=([0-9a-f]+)/),
    cpl: Number(/CPL=(\d)/.exec(text)?.[1] ?? -1),
  };
}

/** Split `info registers -a` into each vCPU's block, indexed by vCPU number. */
export function splitAllRegisters(text) {
  const parts = text.split(/^CPU#(\d+)\n/m);
  const blocks = [];
  for (let i = 1; i + 1 < parts.length; i += 2) blocks[Number(parts[i])] = parts[i + 1];
  return blocks;
}

/** PT_LOAD segments of an ELF64 core as {pa, size} (read independently of memwalk). */
export function elfLoadSegments(file) {
  const fd = openSync(file, 'r');
  try {
    const eh = Buffer.alloc(64);
    readSync(fd, eh, 0, 64, 0);
    const phoff = eh.readBigUInt64LE(0x20);
    const phentsize = eh.readUInt16LE(0x36);
    const phnum = eh.readUInt16LE(0x38);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, Number(phoff));
    const out = [];
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (ph.readUInt32LE(o) !== 1) continue;
      out.push({ pa: '0x' + ph.readBigUInt64LE(o + 0x18).toString(16), size: Number(ph.readBigUInt64LE(o + 0x20)) });
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * Sample addresses for gva2gpa: mapped ones taken from `info tlb` (page start, an
 * offset inside the page, an offset inside a large page) from every top-level slot,
 * user pages and frames above 4 GiB among them, one whose frame is
 * physical 0 if there is such a line, and addresses that are unmapped or non-canonical.
 */
export function sampleAddresses(tlbText, la57) {
  const lines = tlbText.split('\n').filter(Boolean).map((l) => l.split(/:? +/));
  const out = new Set();
  const add = ([va, , flags]) => {
    const base = BigInt('0x' + va);
    out.add(base);
    out.add(base + 0x123n);
    if (flags && flags[2] === 'P') out.add(base + 0x1ff567n);
  };
  // Up to `n` lines spread evenly over `list`.
  const spread = (list, n) => {
    const step = Math.max(1, Math.floor(list.length / n));
    for (let i = 0; i < list.length; i += step) add(list[i]);
  };
  // Spread over each top-level slot separately: one slot can hold most of the lines
  // (e.g. tens of thousands of pages mapping one frame) and would crowd out the rest.
  const slots = new Map();
  for (const l of lines) {
    const slot = BigInt('0x' + l[0]) >> 39n;
    if (!slots.has(slot)) slots.set(slot, []);
    slots.get(slot).push(l);
  }
  for (const group of slots.values()) spread(group, Math.max(4, Math.ceil(48 / slots.size)));
  // The listing is mostly the kernel's half; make sure user pages and frames above
  // 4 GiB (a guest larger than the 32-bit hole) are sampled too.
  spread(lines.filter(([va]) => BigInt('0x' + va) < 0x8000000000000000n), 8);
  spread(lines.filter(([, frame]) => BigInt('0x' + frame) >= 0x100000000n), 6);
  const zero = lines.find(([, frame]) => frame === '0000000000000000');
  if (zero) {
    const va = BigInt('0x' + zero[0]);
    out.add(va);
    out.add(va + 0x10n);
  }
  out.add(0n);
  out.add(0x1000n);
  out.add(0xdeadb000n);
  out.add(0x00007ffffffff000n);
  out.add(la57 ? 0x0100000000000000n : 0x0000800000000000n); // non-canonical
  out.add(la57 ? 0xfeffffffffffffffn : 0xffff7fffffffffffn); // non-canonical
  out.add(0xffffffffffe00000n);
  out.add(0xfffffffffffff000n);
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const lineCount = (text) => text.split('\n').filter(Boolean).length;

/** `info tlb`, `info mem` and gva2gpa samples of vCPU `cpu`, written to `dir`. */
async function captureListings(qmp, cpu, dir, la57) {
  const tlb = await qmp.hmp('info tlb', cpu);
  writeFileSync(path.join(dir, 'info-tlb.txt'), tlb);
  const mem = await qmp.hmp('info mem', cpu);
  writeFileSync(path.join(dir, 'info-mem.txt'), mem);
  const samples = sampleAddresses(tlb, la57);
  let gva = '';
  for (const a of samples) {
    const hexa = '0x' + a.toString(16);
    const r = (await qmp.hmp(`gva2gpa ${hexa}`, cpu)).trim();
    gva += `${hexa}\t${r}\n`;
  }
  writeFileSync(path.join(dir, 'gva2gpa.tsv'), gva);
  return { infoTlb: lineCount(tlb), infoMem: lineCount(mem), gva2gpa: samples.length };
}

/**
 * Stop the VM at an instant where every vCPU runs a different address space (and,
 * preferably, user code): the pinned loops make that the usual case, and a stop that
 * lands elsewhere is resumed and retried.
 */
async function stopWithDistinctCr3(qmp, tries = 12, required = true) {
  for (let attempt = 1; ; attempt++) {
    await qmp.execute('stop');
    const all = await qmp.hmp('info registers -a');
    const regs = splitAllRegisters(all).map(parseRegisters);
    const distinct = new Set(regs.map((r) => r.cr3)).size === regs.length;
    // Without the requirement (Xen: one pCPU idles in Xen), vCPU 0 in user mode will do.
    const user = required ? regs.every((r) => r.cpl === 3) : regs[0].cpl === 3;
    if ((distinct && user) || attempt >= tries) {
      if (!distinct && required) throw new Error(`after ${attempt} stops the vCPUs still share CR3 ${regs[0].cr3}: are the pinned loops running?`);
      return { all, regs, attempts: attempt };
    }
    await qmp.execute('cont');
    await sleep(700);
  }
}

async function captureVcpu0(qmp, dir, opts, meta) {
  const registers = await qmp.hmp('info registers', 0);
  const regs = parseRegisters(registers);
  const la57 = ((BigInt(regs.cr4) >> 12n) & 1n) === 1n;
  if ((opts.variant === 'la57') !== la57) {
    throw new Error(`variant ${opts.variant} but CR4=${regs.cr4} (LA57=${Number(la57)}): does this QEMU/kernel support LA57?`);
  }
  writeFileSync(path.join(dir, 'registers.txt'), registers);
  writeFileSync(path.join(dir, 'registers-all.txt'), await qmp.hmp('info registers -a'));
  meta.lines = await captureListings(qmp, 0, dir, la57);
  meta.vcpu0 = regs;
  meta.la57 = la57;
  const dump = path.join(dir, 'dump.elf');
  const td = Date.now();
  await qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${dump}` });
  meta.dumpSeconds = (Date.now() - td) / 1000;
  meta.dumpBytes = statSync(dump).size;
  console.log(
    `capture[${opts.variant}]: CR3=${regs.cr3} CR4=${regs.cr4}; info tlb ${meta.lines.infoTlb} lines, info mem ${meta.lines.infoMem} lines, ` +
      `${meta.lines.gva2gpa} gva2gpa samples, dump ${meta.dumpBytes} bytes in ${meta.dumpSeconds.toFixed(1)}s -> ${dir}`,
  );
}

async function captureEveryVcpu(qmp, dir, opts, meta) {
  const tag = `capture[${opts.variant}]`;
  // Under Xen a pCPU may idle in Xen or share dom0's tables: take what there is.
  const stop = await stopWithDistinctCr3(qmp, VARIANTS[opts.variant].xen ? 4 : 12, !VARIANTS[opts.variant].xen);
  writeFileSync(path.join(dir, 'registers-all.txt'), stop.all);
  const blocks = splitAllRegisters(stop.all);
  if (blocks.length !== opts.smp) throw new Error(`info registers -a shows ${blocks.length} vCPUs, expected ${opts.smp}`);
  meta.stopAttempts = stop.attempts;
  meta.vcpus = [];
  for (let n = 0; n < opts.smp; n++) {
    const cdir = path.join(dir, `cpu${n}`);
    mkdirSync(cdir, { recursive: true });
    // cpu-index is the monitor's `cpu N` (QMP gives every human-monitor-command a
    // fresh monitor, so a separate `cpu N` would not carry over to the next command).
    const registers = await qmp.hmp('info registers', n);
    writeFileSync(path.join(cdir, 'registers.txt'), registers);
    if (!new RegExp(`^CPU#${n}$`, 'm').test(registers)) throw new Error(`info registers with cpu-index ${n} does not say CPU#${n}`);
    const regs = parseRegisters(registers);
    if (JSON.stringify(regs) !== JSON.stringify(stop.regs[n])) {
      throw new Error(`info registers with cpu ${n} gives ${JSON.stringify(regs)}, but its block in info registers -a ${JSON.stringify(stop.regs[n])}`);
    }
    const la57 = ((BigInt(regs.cr4) >> 12n) & 1n) === 1n;
    if (la57) throw new Error(`vCPU ${n} has CR4.LA57 set but the ${opts.variant} variant boots with no5lvl`);
    const t = Date.now();
    const lines = await captureListings(qmp, n, cdir, false);
    meta.vcpus.push({ index: n, ...regs, lines });
    console.log(
      `${tag}: vCPU ${n} CR3=${regs.cr3} CPL=${regs.cpl} RIP=${regs.rip}; info tlb ${lines.infoTlb} lines, info mem ${lines.infoMem} lines, ` +
        `${lines.gva2gpa} gva2gpa samples (${((Date.now() - t) / 1000).toFixed(1)}s)`,
    );
  }
  meta.la57 = false;
  const caps = await qmp.execute('query-dump-guest-memory-capability');
  meta.formatsOffered = caps.formats;
  console.log(`${tag}: this QEMU dumps as ${caps.formats.join(', ')}`);
  meta.dumps = [];
  for (const [format, file] of DUMP_FORMATS) {
    if (!caps.formats.includes(format)) {
      console.log(`${tag}: ${format}: not offered by this QEMU, skipped`);
      continue;
    }
    const out = path.join(dir, file);
    const td = Date.now();
    await qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${out}`, format });
    const seconds = (Date.now() - td) / 1000;
    meta.dumps.push({ file, format, bytes: statSync(out).size, seconds, madeBy: 'qemu dump-guest-memory' });
    console.log(`${tag}: ${format} -> ${file}, ${statSync(out).size} bytes in ${seconds.toFixed(1)}s`);
  }
}

/** `makedumpfile -R`: QEMU's flattened kdump files made plain (the VM is gone by now). */
function reassembleKdumps(dir, meta, tag) {
  for (const d of [...meta.dumps]) {
    if (!d.file.endsWith('.flat')) continue;
    const file = d.file.replace(/\.flat$/, '.kdump');
    const out = path.join(dir, file);
    const td = Date.now();
    const fd = openSync(path.join(dir, d.file), 'r');
    const r = spawnSync('makedumpfile', ['-R', out], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
    closeSync(fd);
    if (r.error || r.status !== 0) {
      throw new Error(`makedumpfile -R ${file} < ${d.file} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || r.stdout || '').trim()}`);
    }
    const seconds = (Date.now() - td) / 1000;
    meta.dumps.push({ file, format: d.format, bytes: statSync(out).size, seconds, madeBy: `makedumpfile -R < ${d.file}` });
    console.log(`${tag}: makedumpfile -R ${d.file} -> ${file}, ${statSync(out).size} bytes in ${seconds.toFixed(1)}s`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const v = VARIANTS[opts.variant];
  const tag = `capture[${opts.variant}]`;
  const dir = path.join(opts.work, opts.variant);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const initrd = path.join(opts.work, 'initramfs.cpio.gz');
  if (!existsSync(initrd)) {
    execFileSync(path.join(here, 'build-initramfs.sh'), [initrd], { stdio: 'inherit' });
  }
  const kernel = newestKernel();
  const consolePath = path.join(dir, 'console.log');
  const sock = path.join(dir, 'qmp.sock');
  const cmdline = [v.xen ? 'console=hvc0' : 'console=ttyS0', 'panic=-1', 'quiet', 'loglevel=3', ...v.cmdline].join(' ');
  const accel = v.accel ?? 'tcg';
  // Under Xen, dom0's kernel and initramfs are multiboot modules (`,` separates them,
  // so the command line must not contain one).
  const boot = v.xen
    ? ['-kernel', xenImage(dir), '-append', v.xen.join(' '), '-initrd', `${kernel} ${cmdline},${initrd}`]
    : ['-kernel', kernel, '-initrd', initrd, '-append', cmdline];
  const qemuArgs = [
    '-machine', 'pc', '-accel', accel, '-cpu', v.cpu ?? 'max',
    '-m', String(opts.mem), '-smp', String(opts.smp),
    ...boot, ...(v.devices ?? []),
    '-display', 'none', '-monitor', 'none', '-nodefaults', '-no-reboot',
    '-serial', `file:${consolePath}`,
    '-qmp', `unix:${sock},server=on,wait=off`,
  ];
  const qemuVersion = execFileSync('qemu-system-x86_64', ['--version']).toString().split('\n')[0];
  console.log(`${tag}: ${qemuVersion}`);
  console.log(`${tag}: booting ${kernel} (-accel ${accel} -m ${opts.mem} -smp ${opts.smp}, "${cmdline}")`);
  const t0 = Date.now();
  const qemu = spawn('qemu-system-x86_64', qemuArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let qemuErr = '';
  qemu.stderr.on('data', (d) => (qemuErr += d));
  let exited = null;
  qemu.on('exit', (code, sig) => (exited = { code, sig }));
  const kill = () => {
    if (exited === null) qemu.kill('SIGKILL');
  };
  process.on('exit', kill);

  try {
    // Wait for the guest's init to say it is up.
    let console_ = '';
    for (;;) {
      if (exited) throw new Error(`QEMU exited (${JSON.stringify(exited)}) before the guest was ready: ${qemuErr.trim()}`);
      if (existsSync(consolePath)) console_ = readFileSync(consolePath, 'latin1');
      if (/MEMWALK-READY/.test(console_)) break;
      if (/Kernel panic|Panic on CPU|Dom0 crashed/.test(console_)) throw new Error(`guest kernel or Xen panicked; see ${consolePath}`);
      if (Date.now() - t0 > opts.bootTimeout * 1000) throw new Error(`guest not ready after ${opts.bootTimeout}s; see ${consolePath}`);
      await sleep(500);
    }
    const bootSeconds = (Date.now() - t0) / 1000;
    console.log(`${tag}: guest ready after ${bootSeconds.toFixed(1)}s; settling ${opts.settle}s`);
    await sleep(opts.settle * 1000);

    const meta = {
      variant: opts.variant,
      qemu: qemuVersion,
      kernel: path.basename(kernel),
      cmdline,
      ...(v.xen ? { xen: path.basename(boot[1]), xenCmdline: v.xen.join(' '), cpu: v.cpu } : {}),
      accel,
      mem: opts.mem,
      smp: opts.smp,
      bootSeconds,
    };
    const qmp = await Qmp.connect(sock);
    const tc = Date.now();
    if (v.perCpu) {
      await captureEveryVcpu(qmp, dir, opts, meta);
    } else {
      await qmp.execute('stop');
      await captureVcpu0(qmp, dir, opts, meta);
    }
    await qmp.execute('quit').catch(() => {});
    qmp.close();
    if (v.perCpu) {
      reassembleKdumps(dir, meta, tag);
      meta.segments = elfLoadSegments(path.join(dir, 'dump.elf'));
      const high = meta.segments.filter((s) => BigInt(s.pa) >= 0x100000000n);
      if (!high.length) throw new Error(`dump.elf has no segment at or above 4 GiB: ${JSON.stringify(meta.segments)}`);
      console.log(`${tag}: dump.elf segments ${meta.segments.map((s) => `${s.pa}+${s.size}`).join(', ')}`);
    }
    meta.captureSeconds = (Date.now() - tc) / 1000;
    meta.totalSeconds = (Date.now() - t0) / 1000;
    meta.capturedAt = new Date().toISOString();
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    console.log(`${tag}: done in ${meta.totalSeconds.toFixed(1)}s (boot ${bootSeconds.toFixed(1)}s, capture and dumps ${meta.captureSeconds.toFixed(1)}s) -> ${dir}`);
  } finally {
    for (let i = 0; i < 50 && exited === null; i++) await sleep(100);
    kill();
    rmSync(sock, { force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`capture: ${err.message}`);
    process.exit(1);
  });
}
