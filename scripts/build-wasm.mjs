// Compiles every kernel module assembly/<name>/index.ts twice: build/<name>.wasm
// imports an ordinary memory, build/<name>.shared.wasm a shared one (for engines
// scanned by worker threads). Engines are not shared by default because Linux gives
// shared memory no transparent huge pages, which halves random-walk speed.
// Each module gets its own slot for static data below the control block
// (see MODULE_DATA_SLOT in src/abi.ts).
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
  for (const shared of [false, true]) {
    const out = `build/${name}${shared ? '.shared' : ''}`;
    const { error } = await asc.main(
      [
        `assembly/${name}/index.ts`,
        '--config', 'asconfig.json',
        '--target', target,
        '--outFile', `${out}.wasm`,
        '--textFile', `${out}.wat`,
        '--memoryBase', String((i + 1) * slot),
        ...(shared ? ['--sharedMemory', '--enable', 'threads'] : []),
      ],
      { stdout: process.stdout, stderr: process.stderr },
    );
    if (error) {
      console.error(`asc: ${name}: ${error.message}`);
      failed = true;
      break;
    }
    console.log(`built ${out}.wasm (${target})`);
  }
}
if (failed) process.exit(1);
