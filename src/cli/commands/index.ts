import type { Command } from 'commander';
import { register as info } from './info.js';
import { register as translate } from './translate.js';
import { register as mappings } from './mappings.js';

/** Every command registers itself on the program; add one line per command file. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  translate,
  mappings,
  info,
];
