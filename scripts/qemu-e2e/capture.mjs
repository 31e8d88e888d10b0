#!/usr/bin/env node
// Boot Debian's kernel + a busybox initramfs under QEMU (TCG, -cpu max), let it
// settle, stop the VM, and capture over QMP what QEMU's monitor prints for vCPU 0
// (`info registers`, `info tlb`, `info mem`, `gva2gpa` for sample addresses), then
// `dump-guest-memory` the stopped VM. Listings and dump therefore describe the same
// instant.
//
// Usage: node scripts/qemu-e2e/capture.mjs --variant 4level|la57 [--work DIR]
//          [--mem 512] [--smp 2] [--boot-timeout 600] [--settle 5]
// Writes DIR/<variant>/: dump.elf, registers.txt, info-tlb.txt, info-mem.txt,
// gva2gpa.tsv (address TAB output), console.log, meta.json.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Qmp } from './qmp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opts = {
    variant: '',
    work: process.env.MEMWALK_QEMU_WORK || '/tmp/memwalk-qemu-e2e',
    mem: 512,
    smp: 2,
    bootTimeout: 600,
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
  if (opts.variant !== '4level' && opts.variant !== 'la57') throw new Error('--variant must be 4level or la57');
  return opts;
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
  };
}

/**
 * Sample addresses for gva2gpa: mapped ones taken from `info tlb` (page start, an
 * offset inside the page, an offset inside a large page), one whose frame is
 * physical 0 if there is such a line, and addresses that are unmapped or non-canonical.
 */
export function sampleAddresses(tlbText, la57) {
  const lines = tlbText.split('\n').filter(Boolean);
  const out = new Set();
  const step = Math.max(1, Math.floor(lines.length / 48));
  for (let i = 0; i < lines.length; i += step) {
    const [va, frame, flags] = lines[i].split(/:? +/);
    const base = BigInt('0x' + va);
    out.add(base);
    out.add(base + 0x123n);
    if (flags && flags[2] === 'P') out.add(base + 0x1ff567n);
    void frame;
  }
  const zero = lines.find((l) => l.split(/:? +/)[1] === '0000000000000000');
  if (zero) {
    const va = BigInt('0x' + zero.split(':')[0]);
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

async function main() {
  const opts = parseArgs(process.argv.slice(2));
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
  const cmdline = ['console=ttyS0', 'panic=-1', 'quiet', 'loglevel=3', ...(opts.variant === '4level' ? ['no5lvl'] : [])].join(' ');
  const qemuArgs = [
    '-machine', 'pc', '-accel', 'tcg', '-cpu', 'max',
    '-m', String(opts.mem), '-smp', String(opts.smp),
    '-kernel', kernel, '-initrd', initrd, '-append', cmdline,
    '-display', 'none', '-monitor', 'none', '-nodefaults', '-no-reboot',
    '-serial', `file:${consolePath}`,
    '-qmp', `unix:${sock},server=on,wait=off`,
  ];
  const qemuVersion = execFileSync('qemu-system-x86_64', ['--version']).toString().split('\n')[0];
  console.log(`capture[${opts.variant}]: ${qemuVersion}`);
  console.log(`capture[${opts.variant}]: booting ${kernel} (-m ${opts.mem} -smp ${opts.smp}, "${cmdline}")`);
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
      if (/Kernel panic/.test(console_)) throw new Error(`guest kernel panicked; see ${consolePath}`);
      if (Date.now() - t0 > opts.bootTimeout * 1000) throw new Error(`guest not ready after ${opts.bootTimeout}s; see ${consolePath}`);
      await sleep(500);
    }
    const bootSeconds = (Date.now() - t0) / 1000;
    console.log(`capture[${opts.variant}]: guest ready after ${bootSeconds.toFixed(1)}s; settling ${opts.settle}s`);
    await sleep(opts.settle * 1000);

    const qmp = await Qmp.connect(sock);
    await qmp.execute('stop');
    const registers = await qmp.hmp('info registers', 0);
    const regs = parseRegisters(registers);
    const la57 = (BigInt(regs.cr4) >> 12n) & 1n;
    if ((opts.variant === 'la57') !== (la57 === 1n)) {
      throw new Error(`variant ${opts.variant} but CR4=${regs.cr4} (LA57=${la57}): does this QEMU/kernel support LA57?`);
    }
    writeFileSync(path.join(dir, 'registers.txt'), registers);
    const allRegisters = await qmp.hmp('info registers -a');
    writeFileSync(path.join(dir, 'registers-all.txt'), allRegisters);
    const tlb = await qmp.hmp('info tlb', 0);
    writeFileSync(path.join(dir, 'info-tlb.txt'), tlb);
    const mem = await qmp.hmp('info mem', 0);
    writeFileSync(path.join(dir, 'info-mem.txt'), mem);
    const samples = sampleAddresses(tlb, la57 === 1n);
    let gva = '';
    for (const a of samples) {
      const hexa = '0x' + a.toString(16);
      const r = (await qmp.hmp(`gva2gpa ${hexa}`, 0)).trim();
      gva += `${hexa}\t${r}\n`;
    }
    writeFileSync(path.join(dir, 'gva2gpa.tsv'), gva);
    const dump = path.join(dir, 'dump.elf');
    const td = Date.now();
    await qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${dump}` });
    const dumpSeconds = (Date.now() - td) / 1000;
    const meta = {
      variant: opts.variant,
      qemu: qemuVersion,
      kernel: path.basename(kernel),
      cmdline,
      mem: opts.mem,
      smp: opts.smp,
      vcpu0: regs,
      la57: la57 === 1n,
      lines: {
        infoTlb: tlb.split('\n').filter(Boolean).length,
        infoMem: mem.split('\n').filter(Boolean).length,
        gva2gpa: samples.length,
      },
      dumpBytes: statSync(dump).size,
      bootSeconds,
      dumpSeconds,
      capturedAt: new Date().toISOString(),
    };
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    await qmp.execute('quit').catch(() => {});
    qmp.close();
    console.log(
      `capture[${opts.variant}]: CR3=${regs.cr3} CR4=${regs.cr4}; info tlb ${meta.lines.infoTlb} lines, info mem ${meta.lines.infoMem} lines, ` +
        `${samples.length} gva2gpa samples, dump ${meta.dumpBytes} bytes in ${dumpSeconds.toFixed(1)}s -> ${dir}`,
    );
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
