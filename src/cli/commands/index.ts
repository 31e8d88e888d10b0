import type { Command } from 'commander';
import { register as info } from './info.js';
import { register as translate } from './translate.js';
import { register as mappings } from './mappings.js';
import { register as compare } from './compare.js';
import { register as demo } from './demo.js';
import { register as dom0Layout } from './dom0-layout.js';
import { register as dom0Build } from './dom0-build.js';
import { register as scan } from './scan.js';
import { register as directMap } from './direct-map.js';
import { register as bootParams } from './boot-params.js';
import { register as read } from './read.js';
import { register as reverse } from './reverse.js';
import { register as roots } from './roots.js';
import { register as search } from './search.js';

/** Every command registers itself on the program; add one line per command file. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  translate,
  mappings,
  read,
  reverse,
  roots,
  search,
  info,
  compare,
  demo,
  dom0Layout,
  dom0Build,
  scan,
  directMap,
  bootParams,
];
