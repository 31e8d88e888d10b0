// The explorer page: a file picker, the dump's description, a zoomable map of one
// address space (both canonical halves, leaves coloured by page size, rights as
// strips, gaps left blank), and on a click the walk, the page's bytes and the other
// mappings of its frame. All dump work happens in the worker (protocol.ts).
import { RIGHT_EXECUTE, RIGHT_USER, RIGHT_WRITE, type Description, type Half, type Paging, type Reply, type Request, type Run } from './protocol.js';

declare const EXPLORER_WORKER_SOURCE: string;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const hex = (v: bigint) => '0x' + v.toString(16);

const worker = new Worker(URL.createObjectURL(new Blob([EXPLORER_WORKER_SOURCE], { type: 'text/javascript' })));
const send = (q: Request) => worker.postMessage(q);

const SIZE_COLOURS: Record<number, string> = { 4096: '#3b7dd8', [2 ** 21]: '#2e9e5b', [2 ** 30]: '#e08a1e' };
const STRIPS = [
  { bit: RIGHT_WRITE, colour: '#c0392b' },
  { bit: RIGHT_USER, colour: '#8e44ad' },
  { bit: RIGHT_EXECUTE, colour: '#16a085' },
];
/** The narrowest window: 16 pages across the canvas, so single pages are wide enough to click. */
const MIN_WINDOW = 16 * 4096;
const BAND = { label: 14, bar: 44, strip: 7, gap: 28 };
const bandHeight = BAND.label + BAND.bar + STRIPS.length * (BAND.strip + 1) + BAND.gap;

/** A run with its place in its half as numbers (offsets below 2^57 keep page precision in a double). */
interface Placed {
  readonly from: number;
  readonly to: number;
  readonly size: number;
  readonly rights: number;
}

interface HalfView {
  readonly half: Half;
  readonly bytes: number;
  readonly runs: Placed[];
  /** The visible window [at, at + width) of offsets into the half. */
  at: number;
  width: number;
}

const state = {
  description: undefined as Description | undefined,
  spaceId: 0,
  root: 0n,
  paging: '4' as Paging,
  roots: [] as bigint[],
  views: [] as HalfView[],
  mappings: 0,
  picked: 0,
  firstPictureMs: undefined as number | undefined,
  listing: [] as string[],
  /** The address last walked, marked on the map. */
  inspected: undefined as bigint | undefined,
};

const canvas = $<HTMLCanvasElement>('map');
const ctx = canvas.getContext('2d')!;

function status(text: string, done?: number, total?: number): void {
  $('status').textContent = text;
  const bar = $<HTMLProgressElement>('progress');
  bar.hidden = done === undefined;
  if (done !== undefined) {
    if (total) bar.value = done / total;
    else bar.removeAttribute('value');
  }
}

function resize(): void {
  const dpr = window.devicePixelRatio || 1;
  const h = Math.max(1, state.views.length) * bandHeight;
  canvas.style.height = `${h}px`;
  canvas.width = Math.round(canvas.clientWidth * dpr);
  canvas.height = Math.round(h * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}

/** Index of the first run ending after `at`. */
function firstAfter(runs: readonly Placed[], at: number): number {
  let lo = 0, hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (runs[mid]!.to <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function draw(): void {
  const w = canvas.clientWidth;
  ctx.clearRect(0, 0, w, canvas.height);
  ctx.font = '12px ui-monospace, monospace';
  state.views.forEach((v, i) => {
    const top = i * bandHeight;
    const end = v.at + v.width;
    ctx.fillStyle = '#222';
    const from = v.half.start + BigInt(Math.floor(v.at));
    const to = v.half.start + BigInt(Math.floor(end)) - 1n;
    ctx.fillText(`${v.half.name}: ${hex(from)} .. ${hex(to)}`, 2, top + 11);
    const barTop = top + BAND.label;
    ctx.fillStyle = '#fafafa';
    ctx.fillRect(0, barTop, w, BAND.bar);
    const scale = w / v.width;
    // Draw every run at least a pixel wide; skip runs that fall on a pixel already painted the same.
    let lastX = -1, lastColour = '';
    const lastStrip = STRIPS.map(() => -1);
    for (let k = firstAfter(v.runs, v.at); k < v.runs.length && v.runs[k]!.from < end; k++) {
      const r = v.runs[k]!;
      const x0 = Math.min(w - 1, Math.max(0, (r.from - v.at) * scale));
      const x1 = Math.min(w, Math.max(x0 + 1, (r.to - v.at) * scale));
      const colour = SIZE_COLOURS[r.size] ?? '#888';
      if (!(Math.floor(x1) <= lastX && colour === lastColour)) {
        ctx.fillStyle = colour;
        ctx.fillRect(x0, barTop, x1 - x0, BAND.bar);
        lastX = Math.floor(x1);
        lastColour = colour;
      }
      STRIPS.forEach((s, j) => {
        if (!(r.rights & s.bit) || Math.floor(x1) <= lastStrip[j]!) return;
        ctx.fillStyle = s.colour;
        ctx.fillRect(x0, barTop + BAND.bar + 1 + j * (BAND.strip + 1), x1 - x0, BAND.strip);
        lastStrip[j] = Math.floor(x1);
      });
    }
    const mark = state.inspected;
    if (mark !== undefined && mark >= v.half.start && mark < v.half.start + v.half.bytes) {
      const x = (Number(mark - v.half.start) - v.at) * scale;
      if (x >= 0 && x < w) {
        ctx.fillStyle = '#000';
        ctx.fillRect(Math.floor(x), barTop - 3, 2, BAND.bar + 6);
      }
    }
  });
}

/** The half and the offset in it under a point of the canvas, if any. */
function hit(clientX: number, clientY: number): { view: HalfView; offset: number } | undefined {
  const box = canvas.getBoundingClientRect();
  const i = Math.floor((clientY - box.top) / bandHeight);
  const view = state.views[i];
  if (!view) return undefined;
  return { view, offset: view.at + ((clientX - box.left) / box.width) * view.width };
}

function clampView(v: HalfView): void {
  v.width = Math.min(v.bytes, Math.max(MIN_WINDOW, v.width));
  v.at = Math.min(v.bytes - v.width, Math.max(0, v.at));
}

canvas.addEventListener('wheel', (e) => {
  const h = hit(e.clientX, e.clientY);
  if (!h) return;
  e.preventDefault();
  const factor = e.deltaY > 0 ? 1.5 : 1 / 1.5;
  const v = h.view;
  const frac = (h.offset - v.at) / v.width;
  v.width *= factor;
  v.at = h.offset - frac * v.width;
  clampView(v);
  draw();
});

let drag: { x: number; view: HalfView; at: number; moved: boolean } | undefined;
canvas.addEventListener('mousedown', (e) => {
  const h = hit(e.clientX, e.clientY);
  if (h) drag = { x: e.clientX, view: h.view, at: h.view.at, moved: false };
});
window.addEventListener('mousemove', (e) => {
  if (!drag) return;
  const dx = e.clientX - drag.x;
  if (Math.abs(dx) > 3) drag.moved = true;
  if (!drag.moved) return;
  drag.view.at = drag.at - (dx / canvas.clientWidth) * drag.view.width;
  clampView(drag.view);
  draw();
});
window.addEventListener('mouseup', (e) => {
  const d = drag;
  drag = undefined;
  if (!d || d.moved) return;
  const h = hit(e.clientX, e.clientY);
  if (h) inspect((h.view.half.start + BigInt(Math.floor(h.offset))) & ~0xfffn);
});

function inspect(va: bigint): void {
  state.inspected = va;
  draw();
  $('walk').textContent = `walking ${hex(va)} ...`;
  send({ type: 'inspect', va, roots: state.roots, root: state.root, paging: state.paging });
}

function showSpace(): void {
  state.spaceId++;
  state.views = [];
  state.mappings = 0;
  send({ type: 'space', id: state.spaceId, root: state.root, paging: state.paging });
  status(`mapping the address space of ${hex(state.root)} ...`, 0, 0);
}

function addRootOption(root: bigint, label: string): void {
  const select = $<HTMLSelectElement>('space');
  if ([...select.options].some((o) => o.value === hex(root))) return;
  select.add(new Option(label, hex(root)));
  if (!state.roots.includes(root)) state.roots.push(root);
}

function onOpened(d: Description, bytesRead: number): void {
  state.description = d;
  $('description').textContent = d.lines.join('\n');
  $('description').hidden = false;
  $('explore').hidden = false;
  const select = $<HTMLSelectElement>('space');
  select.length = 0;
  state.roots = [];
  for (const v of d.vcpus) if (v.root !== null && v.paging) addRootOption(v.root, `vCPU ${v.index}: CR3 ${hex(v.root)} (${v.mode})`);
  const first = d.vcpus.find((v) => v.root !== null && v.paging);
  status(`opened ${d.name}: read ${bytesRead} bytes of ${d.fileSize}`);
  if (!first) {
    status(`opened ${d.name}: it records no vCPU state; give a CR3 and the paging mode`);
    return;
  }
  state.root = first.root!;
  state.paging = first.paging!;
  $<HTMLSelectElement>('paging').value = state.paging;
  showSpace();
}

function onHalves(halves: readonly Half[]): void {
  state.views = halves.map((half) => ({ half, bytes: Number(half.bytes), runs: [], at: 0, width: Number(half.bytes) }));
  resize();
  draw();
}

function onRuns(runs: readonly Run[], mappings: number, done: boolean, bytesRead: number): void {
  for (const [start, end, size, rights] of runs) {
    const v = state.views.find((x) => start >= x.half.start && start < x.half.start + x.half.bytes);
    if (v) v.runs.push({ from: Number(start - v.half.start), to: Number(end - v.half.start), size, rights });
  }
  state.mappings = mappings;
  draw();
  if (state.firstPictureMs === undefined && runs.length > 0) {
    state.firstPictureMs = performance.now() - state.picked;
    document.body.dataset.firstPictureMs = state.firstPictureMs.toFixed(0);
  }
  const n = state.views.reduce((s, v) => s + v.runs.length, 0);
  const text = `${mappings} leaves in ${n} runs${done ? '' : ' so far'}; ${bytesRead} bytes of the file read` +
    (state.firstPictureMs === undefined ? '' : `; first picture ${state.firstPictureMs.toFixed(0)} ms after the pick`);
  status(text, done ? undefined : 0, 0);
  if (done) {
    showRegions();
    document.body.dataset.mapped = String(state.spaceId);
  }
}

const sizeText = (n: number) => {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) [n, i] = [n / 1024, i + 1];
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[i]}`;
};

/**
 * The mapped regions of each half, runs closer than a pixel of the whole-half view
 * taken as one, each a link that zooms the map onto it: at 2^47 bytes a
 * window, a region is a pixel wide, and this list is how to find it.
 */
function showRegions(): void {
  const list = $('regions');
  list.textContent = '';
  for (const v of state.views) {
    const near = v.bytes / 4096;
    const regions: { from: number; to: number; bytes: number }[] = [];
    for (const r of v.runs) {
      const last = regions[regions.length - 1];
      if (last && r.from - last.to < near) [last.to, last.bytes] = [r.to, last.bytes + (r.to - r.from)];
      else regions.push({ from: r.from, to: r.to, bytes: r.to - r.from });
    }
    for (const g of regions.slice(0, 40)) {
      const a = document.createElement('a');
      a.href = '#';
      const from = v.half.start + BigInt(g.from);
      a.textContent = `${hex(from)} .. ${hex(v.half.start + BigInt(g.to))}: ${sizeText(g.bytes)} mapped`;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        v.width = (g.to - g.from) * 1.1;
        v.at = g.from - (g.to - g.from) * 0.05;
        clampView(v);
        draw();
      });
      const li = document.createElement('li');
      li.append(a);
      list.append(li);
    }
    if (regions.length > 40) list.append(Object.assign(document.createElement('li'), { textContent: `... ${regions.length - 40} more in ${v.half.name}` }));
  }
}

worker.onmessage = (event: MessageEvent<Reply>) => {
  const r = event.data;
  switch (r.type) {
    case 'progress':
      return status(`${r.what} ...`, r.done, r.total);
    case 'opened':
      return onOpened(r.description, r.bytesRead);
    case 'halves':
      if (r.id === state.spaceId) onHalves(r.halves);
      return;
    case 'runs':
      if (r.id === state.spaceId) onRuns(r.runs, r.mappings, r.done, r.bytesRead);
      return;
    case 'inspected':
      $('walk').textContent = r.walk.join('\n');
      $('hexdump').textContent = r.hexdump.join('\n');
      $('reverse').textContent = r.reverse.join('\n');
      document.body.dataset.inspected = hex(r.va);
      return;
    case 'listing-part':
      state.listing.push(r.text);
      return;
    case 'listing-done': {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob(state.listing, { type: 'text/plain' }));
      a.download = `${state.description?.name ?? 'dump'}.${hex(state.root)}.info-tlb.txt`;
      state.listing = [];
      a.click();
      return status(`listing of ${r.lines} lines saved`);
    }
    case 'discovered':
      for (const s of r.spaces) addRootOption(s.root, s.label);
      return status(`${r.spaces.length} address spaces found`);
    case 'error':
      return status(`error: ${r.message}`);
  }
};

$<HTMLInputElement>('file').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  state.picked = performance.now();
  state.firstPictureMs = undefined;
  delete document.body.dataset.firstPictureMs;
  delete document.body.dataset.mapped;
  send({ type: 'open', file });
});
$<HTMLSelectElement>('space').addEventListener('change', (e) => {
  state.root = BigInt((e.target as HTMLSelectElement).value);
  showSpace();
});
$<HTMLSelectElement>('paging').addEventListener('change', (e) => {
  state.paging = (e.target as HTMLSelectElement).value as Paging;
  showSpace();
});
$<HTMLInputElement>('cr3').addEventListener('change', (e) => {
  const text = (e.target as HTMLInputElement).value.trim();
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return status(`CR3: ${text} is not a number`);
  state.root = BigInt(text);
  addRootOption(state.root, `CR3 ${hex(state.root)}`);
  $<HTMLSelectElement>('space').value = hex(state.root);
  showSpace();
});
$('discover').addEventListener('click', () => send({ type: 'discover', root: state.root, paging: state.paging }));
$('download').addEventListener('click', () => {
  state.listing = [];
  send({ type: 'listing', root: state.root, paging: state.paging });
});
$('reset').addEventListener('click', () => {
  for (const v of state.views) [v.at, v.width] = [0, v.bytes];
  draw();
});
$<HTMLInputElement>('goto').addEventListener('change', (e) => {
  const text = (e.target as HTMLInputElement).value.trim();
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return status(`address: ${text} is not a number`);
  const va = BigInt(text);
  const v = state.views.find((x) => va >= x.half.start && va < x.half.start + x.half.bytes);
  if (v) {
    v.width = 2 ** 21;
    v.at = Number(va - v.half.start) - v.width / 2;
    clampView(v);
    draw();
  }
  inspect(va);
});
window.addEventListener('resize', () => {
  resize();
  draw();
});

/** For tests and the curious: where an address is drawn, in client coordinates. */
(window as unknown as { memwalkExplorer: object }).memwalkExplorer = {
  pointOf(vaText: string): { x: number; y: number } | undefined {
    const va = BigInt(vaText);
    const i = state.views.findIndex((x) => va >= x.half.start && va < x.half.start + x.half.bytes);
    const v = state.views[i];
    if (!v) return undefined;
    const box = canvas.getBoundingClientRect();
    const frac = (Number(va - v.half.start) - v.at) / v.width;
    if (frac < 0 || frac >= 1) return undefined;
    return { x: box.left + frac * box.width, y: box.top + i * bandHeight + BAND.label + BAND.bar / 2 };
  },
  zoomTo(vaText: string, width: number): void {
    const va = BigInt(vaText);
    const v = state.views.find((x) => va >= x.half.start && va < x.half.start + x.half.bytes);
    if (!v) return;
    v.width = width;
    v.at = Number(va - v.half.start) - width / 2;
    clampView(v);
    draw();
  },
};
