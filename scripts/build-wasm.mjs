// Compiles every kernel module assembly/<name>/index.ts to build/<name>.wasm.
// All modules import the engine's one shared memory; each gets its own slot
// for static data below the control block (see MODULE_DATA_SLOT in src/abi.ts).
import { readdirSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = process.argv.includes('--target') ? process.argv[process.argv.indexOf('--target') + 1] : 'release';
const slot = Number(/MODULE_DATA_SLOT = (0x[0-9a-f]+|\d+)/i.exec(readFileSync(join(root, 'src/abi.ts'), 'utf8'))[1]);
const modules = readdirSync(join(root, 'assembly'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'assembly', d.name, 'index.ts')))
  .map((d) => d.name)
  .sort();
mkdirSync(join(root, 'build'), { recursive: true });

let failed = false;
for (const [i, name] of modules.entries()) {
  const { error, stderr } = await asc.main(
    [
      `assembly/${name}/index.ts`,
      '--config', 'asconfig.json',
      '--target', target,
      '--outFile', `build/${name}.wasm`,
      '--textFile', `build/${name}.wat`,
      '--memoryBase', String((i + 1) * slot),
    ],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) {
    console.error(`asc: ${name}: ${error.message}`);
    failed = true;
  } else {
    console.log(`built build/${name}.wasm (${target})`);
  }
}
if (failed) process.exit(1);
