import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { root: string; version: string } | undefined;

/** memwalk's own package.json: the nearest one above this file (in a clone or in node_modules alike). */
function find(): { root: string; version: string } {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'memwalk') return (cached = { root: dir, version: pkg.version ?? '0.0.0' });
    }
    dir = dirname(dir);
  }
  return (cached = { root: dirname(fileURLToPath(import.meta.url)), version: '0.0.0' });
}

export const packageVersion = (): string => find().version;
export const installedRoot = (): string => find().root;

/** True in a clone of the repository (its sources are there), false in an installed package. */
export const isSourceCheckout = (): boolean => existsSync(join(find().root, 'src')) && existsSync(join(find().root, 'assembly'));
