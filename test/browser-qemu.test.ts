/**
 * The explorer on real QEMU dumps (opt-in: `npm run test:qemu` sets MEMWALK_QEMU_WORK
 * to the folder its captures are in, and MEMWALK_QEMU_ONLY to one scenario). Each
 * dump is picked in the page; the listing it offers must equal the CLI's and QEMU's
 * own `info tlb` of vCPU 0, byte for byte. The time to the first picture and the
 * bytes read are printed, not judged.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { downloadListing, haveChromium, launchExplorer, openInPage, type Explorer } from './helpers/explorer-page.js';

const work = process.env.MEMWALK_QEMU_WORK;
const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
/** [dump, the QEMU capture of vCPU 0's `info tlb`]. */
const DUMPS: [string, string][] = [
  ['4level/dump.elf', '4level/info-tlb.txt'],
  ['la57/dump.elf', 'la57/info-tlb.txt'],
  ['large/dump.elf', 'large/cpu0/info-tlb.txt'],
  ['large/dump-zlib.flat', 'large/cpu0/info-tlb.txt'],
  ['large/dump-zlib.kdump', 'large/cpu0/info-tlb.txt'],
  ['huge/dump.elf', 'huge/cpu0/info-tlb.txt'],
  ['huge/dump-zlib.flat', 'huge/cpu0/info-tlb.txt'],
  ['huge/dump-zlib.kdump', 'huge/cpu0/info-tlb.txt'],
];
/** run.sh runs this file once per scenario, naming it. */
const only = process.env.MEMWALK_QEMU_ONLY;
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const present = work ? DUMPS.filter(([d, capture]) => (!only || d.startsWith(`${only}/`)) && existsSync(join(work, d)) && existsSync(join(work, capture))) : [];

describe.skipIf(present.length === 0 || !haveChromium)('the explorer on real QEMU dumps', () => {
  let x: Explorer;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    x = await launchExplorer();
  });
  afterAll(async () => {
    await x?.close();
  });

  test.each(present)('%s', async (dump, capture) => {
    const path = join(work!, dump);
    const ms = await openInPage(x, path, 120_000);
    console.log(`browser: ${dump} (${statSync(path).size} bytes): first picture ${ms} ms after the pick; ${await x.page.textContent('#status')}`);
    await x.page.screenshot({ path: join(ARTIFACTS, `qemu-${dump.replace(/\W+/g, '-')}.png`), fullPage: true });
    // Zoom onto the last mapped region of the kernel half (its text and modules) and walk its first page.
    const last = x.page.locator('#regions li a').last();
    const start = (await last.textContent())!.split(' ')[0]!;
    await last.click();
    await x.page.fill('#goto', start);
    await x.page.press('#goto', 'Enter');
    await x.page.waitForSelector(`body[data-inspected="${start}"]`);
    await x.page.locator('#regions li a').last().click();
    expect(await x.page.textContent('#walk')).toMatch(/^[0-9a-f]{16} -> [0-9a-f]{16} /);
    await x.page.screenshot({ path: join(ARTIFACTS, `qemu-${dump.replace(/\W+/g, '-')}-walk.png`), clip: { x: 0, y: 0, width: 1100, height: 900 } });
    const listing = await downloadListing(x);
    // Listings of real guests are megabytes: more than the CLI helper buffers.
    const cli = spawnSync(process.execPath, [BIN, 'mappings', '-f', path, '--format', 'qemu-tlb', '--limit', '0'], { maxBuffer: 1 << 30 });
    expect(cli.status).toBe(0);
    expect(listing.equals(cli.stdout)).toBe(true);
    expect(listing.toString('utf8')).toBe(readFileSync(join(work!, capture), 'utf8'));
  }, 300_000);
});
