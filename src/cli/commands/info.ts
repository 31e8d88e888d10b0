import type { Command } from 'commander';
import { openImage } from '../../images/loader.js';
import type { MemoryImage, QemuVcpu } from '../../images/loader.js';
import { escapeText, hex, sizeName } from '../../util/numbers.js';
import { printJson } from '../output.js';
import { inputFile } from '../args.js';

/**
 * `memwalk info --image FILE`: what an image holds, read from its headers only
 * (no RAM is loaded): its format, the physical segments and where they are in the
 * file, and for a QEMU dump every vCPU's CR0/CR3/CR4 and paging mode.
 */
export function register(program: Command): void {
  program
    .command('info')
    .description('describe a memory image: format, physical segments, and each vCPU\'s CR0/CR3/CR4 and paging mode (QEMU dumps)')
    .requiredOption('-f, --image <file>', 'a raw RAM image (file offset = physical address) or a QEMU dump-guest-memory ELF core')
    .option('-j, --json', 'print one JSON document')
    .action((opts: { image: string; json?: boolean }) => {
      const image = openImage(inputFile(opts.image, '--image'));
      if (opts.json) printJson(imageInfo(image));
      else process.stdout.write(describeImage(image));
    });
}

/** The JSON form of `info`. */
export function imageInfo(image: MemoryImage): Record<string, unknown> {
  return {
    image: image.path,
    kind: image.kind,
    fileSize: image.fileSize,
    highestAddress: image.highestAddress,
    ...(image.core
      ? { elf: { class: image.core.elfClass, machine: image.core.machine, pnXnum: image.core.pnXnum } }
      : {}),
    segments: image.segments.map((s) => ({ pa: s.pa, end: s.pa + s.size, size: s.size, fileOffset: s.fileOffset })),
    vcpus: image.vcpus.map((c) => ({
      index: c.index,
      ...(c.pid === undefined ? {} : { pid: c.pid }),
      cr0: c.cr0,
      cr2: c.cr2,
      cr3: c.cr3,
      cr4: c.cr4,
      pagingMode: c.pagingMode,
      longMode: c.longMode,
      la57: c.la57,
      pcide: c.pcide,
      ...(c.pcid === undefined ? {} : { pcid: c.pcid }),
      root: c.root,
      rip: c.rip,
      csSelector: c.csSelector,
      cs64: c.cs64,
    })),
  };
}

function size(n: bigint): string {
  const name = sizeName(n);
  return /^\d+$/.test(name) ? `${n} bytes` : name;
}

function vcpuLine(c: QemuVcpu): string {
  const parts = [`cpu ${c.index}:`, `CR0=${hex(c.cr0)}`, `CR3=${hex(c.cr3)}`, `CR4=${hex(c.cr4)}`, `paging ${c.pagingMode}`];
  const extra: string[] = [];
  if (c.root !== null) extra.push(`root ${hex(c.root)}`);
  if (c.pcid !== undefined) extra.push(`PCID ${hex(c.pcid)}`);
  extra.push(c.longMode ? 'long mode' : 'legacy mode');
  return `  ${parts.join(' ')} (${extra.join(', ')})`;
}

/** The text form of `info`. */
export function describeImage(image: MemoryImage): string {
  const lines: string[] = [];
  lines.push(`image:     ${escapeText(image.path)}`);
  if (image.kind === 'raw') {
    lines.push('format:    raw (file offset = physical address)');
    lines.push(`size:      ${hex(image.fileSize)} (${size(image.fileSize)}): physical 0x0..${hex(image.highestAddress)}`);
    return lines.join('\n') + '\n';
  }
  const core = image.core!;
  const machine = core.machine === 62 ? 'x86-64' : core.machine === 3 ? 'i386' : `machine ${core.machine}`;
  lines.push(`format:    qemu-elf (QEMU dump-guest-memory ELF${core.elfClass} core, ${machine}${core.pnXnum ? ', PN_XNUM' : ''})`);
  lines.push(`file size: ${hex(image.fileSize)} (${size(image.fileSize)})`);
  lines.push(`RAM image: ${hex(image.highestAddress)} (${size(image.highestAddress)}) needed to hold the highest segment`);
  lines.push(`segments:  ${image.segments.length}`);
  const rows = image.segments.map((s) => [hex(s.pa), hex(s.pa + s.size), size(s.size), hex(s.fileOffset)] as const);
  const width = (i: number) => Math.max(0, ...rows.map((r) => r[i].length));
  for (const [start, end, bytes, offset] of rows) {
    lines.push(`  ${start.padStart(width(0))}..${end.padEnd(width(1))}  ${bytes.padStart(width(2))}  at file offset ${offset}`);
  }
  lines.push(`vCPUs:     ${image.vcpus.length}`);
  for (const c of image.vcpus) lines.push(vcpuLine(c));
  return lines.join('\n') + '\n';
}
