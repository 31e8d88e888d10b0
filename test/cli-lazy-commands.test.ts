// A command line that starts with a command's name loads that command's file alone
// (start-up time); every command must have its entry, or it silently loads all.
import { test, expect } from 'vitest';
import { buildProgram, COMMAND_FILES } from '../src/cli/main.js';
import { commands } from '../src/cli/commands/index.js';

test('every command has a file of its own in the lazy table, and that file registers exactly it', async () => {
  const all = buildProgram(commands).commands.map((c) => c.name()).sort();
  expect(Object.keys(COMMAND_FILES).sort()).toEqual(all);
  for (const name of all) {
    const { register } = await COMMAND_FILES[name]!();
    expect(buildProgram([register]).commands.map((c) => c.name())).toEqual([name]);
  }
});
