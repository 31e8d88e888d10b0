import { statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { quote } from '../../util/numbers.js';
import { address, choice, inputFile, integer, size } from '../args.js';
import { dom0Layout, formatArrangement, layoutJson, PRINT_SHAPES, type Dom0LayoutInputs, type PrintShape } from '../../xen/dom0-layout.js';
import { readKernelFile } from '../../xen/kernel-image.js';
import { printJson, printLines } from '../output.js';

/** The options that describe a dom0 layout (shared with `memwalk dom0-build`). */
export interface LayoutOptions {
  kernel?: string;
  virtBase?: string;
  kernelStart?: string;
  kernelEnd?: string;
  entry?: string;
  p2mBase?: string;
  unmappedInitrd?: boolean;
  compat?: boolean;
  nrPages?: string;
  dom0Mem?: string;
  avail?: string;
  initrdSize?: string;
  initrd?: string;
  initrdAddr?: string;
  allocBase?: string;
  pvShim?: boolean;
}

interface Options extends LayoutOptions {
  print: string;
  json?: boolean;
  verbose?: boolean;
}

/**
 * `memwalk dom0-layout`: the PHYSICAL / VIRTUAL MEMORY ARRANGEMENT Xen 4.17
 * prints when it builds a PV dom0, from a kernel file or from the kernel's
 * addresses given by hand.
 */
export function register(program: Command): void {
  addLayoutOptions(
    program
      .command('dom0-layout')
      .description("compute Xen 4.17's physical and virtual memory arrangement for a PV dom0 (64-bit or 32-bit PAE compat)"),
  )
    .option('--print <version>', `printout shape: ${PRINT_SHAPES.join(' or ')}`, '4.17')
    .option('--verbose', "with --kernel, also print Xen's ELF: lines for the kernel")
    .option('-j, --json', 'print one JSON document')
    .action((opts: Options) => {
      const shape = choice(opts.print, '--print', PRINT_SHAPES) as PrintShape;
      const { inputs, kernelLines } = buildInputs(opts);
      const layout = dom0Layout(inputs);
      if (opts.json) {
        printJson(layoutJson(layout));
        return;
      }
      printLines([...(opts.verbose ? kernelLines : []), ...layout.messages, ...formatArrangement(layout, shape)]);
    });
}

const KERNEL_ADDRESS_OPTIONS = ['virtBase', 'kernelStart', 'kernelEnd', 'entry', 'p2mBase', 'unmappedInitrd', 'compat'];

/** Add the options that describe a dom0 layout (kernel, sizing, initrd, placement) to `command`. */
export function addLayoutOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-k, --kernel <file>', 'read the addresses from a kernel: ELF, bzImage (gzip/xz/lzma payload) or a compressed ELF').conflicts(KERNEL_ADDRESS_OPTIONS),
    )
    .option('--virt-base <addr>', 'VIRT_BASE (v_start) when not using --kernel', '0')
    .option('--kernel-start <addr>', 'virt_kstart: first byte of the loaded kernel (required without --kernel)')
    .option('--kernel-end <addr>', 'virt_kend: end of the loaded kernel (required without --kernel)')
    .option('--entry <addr>', 'virt_entry (default: --kernel-start)')
    .option('--p2m-base <addr>', 'INIT_P2M note: the p2m lives there instead of after the kernel (64-bit only)')
    .option('--unmapped-initrd', 'the kernel has a non-zero MOD_START_PFN note: the initrd is not mapped')
    .option('--compat', '32-bit PAE guest (Xen built with CONFIG_PV32)')
    .addOption(new Option('--nr-pages <n>', 'dom0 size in pages (nr_pages)').conflicts(['dom0Mem', 'avail']))
    .option('--dom0-mem <spec>', "Xen's dom0_mem= value, e.g. 1500M, min:512M,max:4G,-1G, 2G+10% (needs --avail)")
    .option('--avail <n>', 'pages available to dom0 (free heap + boot modules - reservations), or a size in bytes with a unit (16G)')
    .addOption(new Option('--initrd-size <size>', 'length of the initrd module').conflicts('initrd'))
    .option('--initrd <file>', 'an initrd file, for its length')
    .option('--initrd-addr <addr>', "physical address of the initrd module, host-dependent (default: just above dom0's allocation)")
    .option('--alloc-base <addr>', 'physical start of the dom0 allocation, host-dependent, naturally aligned', '0')
    .option('--pv-shim', 'Xen runs as a PV shim (Xenstore and console pages follow the start info)');
}

/** --avail: pages, or bytes when written with a unit. */
function availPages(text: string): bigint {
  if (!/[kmgtp](i?b)?$/i.test(text)) return BigInt(integer(text, '--avail'));
  const v = size(text, '--avail');
  if (v % 4096n !== 0n) throw new InvalidInputError(`--avail: ${quote(text)} is not a whole number of 4 KiB pages`, { input: '--avail', value: text });
  return v / 4096n;
}

/** The dom0Layout inputs the layout options describe, and Xen's ELF: lines when they came from --kernel. */
export function buildInputs(opts: LayoutOptions): { inputs: Dom0LayoutInputs; kernelLines: string[] } {
  let kernel: Pick<Dom0LayoutInputs, 'virtBase' | 'kernelStart' | 'kernelEnd' | 'entry' | 'p2mBase' | 'unmappedInitrd' | 'compat'>;
  let kernelLines: string[] = [];
  if (opts.kernel !== undefined) {
    const k = readKernelFile(inputFile(opts.kernel, '--kernel'));
    kernelLines = k.messages;
    kernel = { virtBase: k.virtBase, kernelStart: k.kernelStart, kernelEnd: k.kernelEnd, entry: k.entry, p2mBase: k.p2mBase, unmappedInitrd: k.unmappedInitrd, compat: k.compat };
  } else {
    if (opts.kernelStart === undefined || opts.kernelEnd === undefined) {
      throw new InvalidInputError(`--${opts.kernelStart === undefined ? 'kernel-start' : 'kernel-end'}: required unless --kernel FILE is given`, { input: 'kernel' });
    }
    const kernelStart = address(opts.kernelStart, '--kernel-start');
    kernel = {
      virtBase: address(opts.virtBase ?? '0', '--virt-base'),
      kernelStart,
      kernelEnd: address(opts.kernelEnd, '--kernel-end'),
      entry: opts.entry === undefined ? kernelStart : address(opts.entry, '--entry'),
      p2mBase: opts.p2mBase === undefined ? null : address(opts.p2mBase, '--p2m-base'),
      unmappedInitrd: Boolean(opts.unmappedInitrd),
      compat: Boolean(opts.compat),
    };
  }

  const inputs: Dom0LayoutInputs = { ...kernel, pvShim: Boolean(opts.pvShim) };
  if (opts.nrPages !== undefined) {
    inputs.nrPages = BigInt(integer(opts.nrPages, '--nr-pages'));
  } else if (opts.avail !== undefined) {
    inputs.avail = availPages(opts.avail);
    if (opts.dom0Mem !== undefined) inputs.dom0Mem = opts.dom0Mem;
  } else {
    throw new InvalidInputError(
      opts.dom0Mem !== undefined ? '--avail: needed with --dom0-mem (the pages Xen finds available)' : '--nr-pages: required (or --avail with an optional --dom0-mem)',
      { input: opts.dom0Mem !== undefined ? '--avail' : '--nr-pages' },
    );
  }

  if (opts.initrd !== undefined) {
    inputs.initrdLength = BigInt(statSync(inputFile(opts.initrd, '--initrd')).size);
  } else if (opts.initrdSize !== undefined) {
    inputs.initrdLength = size(opts.initrdSize, '--initrd-size');
  }
  inputs.allocBase = address(opts.allocBase ?? '0', '--alloc-base');
  if (opts.initrdAddr !== undefined) inputs.initrdBase = address(opts.initrdAddr, '--initrd-addr');
  else if (inputs.initrdLength !== undefined) {
    // Host-dependent in Xen; by default the module sits just above dom0's allocation, so the two never overlap.
    inputs.initrdBase = dom0Layout(inputs).alloc.end;
  }
  return { inputs, kernelLines };
}
