#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { MemwalkError } from '../errors.js';
import { commands } from './commands/index.js';

/**
 * The `memwalk` command line. Each command lives in cli/commands/<name>.ts and
 * registers itself; this file only owns the error policy: a MemwalkError (bad
 * input) prints one line and exits 1, never a stack trace.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('memwalk')
    .description('Model and scan a machine\'s memory: page walks, mappings, Xen page lists, QEMU dumps.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; commander already printed what it had to say.
      return err.exitCode === 0 ? 0 : 1;
    }
    if (err instanceof MemwalkError) {
      process.stderr.write(`memwalk: ${err.message}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && typeof e.path === 'string') {
      // File-system errors are user errors too: name the file and what went wrong.
      const what = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.code;
      process.stderr.write(`memwalk: ${e.path}: ${what}\n`);
      return 1;
    }
    throw err;
  }
}

// Run when executed (directly or through npm's bin symlink), not when imported.
const isMain = (() => {
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`memwalk: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
