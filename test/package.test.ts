// The package as a user gets it. `npm pack` once, install the tarball in a fresh
// project, then: import every documented entry point, type-check a use of each,
// and run every JS/TS example and every `$ memwalk` session of README.md and
// docs/*.md in that project, comparing what they print with what the page shows.
//
// The install is what `npm install memwalk-x.y.z.tgz` does, without the network:
// the tarball is unpacked into node_modules/memwalk, its bin is linked into
// node_modules/.bin, and each of its declared runtime dependencies (only those) is
// linked from this checkout's node_modules.
import { beforeAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, docFiles, examplesOf, matchesShown, transcriptsOf, type Example } from './helpers/doc-blocks.js';
import { testDir } from './helpers/temp-dir.js';

const work = testDir('memwalk-package-');
const project = join(work, 'project');
const modules = join(project, 'node_modules');
const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** Every entry point docs/api.md documents, e.g. `memwalk`, `memwalk/xen`. */
function documentedEntryPoints(): string[] {
  const api = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
  return [...new Set([...api.matchAll(/^\| `(memwalk(?:\/[a-z]+)?)` \|/gm)].map((m) => m[1]!))];
}

/** Run a program to its end without blocking this process (the test runner talks to it meanwhile). */
async function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    const r = await promisify(execFile)(file, args, { cwd, encoding: 'utf8', env: { ...process.env, CI: '1', ...env }, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e) };
  }
}
const run = (file: string, cwd: string) => exec(process.execPath, [file], cwd);

const examples = docFiles().flatMap((doc) => examplesOf(doc));
/** The directory a page's blocks run in: README.md -> examples/README, docs/xen.md -> examples/docs-xen. */
const pageDir = (doc: string) => join(project, 'examples', doc.replace(/\.md$/, '').replace(/\//g, '-'));
const exampleFile = (e: Example) => join(pageDir(e.doc), `line-${e.line}.${e.lang === 'ts' ? 'ts' : 'mjs'}`);
let typeCheck = '';

beforeAll(async () => {
  const pack = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work, ROOT], work);
  if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const tarball = join(work, JSON.parse(pack.stdout)[0].filename);
  mkdirSync(join(modules, 'memwalk'), { recursive: true });
  const untar = await exec('tar', ['-xzf', tarball, '-C', join(modules, 'memwalk'), '--strip-components=1'], work);
  if (untar.code !== 0) throw new Error(`unpacking ${tarball} failed: ${untar.stderr}`);
  const pkg = JSON.parse(readFileSync(join(modules, 'memwalk', 'package.json'), 'utf8'));
  for (const dep of [...Object.keys(pkg.dependencies ?? {}), '@types/node']) {
    mkdirSync(dirname(join(modules, dep)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep), 'dir');
  }
  mkdirSync(join(modules, '.bin'));
  symlinkSync(join('..', 'memwalk', pkg.bin.memwalk), join(modules, '.bin', 'memwalk'));
  chmodSync(join(modules, 'memwalk', pkg.bin.memwalk), 0o755);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));

  // What the tests below need on disk: one file using every entry point's types, and the examples.
  const entries = documentedEntryPoints();
  writeFileSync(
    join(project, 'entry-points.ts'),
    entries.map((e, i) => `import * as m${i} from '${e}';\nexport const names${i}: string[] = Object.keys(m${i});\n`).join(''),
  );
  for (const doc of docFiles()) {
    mkdirSync(pageDir(doc), { recursive: true });
    // The kernel file the examples that read a kernel use (a small Linux-like one).
    copyFileSync(join(ROOT, 'test', 'fixtures', 'dom0', 'linux64.elf.xz'), join(pageDir(doc), 'kernel.xz'));
  }
  for (const e of examples) writeFileSync(exampleFile(e), e.code);
  // One strict type-check (and compile) of every TS file a user would write.
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], skipLibCheck: true, noEmitOnError: true },
      include: ['entry-points.ts', 'examples/**/*.ts'],
    }),
  );
  const r = await exec(process.execPath, [tsc, '-p', project], project);
  typeCheck = r.code === 0 ? '' : r.stdout + r.stderr;
});

describe('the packed package', () => {
  test('the documented entry points are exactly the package\'s exports', () => {
    const pkg = JSON.parse(readFileSync(join(modules, 'memwalk', 'package.json'), 'utf8'));
    const exported = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'memwalk' : `memwalk/${k.slice(2)}`));
    expect(documentedEntryPoints().sort()).toEqual(exported.sort());
  });

  test('every entry point imports in a fresh project, and a strict TypeScript project sees its types', async () => {
    expect(typeCheck).toBe('');
    const script = join(project, 'import-all.mjs');
    const entries = documentedEntryPoints();
    writeFileSync(script, `const out = {};\nfor (const e of ${JSON.stringify(entries)}) out[e] = Object.keys(await import(e)).sort();\nconsole.log(JSON.stringify(out));\n`);
    const r = await run(script, project);
    expect(r.stderr).toBe('');
    const names: Record<string, string[]> = JSON.parse(r.stdout);
    for (const e of entries) expect(names[e]!.length, e).toBeGreaterThan(0);
    // What a user reaches for, each from the entry point the docs name for it.
    expect(names['memwalk']).toEqual(expect.arrayContaining(['createEngine', 'x86_64', 'aarch64_4k', 'x86_pae', 'MemwalkError', 'BumpAllocator']));
    expect(names['memwalk/images']).toEqual(expect.arrayContaining(['openImage', 'formatInfoTlb', 'formatInfoMem', 'formatGva2gpa', 'infoTlbLines', 'infoMemLines']));
    expect(names['memwalk/xen']).toEqual(
      expect.arrayContaining(['dom0Layout', 'readKernelFile', 'pageTableCount', 'parseDom0Mem', 'relocateHypervisorTables', 'buildHypervisorTables', 'buildDom0', 'setupDirectMap', 'parseBootParams', 'm2pFixup']),
    );
    expect(names['memwalk/frames']).toEqual(expect.arrayContaining(['FrameTable', 'PageList', 'Domains', 'audit']));
    expect(names['memwalk/compare']).toEqual(expect.arrayContaining(['compareBackends']));
    expect(names['memwalk/parallel']).toEqual(expect.arrayContaining(['createScanPool']));
    expect(names['memwalk/perf']).toEqual(expect.arrayContaining(['checksumOf', 'runWorkloads']));
    // The top level stays the engine, the formats and the errors.
    expect(names['memwalk']).not.toEqual(expect.arrayContaining(['dom0Layout']));
    expect(names['memwalk']).not.toEqual(expect.arrayContaining(['openImage']));
    expect(names['memwalk']!.length).toBeLessThan(40);
  });

  test('files inside the package are not an entry point', async () => {
    const script = join(project, 'deep-import.mjs');
    writeFileSync(script, "await import('memwalk/dist/src/images/loader.js');\n");
    expect((await run(script, project)).stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  test('the bin runs from node_modules/.bin', async () => {
    const r = await exec(join(modules, '.bin', 'memwalk'), ['--help'], project);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: memwalk/);
  });

  test('the bin is self-contained: a copy of the package with none of its dependencies walks a table, knows its version, and fails in one line', async () => {
    const alone = join(work, 'alone', 'node_modules', 'memwalk');
    cpSync(join(modules, 'memwalk'), alone, { recursive: true });
    const pkg = JSON.parse(readFileSync(join(alone, 'package.json'), 'utf8'));
    const bin = join(alone, pkg.bin.memwalk);
    // x86-64 tables by hand: PML4 at 0x1000 -> PDPT at 0x2000 -> PD at 0x3000, whose entry 2
    // maps the 2 MiB page at 0x200000 (present, writable, large), so 0x400123 is 0x200123.
    const image = Buffer.alloc(0x4000);
    image.writeBigUInt64LE(0x2003n, 0x1000);
    image.writeBigUInt64LE(0x3003n, 0x2000);
    image.writeBigUInt64LE(0x200083n, 0x3000 + 2 * 8);
    writeFileSync(join(work, 'alone', 'tables.raw'), image);
    const t = await exec(process.execPath, [bin, 'translate', '-f', 'tables.raw', '--cr3', '0x1000', '0x400123'], join(work, 'alone'));
    expect([t.code, t.stdout, t.stderr]).toEqual([0, '0000000000400123 -> 0000000000200123   2M wx supervisor\n', '']);
    const v = await exec(process.execPath, [bin, '--version'], join(work, 'alone'));
    expect([v.code, v.stdout]).toEqual([0, `${pkg.version}\n`]);
    const e = await exec(process.execPath, [bin, 'translate', '-f', 'missing.raw', '0x1000'], join(work, 'alone'));
    expect([e.code, e.stdout, e.stderr]).toEqual([1, '', "memwalk: --image: 'missing.raw': no such file\n"]);
  });
});

describe.each(docFiles())('%s as written', (doc) => {
  const mine = examples.filter((e) => e.doc === doc);
  const sessions = transcriptsOf(doc);
  // A page's blocks run in order, in one directory: a later block may use a file an earlier one wrote.
  test.runIf(mine.length + sessions.length > 0)('every example runs and prints what the page shows', async () => {
    expect(typeCheck).toBe('');
    const order = [...mine.map((e) => ({ line: e.line, e })), ...sessions.map((s) => ({ line: s.line, s }))].sort((a, b) => a.line - b.line);
    for (const item of order) {
      if ('e' in item) {
        const e = item.e!;
        const file = e.lang === 'ts' ? exampleFile(e).replace(/\.ts$/, '.js') : exampleFile(e);
        const r = await run(file, pageDir(doc));
        const where = `${doc}:${e.line}`;
        expect(r.stderr, where).toBe('');
        expect(r.code, where).toBe(0);
        if (e.prints !== undefined && !matchesShown(r.stdout, e.prints)) expect(r.stdout, where).toBe(e.prints);
      } else {
        const s = item.s!;
        const cwd = pageDir(doc);
        for (const step of s.steps) {
          // What a terminal shows: stdout and stderr together.
          const r = await exec('bash', ['-c', `{ ${step.command}\n} 2>&1`], cwd, { PATH: `${join(modules, '.bin')}:${process.env.PATH}` });
          const where = `${doc}:${s.line}: ${step.command}`;
          if (!matchesShown(r.stdout, step.output)) expect(r.stdout, where).toBe(step.output);
        }
      }
    }
  });
});
