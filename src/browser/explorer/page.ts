// The explorer page: a file picker, the dump's description, the map of one address
// space (space-map.ts) with its mapped regions listed, and on a click the walk, the
// page's bytes and the other mappings of its frame. All dump work happens in the
// worker (protocol.ts).
import { SpaceMap } from './space-map.js';
import type { Description, Paging, Reply, Request, Run } from './protocol.js';

declare const EXPLORER_WORKER_SOURCE: string;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const hex = (v: bigint) => '0x' + v.toString(16);

const worker = new Worker(URL.createObjectURL(new Blob([EXPLORER_WORKER_SOURCE], { type: 'text/javascript' })));
const send = (q: Request) => worker.postMessage(q);

const state = {
  description: undefined as Description | undefined,
  spaceId: 0,
  root: 0n,
  paging: '4' as Paging,
  roots: [] as bigint[],
  picked: 0,
  firstPictureMs: undefined as number | undefined,
  listing: [] as string[],
};

const map = new SpaceMap($<HTMLCanvasElement>('map'), inspect);

function status(text: string, done?: number, total?: number): void {
  $('status').textContent = text;
  const bar = $<HTMLProgressElement>('progress');
  bar.hidden = done === undefined;
  if (done !== undefined) {
    if (total) bar.value = done / total;
    else bar.removeAttribute('value');
  }
}

function inspect(va: bigint): void {
  map.mark(va);
  $('walk').textContent = `walking ${hex(va)} ...`;
  send({ type: 'inspect', va, roots: state.roots, root: state.root, paging: state.paging });
}

function showSpace(): void {
  state.spaceId++;
  map.setHalves([]);
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

function onRuns(runs: readonly Run[], mappings: number, done: boolean, bytesRead: number): void {
  map.addRuns(runs);
  if (state.firstPictureMs === undefined && runs.length > 0) {
    state.firstPictureMs = performance.now() - state.picked;
    document.body.dataset.firstPictureMs = state.firstPictureMs.toFixed(0);
  }
  const text = `${mappings} leaves in ${map.runCount} runs${done ? '' : ' so far'}; ${bytesRead} bytes of the file read` +
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

/** The mapped regions under the map, each a link that zooms onto it. */
function showRegions(): void {
  const list = $('regions');
  list.textContent = '';
  const regions = map.regions();
  for (const view of map.views) {
    const mine = regions.filter((r) => r.view === view);
    for (const r of mine.slice(0, 40)) {
      const a = document.createElement('a');
      a.href = '#';
      a.textContent = `${hex(view.half.start + BigInt(r.from))} .. ${hex(view.half.start + BigInt(r.to))}: ${sizeText(r.bytes)} mapped`;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        map.zoomOnto(r);
      });
      const li = document.createElement('li');
      li.append(a);
      list.append(li);
    }
    if (mine.length > 40) list.append(Object.assign(document.createElement('li'), { textContent: `... ${mine.length - 40} more in ${view.half.name}` }));
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
      if (r.id === state.spaceId) map.setHalves(r.halves);
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
$('reset').addEventListener('click', () => map.reset());
$<HTMLInputElement>('goto').addEventListener('change', (e) => {
  const text = (e.target as HTMLInputElement).value.trim();
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return status(`address: ${text} is not a number`);
  const va = BigInt(text);
  map.zoomTo(va, 2 ** 21);
  inspect(va);
});

/** For tests and the curious: where an address is drawn, and zooming by address. */
(window as unknown as { memwalkExplorer: object }).memwalkExplorer = {
  pointOf: (vaText: string) => map.pointOf(BigInt(vaText)),
  zoomTo: (vaText: string, width: number) => map.zoomTo(BigInt(vaText), width),
};
