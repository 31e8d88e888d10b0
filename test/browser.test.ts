/**
 * The explorer page in a real browser: Debian's Chromium, driven by playwright-core.
 * The test makes QEMU ELF cores itself, opens them in the page (from file://, as a
 * user opening the built folder would), and checks what the page shows against the
 * CLI and against the bytes it wrote. Screenshots go to test/artifacts/ (not in git).
 * Without /usr/bin/chromium the tests are skipped, except under CI=true, where they
 * fail: .ci/run installs Chromium.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, BumpAllocator } from '../src/index.js';
import { writeElfCore } from '../src/perf/dump-writers/elf.js';
import { qemuNotes } from '../src/perf/dump-writers/notes.js';
import { tempDir } from '../src/perf/dump-writers/sparse.js';
import { memwalk } from './helpers/cli.js';
import { browserTestsRun, downloadListing, launchExplorer, openInPage as pick, type Explorer } from './helpers/explorer-page.js';

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const K4 = 4096n, M2 = 1n << 21n, G = 1n << 30n;
const KTEXT = 0xffffffff81000000n;
const DIRECT = 0xffff888000000000n;
const VMALLOC = 0xffffc90000000000n;
/** The page the test clicks on, its frame, and the text the frame starts with. */
const PAGE_PA = 0x300000n;
const MARKER = 'memwalk in a browser!';
const PROCESS_ROOT = 0x100000n;

const tmp = tempDir();
let x: Explorer;
const BUILD = fileURLToPath(new URL('../build/', import.meta.url));

/** A QEMU ELF core of a machine with `ramBytes` of RAM, of which the first 8 MiB hold tables and data. */
function makeCore(name: string, ramBytes: number, extra: (e: ReturnType<typeof createEngine>, alloc: BumpAllocator, root: bigint) => void = () => {}) {
  const e = createEngine({ ramBytes: '8M', ioBytes: 1 << 20 });
  const alloc = new BumpAllocator(2, 1024); // frame 1 is the root; data frames from 0x200000 on
  const root = 0x1000n;
  e.map(root, 0x400000n, 0x200000n, 4n * K4, { user: true }, alloc);
  e.map(root, 0x600000n, 0x240000n, 2n * K4, { user: true, write: true, execute: false }, alloc);
  e.map(root, KTEXT, 0x400000n, 2n * M2, {}, alloc, { largestLeaf: 2 ** 21 });
  e.map(root, DIRECT, 0n, G, { write: true, execute: false }, alloc);
  e.map(root, VMALLOC, PAGE_PA, K4, { write: true, execute: false }, alloc);
  extra(e, alloc, root);
  e.phys.write(PAGE_PA, new TextEncoder().encode(MARKER));
  const data = e.phys.read(0, 8 * 2 ** 20);
  const vcpus = [{ cr0: 0x80050033n, cr3: root, cr4: 0x6f0n }];
  const L = writeElfCore({ notes: qemuNotes(vcpus), segments: [{ pa: 0, fileBytes: ramBytes, data }] });
  return L.file.writeTo(tmp.path(name));
}

const openInPage = (path: string) => pick(x, path);

describe.skipIf(!browserTestsRun())('the explorer in Chromium', () => {
  let small: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    small = makeCore('small.elf', 8 * 2 ** 20, (e, alloc, root) => {
      // A second process: its own top table with the same kernel half, one user page of its own.
      for (let i = 256n; i < 512n; i++) e.phys.write64(PROCESS_ROOT + i * 8n, e.phys.read64(root + i * 8n));
      e.map(PROCESS_ROOT, 0x7f0000000000n, 0x2d0000n, K4, { user: true, write: true }, alloc);
    });
    x = await launchExplorer();
  });

  afterAll(async () => {
    await x?.close();
    tmp.cleanup();
  });

  test('the description names the format, the ranges and the vCPU', async () => {
    await openInPage(small);
    const text = await x.page.textContent('#description');
    expect(text).toContain('format: qemu-elf');
    expect(text).toContain('0000000000000000-0000000000800000');
    expect(text).toContain('vCPU 0: 4-level paging, CR3 0x1000');
    await x.page.screenshot({ path: join(ARTIFACTS, 'explorer-small.png'), fullPage: true });
  });

  test('the listing it offers is the CLI\'s `mappings --format qemu-tlb`, byte for byte', async () => {
    const cli = memwalk('mappings', '-f', small, '--format', 'qemu-tlb');
    expect(cli.code).toBe(0);
    // One line per leaf, in address order: the leaves makeCore mapped.
    const vas = ['400000', '401000', '402000', '403000', '600000', '601000', 'ffff888000000000', 'ffffc90000000000', 'ffffffff81000000', 'ffffffff81200000'];
    expect(cli.stdout.trimEnd().split('\n').map((l) => l.split(':')[0])).toEqual(vas.map((v) => v.padStart(16, '0')));
    const got = await downloadListing(x);
    expect(got.equals(Buffer.from(cli.stdout))).toBe(true);
  });

  test('a click on a mapped page shows its walk, its bytes and its other mapping', async () => {
    const va = VMALLOC + 0x800n;
    await x.page.evaluate((v) => (window as any).memwalkExplorer.zoomTo(v, 16 * 4096), '0x' + va.toString(16));
    const at = await x.page.evaluate((v) => (window as any).memwalkExplorer.pointOf(v), '0x' + va.toString(16));
    expect(at).toBeDefined();
    await x.page.mouse.click(at.x, at.y);
    await x.page.waitForSelector(`body[data-inspected="0x${VMALLOC.toString(16)}"]`);
    const walk = (await x.page.textContent('#walk'))!.split('\n');
    // The first line is the CLI's `translate` line for the page's address.
    const cli = memwalk('translate', '-f', small, '0x' + VMALLOC.toString(16));
    expect(walk[0]).toBe(cli.stdout.trimEnd());
    expect(walk[0]).toBe(`${VMALLOC.toString(16)} -> ${PAGE_PA.toString(16).padStart(16, '0')}   4K w- supervisor`);
    // Then the four entries read, from the root at 0x1000: PML4 index 402 for 0xffffc9..., down to the leaf.
    expect(walk.slice(1).map((l) => l.replace(/ at .*= 0x[0-9a-f]+/, ''))).toEqual(['PML4[402] table', 'PDPT[0] table', 'PD[0] table', 'PT[0] leaf']);
    expect(walk[1]).toMatch(/^PML4\[402\] at 0x1c90 = /);
    expect(walk[4]).toMatch(/= 0x8000000000300003 leaf$/);
    const dump = (await x.page.textContent('#hexdump'))!.split('\n');
    // "memwalk in a browser!" in xxd's layout, at the page's virtual address.
    expect(dump[1]).toBe('ffffc90000000000: 6d65 6d77 616c 6b20 696e 2061 2062 726f  memwalk in a bro');
    expect(dump[2]).toBe('ffffc90000000010: 7773 6572 2100 0000 0000 0000 0000 0000  wser!...........');
    expect(dump.length).toBe(1 + 256);
    // Who else maps the frame: the direct map, at its base plus the physical address.
    const reverse = await x.page.textContent('#reverse');
    expect(reverse).toContain(`${(DIRECT + PAGE_PA).toString(16)}   1G w- supervisor under 0x1000`);
    expect(reverse).toContain(`${VMALLOC.toString(16)}   4K w- supervisor under 0x1000`);
    await x.page.screenshot({ path: join(ARTIFACTS, 'explorer-walk.png') });
  });

  test('other address spaces: found, listed, mapped, and their listing is the CLI\'s', async () => {
    await x.page.click('#discover');
    await x.page.waitForFunction(() => /address spaces found/.test(document.getElementById('status')!.textContent!));
    const options = await x.page.$$eval('#space option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual(['0x1000', '0x100000']);
    const mapped = Number(await x.page.getAttribute('body', 'data-mapped'));
    await x.page.selectOption('#space', '0x100000');
    await x.page.waitForSelector(`body[data-mapped="${mapped + 1}"]`);
    expect(await x.page.textContent('#regions')).toContain('0x7f0000000000 .. 0x7f0000001000: 4 KiB mapped');
    const cli = memwalk('mappings', '-f', small, '--cr3', '0x100000', '--format', 'qemu-tlb');
    expect(cli.stdout.split('\n')[0]).toMatch(/^00007f0000000000: 00000000002d0000 /);
    expect((await downloadListing(x)).equals(Buffer.from(cli.stdout))).toBe(true);
  });

  test('a raw image: no vCPU, so the page asks for a CR3, then maps it', async () => {
    // The small core's RAM as a raw image: file offset = physical address.
    const raw = tmp.path('small.raw');
    writeFileSync(raw, readFileSync(small).subarray(statSync(small).size - 8 * 2 ** 20));
    await x.page.goto(x.url);
    await x.page.setInputFiles('#file', raw);
    await x.page.waitForFunction(() => /records no vCPU state; give a CR3/.test(document.getElementById('status')!.textContent!));
    expect(await x.page.textContent('#description')).toContain('format: raw');
    await x.page.fill('#cr3', '0x1000');
    await x.page.press('#cr3', 'Enter');
    await x.page.waitForSelector('body[data-mapped]');
    const cli = memwalk('mappings', '-f', raw, '--cr3', '0x1000', '--format', 'qemu-tlb');
    expect(cli.stdout).toBe(memwalk('mappings', '-f', small, '--format', 'qemu-tlb').stdout);
    expect((await downloadListing(x)).equals(Buffer.from(cli.stdout))).toBe(true);
  });

  test('the library bundle: kernels inlined or fetched, a dump in memory on the main thread, a File in a module worker', async () => {
    // A made-up origin served from disk, so module scripts and fetch() behave as on a host.
    const files: Record<string, [string, string]> = {
      '/memwalk.js': [x.library, 'text/javascript'],
      '/small.elf': [small, 'application/octet-stream'],
      '/kernels/paging.wasm': [join(BUILD, 'paging.wasm'), 'application/wasm'],
      '/kernels/frames.wasm': [join(BUILD, 'frames.wasm'), 'application/wasm'],
      '/kernels/search.wasm': [join(BUILD, 'search.wasm'), 'application/wasm'],
    };
    await x.page.route('http://memwalk.test/**', (r) => {
      const path = new URL(r.request().url()).pathname;
      const f = files[path];
      if (path === '/') return r.fulfill({ body: '<!doctype html><title>library</title>', contentType: 'text/html' });
      return f ? r.fulfill({ body: readFileSync(f[0]), contentType: f[1] }) : r.fulfill({ status: 404 });
    });
    await x.page.goto('http://memwalk.test/');
    // A string, not a function: the test runner would rewrite a function's import().
    const got = (await x.page.evaluate(`(async () => {
      const m = await import('/memwalk.js');
      await m.loadKernels('http://memwalk.test/kernels/');
      const bytes = new Uint8Array(await (await fetch('/small.elf')).arrayBuffer());
      const dump = m.openDumpBytes(m.bufferSource(bytes, 'small.elf'));
      const t = dump.engine.translate(dump.vcpus[0].cr3, ${VMALLOC + 0x10n}n);
      const worker = new Worker(URL.createObjectURL(new Blob([\`
        import { loadKernels, fileSource, openDumpBytes, infoTlbLines } from 'http://memwalk.test/memwalk.js';
        const ready = loadKernels();
        self.onmessage = async ({ data: file }) => {
          await ready;
          const dump = openDumpBytes(fileSource(file));
          const lines = infoTlbLines(dump.engine.mappingsIter(dump.vcpus[0].cr3, { ignoreReserved: true, maxPhyAddr: 50 }), false);
          self.postMessage([...lines].map((l) => l + '\\\\n').join(''));
        };\`], { type: 'text/javascript' })), { type: 'module' });
      const listing = await new Promise((resolve) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.postMessage(new File([bytes], 'small.elf'));
      });
      return { pa: t.ok ? t.pa.toString(16) : 'fault', listing };
    })()`)) as { pa: string; listing: string };
    expect(got.pa).toBe((PAGE_PA + 0x10n).toString(16));
    expect(got.listing).toBe(memwalk('mappings', '-f', small, '--format', 'qemu-tlb').stdout);
    await x.page.unroute('http://memwalk.test/**');
  });

  test('a 12 GiB dump: the first picture, and how much of the file was read (reported, not asserted)', async () => {
    const ram = 12 * 2 ** 30;
    const big = makeCore('big.elf', ram, (e, alloc, root) => {
      // Most of a kernel's picture: a direct map of all of RAM in 2M pages beyond the first gigabyte.
      e.map(root, DIRECT + G, G, BigInt(ram) - G, { write: true, execute: false }, alloc, { largestLeaf: 2 ** 21 });
      // And a process: a program, its heap, a library, a stack.
      e.map(root, 0x555555554000n, 0x280000n, 16n * K4, { user: true }, alloc);
      e.map(root, 0x555555600000n, 0x290000n, 64n * K4, { user: true, write: true, execute: false }, alloc);
      e.map(root, 0x7ffff7a00000n, 0x400000n, M2, { user: true }, alloc);
      e.map(root, 0x7ffffffde000n, 0x2c0000n, 32n * K4, { user: true, write: true, execute: false }, alloc);
    });
    expect(statSync(big).size).toBeGreaterThan(ram);
    const ms = await openInPage(big);
    const status = await x.page.textContent('#status');
    console.log(`browser: 12 GiB QEMU ELF core: first picture ${ms} ms after the pick; ${status}`);
    expect(status).toMatch(/^\d+ leaves in \d+ runs; \d+ bytes of the file read/);
    // The regions list, by hand: program and heap 80 pages; library 2 MiB and stack 32 pages (closer than a pixel).
    const regions = await x.page.textContent('#regions');
    expect(regions).toContain('0x555555554000 .. 0x555555640000: 320 KiB mapped');
    expect(regions).toContain('0x7ffff7a00000 .. 0x7fffffffe000: 2.1 MiB mapped');
    expect(regions).toContain('0xffff888000000000 .. 0xffff888300000000: 12 GiB mapped');
    const read = Number(/; (\d+) bytes of the file read/.exec(status!)![1]);
    expect(read).toBeLessThan(64 * 2 ** 20); // headers and tables, never the whole file
    await x.page.screenshot({ path: join(ARTIFACTS, 'explorer-12g.png'), fullPage: true });
    // The README's picture: the kernel half zoomed onto its direct map, a page of it walked.
    await x.page.evaluate((v) => (window as any).memwalkExplorer.zoomTo(v, 2 ** 36), '0x' + (DIRECT + 2n ** 35n - 2n ** 33n).toString(16));
    await x.page.fill('#goto', '0x' + (DIRECT + PAGE_PA).toString(16));
    await x.page.press('#goto', 'Enter');
    await x.page.waitForSelector(`body[data-inspected="0x${(DIRECT + PAGE_PA).toString(16)}"]`);
    await x.page.evaluate((v) => (window as any).memwalkExplorer.zoomTo(v, 2 ** 36), '0x' + (DIRECT + 2n ** 35n - 2n ** 33n).toString(16));
    await x.page.screenshot({ path: join(ARTIFACTS, 'explorer-readme.png'), clip: { x: 0, y: 0, width: 1100, height: 900 } });
  });
});
