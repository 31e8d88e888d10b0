import type { Command } from 'commander';
import { createEngine } from '../../engine/engine.js';
import type { BackendName } from '../../backends/backend.js';
import { InvalidInputError } from '../../errors.js';
import { quote } from '../../util/numbers.js';
import { choice, integer } from '../args.js';
import { dom0Layout, formatArrangement } from '../../xen/dom0-layout.js';
import { buildDom0, dom0BuildJson, dom0EngineOptions, formatDom0Build, INJECTION_KINDS, type Dom0Injection } from '../../xen/dom0-build.js';
import { printJson, printLines } from '../output.js';
import { addLayoutOptions, buildInputs, type LayoutOptions } from './dom0-layout.js';

interface Options extends LayoutOptions {
  check?: boolean;
  backend: string;
  domain: string;
  pinRoot?: boolean;
  inject: string[];
  json?: boolean;
}

const BACKENDS: readonly BackendName[] = ['wasm', 'reference'];

/** `--inject KIND:PAGE`, e.g. count:1 or pinned:0. */
function parseInjection(text: string): Dom0Injection {
  const m = /^([a-z]+):(.+)$/.exec(text);
  if (!m) throw new InvalidInputError(`--inject: ${quote(text)} is not KIND:PAGE (KIND one of ${INJECTION_KINDS.join(', ')})`, { input: '--inject', value: text });
  const kind = choice(m[1]!, '--inject', INJECTION_KINDS);
  return { kind, page: integer(m[2]!, '--inject page') };
}

/**
 * `memwalk dom0-build`: build dom0's initial page tables in an engine from the
 * same inputs as `memwalk dom0-layout`, check the page-table pages the way the
 * seed's assertions do, mark them read-only, and walk the result.
 */
export function register(program: Command): void {
  addLayoutOptions(
    program
      .command('dom0-build')
      .description("build a PV dom0's initial page tables from Xen 4.17's layout, check and mark the page-table pages read-only, walk them back"),
  )
    .option('--check', 'print the construction report: every page-table page checked, the violations, the marking')
    .option('--backend <name>', `kernels to run: ${BACKENDS.join(' or ')}`, 'wasm')
    .option('--domain <id>', 'domain id to build', '0')
    .option('--pin-root', 'also pin the top-level table, as mark_pv_pt_pages_rdonly does after the marking')
    .option('--inject <kind:page>', `break a page-table page before the checks (kind: ${INJECTION_KINDS.join(', ')}; repeatable)`, (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-j, --json', 'print one JSON document')
    .action((opts: Options) => {
      const backend = choice(opts.backend, '--backend', BACKENDS);
      const domain = integer(opts.domain, '--domain', 0, 0xffffffff);
      const inject = opts.inject.map(parseInjection);
      const { inputs } = buildInputs(opts);
      const layout = dom0Layout(inputs);
      const engine = createEngine(dom0EngineOptions(layout, { backend }));
      const report = buildDom0(engine, inputs, { domain, pinRoot: Boolean(opts.pinRoot), inject });
      if (opts.json) {
        printJson({ backend, ...dom0BuildJson(report) });
        return;
      }
      printLines([...layout.messages, ...formatArrangement(layout), ...formatDom0Build(report, { check: Boolean(opts.check) })]);
    });
}
