import type { Command } from 'commander';
import { openImage } from '../../images/loader.js';
import type { MemoryImage, QemuVcpu } from '../../images/loader.js';
import { escapeText, hex, sizeName } from '../../util/numbers.js';
import { printJson } from '../output.js';
import { choice, inputFile } from '../args.js';
import { openSource } from '../../dumps/open.js';
import { DUMP_FORMATS } from '../../dumps/detect.js';
import type { PhysicalSource } from '../../memory/source.js';

/**
 * `memwalk info --image FILE`: what an image holds, read from its headers only
 * (no RAM is loaded): its format, the physical segments and where they are in the
 * file, and for a QEMU dump every vCPU's CR0/CR3/CR4 and paging mode.
 */
export function register(program: Command): void {
  program
    .command('info')
    .description('describe a memory image: format, physical segments, and each vCPU\'s CR0/CR3/CR4 and paging mode (QEMU dumps)')
    .requiredOption('-f, --image <file>', 'a memory dump: raw, ELF core, kdump (flattened or plain), LiME or Xen dump-core, found by content')
    .option('--image-format <name>', `read the file as this format whatever its content says: ${DUMP_FORMATS.join(', ')}`)
    .option('-j, --json', 'print one JSON document')
    .action((opts: { image: string; imageFormat?: string; json?: boolean }) => {
      const path = inputFile(opts.image, '--image');
      const format = opts.imageFormat === undefined ? undefined : choice(opts.imageFormat, '--image-format', DUMP_FORMATS);
      // Headers only: opening a source reads no frame.
      const source = openSource(path, format ? { format } : {});
      try {
        const kind = source.description.format;
        if (kind === 'raw' || kind === 'qemu-elf' || kind === 'elf-core') {
          const image = openImage(path);
          if (opts.json) printJson(imageInfo(image));
          else process.stdout.write(describeImage(image));
        } else if (opts.json) printJson(sourceInfo(source));
        else process.stdout.write(describeSource(source));
      } finally {
        source.close();
      }
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
    vcpus: image.vcpus.map(vcpuJson),
  };
}

function size(n: bigint): string {
  const name = sizeName(n);
  return /^\d+$/.test(name) ? `${n} bytes` : name;
}

function vcpuJson(c: QemuVcpu): Record<string, unknown> {
  return {
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
  };
}

/** The JSON form of `info` for the formats read through a source (kdump, LiME, Xen dump-core). */
export function sourceInfo(source: PhysicalSource): Record<string, unknown> {
  const d = source.description;
  const ranges = source.ranges.map((r) => ({ pa: r.start, end: r.end, size: r.end - r.start }));
  return {
    image: d.name,
    kind: d.format,
    ...(d.fileSize === undefined ? {} : { fileSize: d.fileSize }),
    ...(d.machine === undefined ? {} : { machine: d.machine }),
    compression: d.compression ?? [],
    highestAddress: source.end,
    segments: ranges,
    vcpus: d.vcpus.map(vcpuJson),
    details: d.details ?? {},
  };
}

/** The text form of `info` for the formats read through a source. */
export function describeSource(source: PhysicalSource): string {
  const d = source.description;
  const lines: string[] = [];
  lines.push(`image:     ${escapeText(d.name)}`);
  lines.push(`format:    ${d.format}${d.machine ? ` (${d.machine})` : ''}`);
  if (d.compression?.length) lines.push(`pages:     ${d.compression.join(', ')}`);
  if (d.fileSize !== undefined) lines.push(`file size: ${hex(d.fileSize)} (${size(d.fileSize)})`);
  lines.push(`physical:  up to ${hex(source.end)} (${size(source.end)})`);
  lines.push(`ranges:    ${source.ranges.length}`);
  const rows = source.ranges.map((r) => [hex(r.start), hex(r.end), size(r.end - r.start)] as const);
  const width = (i: number) => Math.max(0, ...rows.map((r) => r[i].length));
  for (const [start, end, bytes] of rows.slice(0, 64)) lines.push(`  ${start.padStart(width(0))}..${end.padEnd(width(1))}  ${bytes.padStart(width(2))}`);
  if (rows.length > 64) lines.push(`  ... ${rows.length - 64} more (--json lists them all)`);
  lines.push(`vCPUs:     ${d.vcpus.length}`);
  for (const c of d.vcpus) lines.push(vcpuLine(c));
  const details = Object.entries(d.details ?? {}).map(([k, v]) => `${k} ${escapeText(typeof v === 'bigint' ? hex(v) : String(v))}`);
  if (details.length) lines.push(`header:    ${details.join(', ')}`);
  return lines.join('\n') + '\n';
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
  lines.push(`physical:  up to ${hex(image.highestAddress)} (${size(image.highestAddress)})`);
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
