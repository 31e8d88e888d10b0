#!/usr/bin/env node
// The xl-dump-core scenario's capture: boot Xen 4.17 under QEMU (TCG, one pCPU,
// -m 1536) with a dom0 that runs Xen's own toolstack (build-xl-initramfs.sh), let
// dom0 start a 96 MiB PV domU, pause it and `xl dump-core` it, then, while the domU
// is still paused, stop QEMU and `dump-guest-memory` the whole host. Writes DIR/xl-dump-core/:
//   domu.core         the file xl dump-core wrote (from dom0's tar on the second disk)
//   host.elf          QEMU's ELF dump of the host (machine frames = its physical frames)
//   domu-console.log  the domU's console (XLDUMP-PLANTED va=... pfn=...)
//   xenctx.txt, mfndump-p2m.txt, xl-*.txt/json   what Xen's tools said while paused
//   console.log (Xen and dom0), host-registers.txt, meta.json
// With --pvh, dom0 also tries a PVH domU (pvh/; experimental: see docs/qemu.md).
// Usage: node scripts/qemu-e2e/xl-capture.mjs [--work DIR] [--boot-timeout 1500] [--pvh]
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, closeSync, openSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Qmp } from './qmp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const XEN_CMDLINE = ['console=com1', 'com1=115200,8n1', 'dom0_mem=1024M,max:1024M', 'dom0_max_vcpus=1', 'noreboot', 'loglvl=all', 'guest_loglvl=all'];
const DOM0_CMDLINE = ['console=hvc0', 'panic=-1', 'quiet', 'loglevel=3', 'no5lvl'];

function args(argv) {
  const o = { work: process.env.MEMWALK_QEMU_WORK || '/tmp/memwalk-qemu-e2e', bootTimeout: 1500, pvh: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--work') o.work = argv[++i];
    else if (argv[i] === '--boot-timeout') o.bootTimeout = Number(argv[++i]);
    else if (argv[i] === '--pvh') o.pvh = true;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

function newest(re) {
  const fs = readdirSync('/boot').filter((f) => re.test(f)).sort();
  if (!fs.length) throw new Error(`nothing in /boot matches ${re}: run scripts/qemu-e2e/install.sh --xen`);
  return path.join('/boot', fs[fs.length - 1]);
}

async function main() {
  const o = args(process.argv.slice(2));
  const dom0Cmdline = [...DOM0_CMDLINE, ...(o.pvh ? ['xldump_pvh'] : [])];
  const tag = 'capture[xl-dump-core]';
  const dir = path.join(o.work, 'xl-dump-core');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const initrd = path.join(dir, 'dom0.cpio.gz');
  execFileSync('bash', [path.join(here, 'build-xl-initramfs.sh'), initrd], { stdio: 'inherit' });
  const xenGz = newest(/^xen-.*\.gz$/);
  const xen = path.join(dir, path.basename(xenGz, '.gz'));
  writeFileSync(xen, gunzipSync(readFileSync(xenGz))); // QEMU's multiboot loader wants the ELF
  const kernel = newest(/^vmlinuz-/);
  // dom0's way out: a raw disk it writes a tar archive onto.
  const disk = path.join(dir, 'out.img');
  const fd = openSync(disk, 'w');
  ftruncateSync(fd, 512 * 1024 * 1024);
  closeSync(fd);
  const consolePath = path.join(dir, 'console.log');
  const sock = path.join(dir, 'qmp.sock');
  const qemuArgs = [
    '-n', '19', 'qemu-system-x86_64',
    '-machine', 'pc', '-accel', 'tcg', '-cpu', 'max,smap=off,pku=off', '-m', '1536', '-smp', '1',
    '-kernel', xen, '-append', XEN_CMDLINE.join(' '), '-initrd', `${kernel} ${dom0Cmdline.join(' ')},${initrd}`,
    '-drive', `file=${disk},if=virtio,format=raw`,
    '-display', 'none', '-monitor', 'none', '-nodefaults', '-no-reboot',
    '-serial', `file:${consolePath}`, '-qmp', `unix:${sock},server=on,wait=off`,
  ];
  const qemuVersion = execFileSync('qemu-system-x86_64', ['--version']).toString().split('\n')[0];
  console.log(`${tag}: ${qemuVersion}; booting ${path.basename(xen)} + ${path.basename(kernel)} (nice 19, -m 1536, -smp 1)`);
  const t0 = Date.now();
  const qemu = spawn('nice', qemuArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let qemuErr = '';
  qemu.stderr.on('data', (d) => (qemuErr += d));
  let exited = null;
  qemu.on('exit', (code, sig) => (exited = { code, sig }));
  const kill = () => exited === null && qemu.kill('SIGKILL');
  process.on('exit', kill);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
  try {
    let text = '';
    let seen = 0;
    for (;;) {
      if (exited) throw new Error(`QEMU exited (${JSON.stringify(exited)}): ${qemuErr.trim()}`);
      if (existsSync(consolePath)) text = readFileSync(consolePath, 'latin1');
      // Echo dom0's progress lines as they come.
      const steps = text.match(/XLDUMP-[A-Z]+[^\n]*/g) ?? [];
      for (; seen < steps.length; seen++) console.log(`${tag}: [${((Date.now() - t0) / 1000).toFixed(0)}s] ${steps[seen].trim()}`);
      if (/XLDUMP-DONE/.test(text)) break;
      if (/XLDUMP-FAIL/.test(text)) throw new Error(`dom0 reports a failure; see ${consolePath}`);
      if (/Kernel panic|Panic on CPU|Dom0 crashed/.test(text)) throw new Error(`Xen or dom0 panicked; see ${consolePath}`);
      if (Date.now() - t0 > o.bootTimeout * 1000) throw new Error(`no XLDUMP-DONE after ${o.bootTimeout}s; see ${consolePath}`);
      await sleep(1000);
    }
    const [, domid, pvh] = /XLDUMP-DONE domid=(\d+) pvh=(\d)/.exec(text).map(Number);
    const qmp = await Qmp.connect(sock);
    await qmp.execute('stop');
    writeFileSync(path.join(dir, 'host-registers.txt'), await qmp.hmp('info registers -a'));
    const host = path.join(dir, 'host.elf');
    const td = Date.now();
    await qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${host}` });
    const dumpSeconds = (Date.now() - td) / 1000;
    await qmp.execute('quit').catch(() => {});
    qmp.close();
    execFileSync('tar', ['-xf', disk, '-C', dir]);
    if (!existsSync(path.join(dir, 'domu.core'))) throw new Error(`dom0's tar on ${disk} has no domu.core`);
    rmSync(disk);
    const meta = {
      scenario: 'xl-dump-core',
      qemu: qemuVersion,
      xen: path.basename(xen),
      xenCmdline: XEN_CMDLINE.join(' '),
      kernel: path.basename(kernel),
      dom0Cmdline: dom0Cmdline.join(' '),
      mem: 1536,
      smp: 1,
      domid,
      pvh: pvh === 1 ? { planted: /XLDUMP-PLANTED[^\n]*/.exec(readFileSync(path.join(dir, 'pvh/domu-console.log'), 'latin1'))?.[0].trim() } : null,
      planted: /XLDUMP-PLANTED[^\n]*/.exec(readFileSync(path.join(dir, 'domu-console.log'), 'latin1'))?.[0].trim(),
      domuCoreBytes: statSync(path.join(dir, 'domu.core')).size,
      hostDumpBytes: statSync(host).size,
      dumpSeconds,
      totalSeconds: (Date.now() - t0) / 1000,
      capturedAt: new Date().toISOString(),
    };
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    console.log(`${tag}: done in ${meta.totalSeconds.toFixed(0)}s: domu.core ${meta.domuCoreBytes} bytes, host.elf ${meta.hostDumpBytes} bytes -> ${dir}`);
  } finally {
    for (let i = 0; i < 50 && exited === null; i++) await sleep(100);
    kill();
    rmSync(sock, { force: true });
  }
}

main().catch((err) => {
  console.error(`xl-capture: ${err.message}`);
  process.exit(1);
});
