#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, type Option } from 'commander';
import { MemwalkError } from '../errors.js';
import { escapeText, NUMBER_RULE } from '../util/numbers.js';
import type { RegisterCommand } from './commands/index.js';
import { packageVersion } from './package-info.js';
import { takeNotes } from './output.js';

/** Commander's command, with one clearer message: `--json=1` on a flag that takes no value. */
class MemwalkCommand extends Command {
  override createCommand(name?: string): Command {
    return new MemwalkCommand(name);
  }

  // Commander calls this for every unknown option (it is missing from its typings).
  unknownOption(flag: string): never {
    const m = /^(--[^=]+)=/.exec(flag);
    const known = m && this.options.find((o) => o.long === m[1]);
    if (known && !known.required && !known.optional) this.error(`option '${m![1]}' takes no value (got ${flag})`, { code: 'commander.unknownOption' });
    return (Command.prototype as unknown as { unknownOption(this: Command, f: string): never }).unknownOption.call(this, flag);
  }
}

/**
 * The `memwalk` command line. Each command lives in cli/commands/<name>.ts and
 * registers itself; this file owns what every command shares: the help layout,
 * `--version`, and the error policy. Every error, commander's included, is one
 * line `memwalk: ...` on stderr and exit status 1; a reader that goes away
 * (`memwalk mappings ... | head`) ends the run quietly with status 0.
 */
export function buildProgram(commands: readonly RegisterCommand[]): Command {
  const program = new MemwalkCommand('memwalk')
    .description("Model and scan a machine's memory: page walks, mappings, Xen page lists, QEMU dumps.")
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .configureHelp({ optionDescription, sortOptions: false });
  for (const register of commands) register(program);
  for (const cmd of program.commands) {
    cmd.version(packageVersion(), '-V, --version', 'print the version');
    cmd.addHelpText('after', `\n${NUMBER_RULE}`);
  }
  return program;
}

/**
 * Each command's file, by the name it registers: a command line that starts with
 * a command's name loads that file alone (the others would cost more start-up than
 * the command itself); anything else (`--help`, `help`, a typo that wants a
 * suggestion) loads them all through commands/index.ts, in its order.
 */
export const COMMAND_FILES: Record<string, () => Promise<{ register: RegisterCommand }>> = {
  translate: () => import('./commands/translate.js'),
  mappings: () => import('./commands/mappings.js'),
  read: () => import('./commands/read.js'),
  reverse: () => import('./commands/reverse.js'),
  roots: () => import('./commands/roots.js'),
  search: () => import('./commands/search.js'),
  info: () => import('./commands/info.js'),
  compare: () => import('./commands/compare.js'),
  demo: () => import('./commands/demo.js'),
  'dom0-layout': () => import('./commands/dom0-layout.js'),
  'dom0-build': () => import('./commands/dom0-build.js'),
  scan: () => import('./commands/scan.js'),
  'direct-map': () => import('./commands/direct-map.js'),
  'boot-params': () => import('./commands/boot-params.js'),
};

async function commandsFor(argv: readonly string[]): Promise<readonly RegisterCommand[]> {
  const first = argv[0];
  const one = first !== undefined && Object.hasOwn(COMMAND_FILES, first) ? COMMAND_FILES[first] : undefined;
  if (one) return [(await one()).register];
  return (await import('./commands/index.js')).commands;
}

/** An option's help text: its description, then (required) or its default, once. */
function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.mandatory) extra.push('required');
  const d = option.defaultValue as unknown;
  if (d !== undefined && typeof d !== 'boolean' && !(Array.isArray(d) && d.length === 0)) {
    extra.push(`default: ${option.defaultValueDescription ?? String(d)}`);
  }
  return extra.length ? `${option.description} (${extra.join(', ')})` : option.description;
}

/** Commander's message as one line in memwalk's style. */
function commanderLine(message: string): string {
  let m = message.replace(/^error: /, '');
  const hint = /\n\(Did you mean (.*)\?\)$/s.exec(m);
  if (hint) m = `${m.slice(0, hint.index)} (did you mean ${hint[1]}?)`;
  return m;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(await commandsFor(argv));
  /** One error line, with the notes taken so far folded in (they may explain the error). */
  const fail = (message: string): number => {
    const notes = takeNotes();
    process.stderr.write(`memwalk: ${escapeText(message)}${notes.map((n) => ` (note: ${n})`).join('')}\n`);
    return 1;
  };
  try {
    await program.parseAsync(argv, { from: 'user' });
    for (const n of takeNotes()) process.stderr.write(`memwalk: note: ${n}\n`);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0 (commander printed them); `memwalk` alone printed the help and fails.
      if (err.exitCode === 0 || err.code === 'commander.help') return err.exitCode === 0 ? 0 : 1;
      return fail(commanderLine(err.message));
    }
    if (err instanceof MemwalkError) return fail(err.message);
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
      // A file-system error the command did not foresee: still the user's file, still one line.
      const what = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.code;
      return fail(e.path ? `${e.path}: ${what}` : `${what} (${e.message})`);
    }
    throw err;
  }
}

/** The reader of stdout went away: nothing more to say, and nothing went wrong. */
function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(0);
  throw err;
}

/**
 * The process around main(): stdout's reader may go away, and an error no command
 * foresaw is one line with exit status 2. The bundled bin (dist/cli/memwalk.cjs,
 * scripts/build-cli.mjs) calls this; so does this file when run itself.
 */
export function run(argv: string[] = process.argv.slice(2)): void {
  process.stdout.on('error', onStdoutError);
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      const debug = process.env.MEMWALK_DEBUG === '1';
      const text = err instanceof Error ? (debug ? err.stack ?? err.message : err.message) : String(err);
      process.stderr.write(`memwalk: internal error: ${debug ? text : escapeText(text)}${debug ? '' : ' (MEMWALK_DEBUG=1 shows where)'}\n`);
      process.exitCode = 2;
    },
  );
}

// Run when executed (directly or through a symlink), not when imported.
const isMain = (() => {
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
if (isMain) run();
