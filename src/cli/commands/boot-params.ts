import type { Command } from 'commander';
import { openDump } from '../../engine/open-dump.js';
import { BOOT_PARAMS_BYTES, e820ToBanks, parseBootParams } from '../../xen/boot-params.js';
import { InvalidInputError, OutsideImageError } from '../../errors.js';
import { escapeText, hex, hex16 } from '../../util/numbers.js';
import { address, inputFile } from '../args.js';
import { printJson } from '../output.js';

interface Options {
  image: string;
  at: string;
  json?: boolean;
}

/**
 * Read [pa, pa + len) of a dump of any format through a small frame cache: only
 * the frames holding these bytes are read, whatever the dump's size.
 */
function readPhys(path: string, pa: bigint, len: number): Uint8Array {
  const dump = openDump(path, { cacheBytes: 1 << 20 });
  try {
    return dump.engine.phys.read(pa, len);
  } catch (err) {
    if (err instanceof OutsideImageError) {
      // The first byte the dump does not have: a hole's address, or where its physical memory ends.
      const missing = typeof err.details.address === 'bigint' && !('length' in err.details) ? err.details.address : BigInt(dump.engine.phys.size);
      throw new InvalidInputError(`--at: boot_params [${hex(pa)}, ${hex(pa + BigInt(len))}) is not wholly in ${path}: no byte at ${hex(missing)}`, { input: '--at', address: pa });
    }
    throw err;
  } finally {
    dump.close();
  }
}

export function register(program: Command): void {
  program
    .command('boot-params')
    .description("read a Linux x86 zero page (boot_params): hardware_subarch and the e820 map, and the RAM banks it gives the direct map")
    .requiredOption('-f, --image <file>', 'a raw RAM image (file offset = physical address) or a QEMU dump-guest-memory ELF core')
    .requiredOption('--at <addr>', 'physical address of boot_params')
    .option('-j, --json', 'print one JSON document')
    .action((o: Options) => {
      const at = address(o.at, '--at');
      inputFile(o.image, '--image');
      const bp = parseBootParams(readPhys(o.image, at, BOOT_PARAMS_BYTES), `${o.image}: boot_params at ${hex(at)}`);
      const { banks, reserved } = e820ToBanks(bp.e820);
      if (o.json) {
        printJson({
          at,
          hardwareSubarch: bp.hardwareSubarch,
          hardwareSubarchName: bp.hardwareSubarchName,
          hardwareSubarchData: bp.hardwareSubarchData,
          e820: bp.e820.map((e) => ({ addr: e.addr, size: e.size, end: e.addr + e.size, type: e.type, typeName: e.typeName })),
          banks: banks.map((b) => ({ start: b.start, size: b.size })),
          reserved: reserved.map((r) => ({ start: r.start, size: r.size, noMap: r.noMap })),
        });
        return;
      }
      const lines = [
        `boot_params at ${hex(at)} in ${escapeText(o.image)}`,
        `hardware_subarch: ${bp.hardwareSubarch} (${bp.hardwareSubarchName}), hardware_subarch_data ${hex(bp.hardwareSubarchData)}`,
        `e820: ${bp.e820.length} entr${bp.e820.length === 1 ? 'y' : 'ies'}`,
        ...bp.e820.map((e) => `  ${hex16(e.addr)}-${hex16(e.addr + e.size)} ${e.typeName}`),
        banks.length
          ? `direct-map input: ${banks.map((b) => `--bank ${hex(b.start)}:${hex(b.size)}`).join(' ')}${reserved.map((r) => ` --reserved ${hex(r.start)}:${hex(r.size)}:nomap`).join('')}`
          : 'direct-map input: none (no RAM entry)',
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
