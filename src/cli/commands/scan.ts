import type { Command } from 'commander';
import { createEngine } from '../../engine/engine.js';
import { buildGuest, guestEngineOptions, GUEST_ORDERS, type GuestOrder } from '../../xen/guest-builder.js';
import { m2pFixup, STRATEGIES, type FixupStrategy, type FixupReport } from '../../xen/m2p-fixup.js';
import { parsePreempt, formatPreempt } from '../../xen/preemption.js';
import { quote, sizeName } from '../../util/numbers.js';
import { choice, integer, size as sizeArg } from '../args.js';
import { startProgress } from '../../util/progress.js';
import { printJson, printLines } from '../output.js';
import { InvalidInputError } from '../../errors.js';
import type { BackendName } from '../../backends/backend.js';

interface Options {
  guest: string;
  ram?: string;
  processes: string;
  order: string;
  strategy: string;
  backend: string;
  prefilled: string;
  preempt: string;
  seed: string;
  json?: boolean;
}

/**
 * `memwalk scan --guest SIZE`: build a 64-bit PV guest of SIZE whose L4 tables
 * were pinned before m2p-strict was set (the restore case), then run the
 * m2p-strict fix-up with one strategy and report what it visited and filled.
 */
export function register(program: Command): void {
  program
    .command('scan')
    .description('build a large PV guest and run the m2p-strict restore fix-up over its page list (faithful, counted, flat or indexed)')
    .requiredOption('-g, --guest <size>', "guest memory, e.g. 4G, 256G, 512G (every 4 KiB frame goes on the guest's page list)")
    .option('--ram <size>', 'RAM image for the page tables (default: min(512M, guest), or what fits beside the frame table)')
    .option('--processes <n>', 'processes, each with its own validated L4..L1 tree', '16')
    .option('--order <order>', `page-list order: ${GUEST_ORDERS.join(', ')}`, 'ascending')
    .option('--strategy <name>', `fix-up: ${STRATEGIES.join(', ')}`, 'faithful')
    .option('--backend <name>', 'kernels: wasm or reference', 'wasm')
    .option('--prefilled <n>', 'L4 tables whose RO_MPT slot is already set before the fix-up', '0')
    .option('--preempt <policy>', 'when a preemption check reports pending: never, every:K, budget:MS', 'never')
    .option('--seed <n>', 'seed of the random order', '1')
    .option('-j, --json', 'print one JSON document')
    .action((o: Options) => {
      const order = choice(o.order, '--order', GUEST_ORDERS) as GuestOrder;
      const strategy = choice(o.strategy, '--strategy', STRATEGIES) as FixupStrategy;
      const backend = choice(o.backend, '--backend', ['wasm', 'reference'] as const) as BackendName;
      const preempt = parsePreempt(o.preempt, '--preempt');
      const processes = integer(o.processes, '--processes', 1, 1 << 20);
      const prefilledL4s = integer(o.prefilled, '--prefilled', 0, processes);
      const seed = integer(o.seed, '--seed', 0, 0xffffffff);
      const memory = size(o.guest, '--guest');
      const guestOptions = { memory, processes, order, prefilledL4s, seed };
      const engine = createEngine(guestEngineOptions({ ...guestOptions, backend, ...(o.ram === undefined ? {} : { ramBytes: size(o.ram, '--ram') }) }));
      const guest = buildGuest(engine, guestOptions);
      const total =
        strategy === 'flat' ? engine.layout.frames : strategy === 'indexed' ? guest.processes.length : engine.frames.list(guest.domain).length;
      const bar = startProgress(`scan (${strategy})`, total, 'frames');
      let report: FixupReport;
      try {
        report = m2pFixup(engine, guest.domain, { strategy, preempt, onProgress: (n) => bar.update(n) });
      } finally {
        bar.stop();
      }
      const result = {
        strategy,
        framesVisited: report.framesVisited,
        l4Total: report.l4Total,
        l4Filled: report.l4Filled,
        allFilled: report.allFilled,
        continuations: report.continuations,
        elapsedMs: round(report.elapsedMs),
        l4FilledByRun: report.l4FilledByRun,
        l4AlreadySet: report.l4AlreadySet,
        lockFailed: report.lockFailed,
        l4LockFailed: report.l4LockFailed,
        calls: report.calls,
        kernelCalls: report.kernelCalls,
        preemptionChecks: report.preemptionChecks,
        stuck: report.stuck,
        preempt: formatPreempt(preempt),
        backend,
        guest: {
          memory: o.guest,
          memoryBytes: guest.memoryBytes,
          frames: guest.frames,
          domain: guest.domain,
          order,
          processes: guest.processes.length,
          prefilled: guest.prefilled.length,
          tableFrames: guest.tableFrames,
          ramBytes: engine.layout.ramBytes,
          engineFrames: engine.layout.frames,
          buildMs: round(guest.elapsedMs),
        },
      };
      if (o.json) {
        printJson(result);
        return;
      }
      const setBefore = report.l4Filled - report.l4FilledByRun;
      printLines([
        `guest         ${sizeName(memory)}: ${guest.frames} frames on domain ${guest.domain}'s page list (${order}), ${guest.processes.length} processes, ` +
          `${guest.prefilled.length} L4s prefilled; built in ${result.guest.buildMs} ms`,
        `fix-up        ${strategy} on ${backend}, preempt ${formatPreempt(preempt)}`,
        `visited       ${report.framesVisited} frames`,
        `L4 tables     ${report.l4Filled} of ${report.l4Total} have the slot set${report.allFilled ? '' : ' (NOT all)'}: ` +
          `${report.l4FilledByRun} filled by this run, ${setBefore} set before it`,
        // The faithful loop stops at the first L4 it finds already set, which may be one this run filled on an earlier pass.
        `already set   the loop met ${report.l4AlreadySet} L4${report.l4AlreadySet === 1 ? '' : 's'} with the slot already set` +
          (strategy === 'faithful' ? ' (the faithful loop stops at the first)' : ''),
        `not lockable  ${report.l4LockFailed} L4${report.l4LockFailed === 1 ? '' : 's'} (${report.lockFailed} frames in all)`,
        `continuations ${report.continuations} (${report.calls} calls)${report.stuck ? ', stopped: the loop could never end' : ''}`,
        `elapsed       ${result.elapsedMs} ms`,
      ]);
    });
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** A size option: a whole, positive number of 4 KiB pages that fits a JS number. */
function size(text: string, option: string): number {
  const b = sizeArg(text, option, 53);
  if (b === 0n || b % 4096n !== 0n) throw new InvalidInputError(`${option}: ${quote(text)} must be a positive multiple of 4K`, { input: option, value: text });
  return Number(b);
}
