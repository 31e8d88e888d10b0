// The map of one address space on a canvas: a band per canonical half, each leaf
// run coloured by page size with its rights as strips under it, blank where nothing
// is mapped. The wheel zooms around the pointer, a drag pans, a click picks a page.
import { RIGHT_EXECUTE, RIGHT_USER, RIGHT_WRITE, type Half, type Run } from './protocol.js';

const SIZE_COLOURS: Record<number, string> = { 4096: '#3b7dd8', [2 ** 21]: '#2e9e5b', [2 ** 30]: '#e08a1e' };
const STRIPS = [
  { bit: RIGHT_WRITE, colour: '#c0392b' },
  { bit: RIGHT_USER, colour: '#8e44ad' },
  { bit: RIGHT_EXECUTE, colour: '#16a085' },
];
/** The narrowest window: 16 pages across the canvas, so single pages are wide enough to click. */
const MIN_WINDOW = 16 * 4096;
const BAND = { label: 14, bar: 44, strip: 7, gap: 28 };
const BAND_HEIGHT = BAND.label + BAND.bar + STRIPS.length * (BAND.strip + 1) + BAND.gap;

const hex = (v: bigint) => '0x' + v.toString(16);

/** A run with its place in its half as numbers (offsets below 2^57 keep page precision in a double). */
interface Placed {
  readonly from: number;
  readonly to: number;
  readonly size: number;
  readonly rights: number;
}

export interface HalfView {
  readonly half: Half;
  readonly bytes: number;
  readonly runs: Placed[];
  /** The visible window [at, at + width) of offsets into the half. */
  at: number;
  width: number;
}

/** Mapped bytes of a half between two offsets, nearby runs taken together. */
export interface Region {
  readonly view: HalfView;
  readonly from: number;
  readonly to: number;
  readonly bytes: number;
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

export class SpaceMap {
  views: HalfView[] = [];
  /** The address last picked, marked on the map. */
  private marked: bigint | undefined;
  private readonly ctx: CanvasRenderingContext2D;
  private drag: { x: number; view: HalfView; at: number; moved: boolean } | undefined;

  constructor(private readonly canvas: HTMLCanvasElement, onPick: (va: bigint) => void) {
    this.ctx = canvas.getContext('2d')!;
    canvas.addEventListener('wheel', (e) => {
      const h = this.hit(e.clientX, e.clientY);
      if (!h) return;
      e.preventDefault();
      const v = h.view;
      const frac = (h.offset - v.at) / v.width;
      v.width *= e.deltaY > 0 ? 1.5 : 1 / 1.5;
      v.at = h.offset - frac * v.width;
      this.show(v);
    });
    canvas.addEventListener('mousedown', (e) => {
      const h = this.hit(e.clientX, e.clientY);
      if (h) this.drag = { x: e.clientX, view: h.view, at: h.view.at, moved: false };
    });
    window.addEventListener('mousemove', (e) => {
      const d = this.drag;
      if (!d) return;
      const dx = e.clientX - d.x;
      if (Math.abs(dx) > 3) d.moved = true;
      if (!d.moved) return;
      d.view.at = d.at - (dx / canvas.clientWidth) * d.view.width;
      this.show(d.view);
    });
    window.addEventListener('mouseup', (e) => {
      const d = this.drag;
      this.drag = undefined;
      if (!d || d.moved) return;
      const h = this.hit(e.clientX, e.clientY);
      if (h) onPick((h.view.half.start + BigInt(Math.floor(h.offset))) & ~0xfffn);
    });
    window.addEventListener('resize', () => this.resize());
  }

  /** Start over with these halves, nothing mapped yet. */
  setHalves(halves: readonly Half[]): void {
    this.views = halves.map((half) => ({ half, bytes: Number(half.bytes), runs: [], at: 0, width: Number(half.bytes) }));
    this.resize();
  }

  /** Runs as the worker sends them, in ascending order. */
  addRuns(runs: readonly Run[]): void {
    for (const [start, end, size, rights] of runs) {
      const v = this.viewOf(start);
      if (v) v.runs.push({ from: Number(start - v.half.start), to: Number(end - v.half.start), size, rights });
    }
    this.draw();
  }

  get runCount(): number {
    return this.views.reduce((s, v) => s + v.runs.length, 0);
  }

  mark(va: bigint): void {
    this.marked = va;
    this.draw();
  }

  /** Show `width` bytes around `va` in its half. */
  zoomTo(va: bigint, width: number): void {
    const v = this.viewOf(va);
    if (!v) return;
    v.width = width;
    v.at = Number(va - v.half.start) - width / 2;
    this.show(v);
  }

  /** Show a region with a little space either side. */
  zoomOnto(r: Region): void {
    r.view.width = (r.to - r.from) * 1.1;
    r.view.at = r.from - (r.to - r.from) * 0.05;
    this.show(r.view);
  }

  /** Every half whole again. */
  reset(): void {
    for (const v of this.views) [v.at, v.width] = [0, v.bytes];
    this.draw();
  }

  /**
   * The mapped regions of each half, runs closer than a pixel of the whole-half
   * view taken as one: at 2^47 bytes a window a region is a pixel wide, and a list
   * of them is how to find it.
   */
  regions(): Region[] {
    const out: Region[] = [];
    for (const view of this.views) {
      const near = view.bytes / 4096;
      let last: { view: HalfView; from: number; to: number; bytes: number } | undefined;
      for (const r of view.runs) {
        if (last && r.from - last.to < near) [last.to, last.bytes] = [r.to, last.bytes + (r.to - r.from)];
        else out.push((last = { view, from: r.from, to: r.to, bytes: r.to - r.from }));
      }
    }
    return out;
  }

  /** Where `va` is drawn, in client coordinates, if it is in view. */
  pointOf(va: bigint): { x: number; y: number } | undefined {
    const v = this.viewOf(va);
    if (!v) return undefined;
    const box = this.canvas.getBoundingClientRect();
    const frac = (Number(va - v.half.start) - v.at) / v.width;
    if (frac < 0 || frac >= 1) return undefined;
    return { x: box.left + frac * box.width, y: box.top + this.views.indexOf(v) * BAND_HEIGHT + BAND.label + BAND.bar / 2 };
  }

  private viewOf(va: bigint): HalfView | undefined {
    return this.views.find((x) => va >= x.half.start && va < x.half.start + x.half.bytes);
  }

  private show(v: HalfView): void {
    v.width = Math.min(v.bytes, Math.max(MIN_WINDOW, v.width));
    v.at = Math.min(v.bytes - v.width, Math.max(0, v.at));
    this.draw();
  }

  /** The half and the offset in it under a point of the canvas, if any. */
  private hit(clientX: number, clientY: number): { view: HalfView; offset: number } | undefined {
    const box = this.canvas.getBoundingClientRect();
    const view = this.views[Math.floor((clientY - box.top) / BAND_HEIGHT)];
    if (!view) return undefined;
    return { view, offset: view.at + ((clientX - box.left) / box.width) * view.width };
  }

  private resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const h = Math.max(1, this.views.length) * BAND_HEIGHT;
    this.canvas.style.height = `${h}px`;
    this.canvas.width = Math.round(this.canvas.clientWidth * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.draw();
  }

  private draw(): void {
    const ctx = this.ctx;
    const w = this.canvas.clientWidth;
    ctx.clearRect(0, 0, w, this.canvas.height);
    ctx.font = '12px ui-monospace, monospace';
    this.views.forEach((v, i) => {
      const top = i * BAND_HEIGHT;
      const end = v.at + v.width;
      ctx.fillStyle = '#222';
      const from = v.half.start + BigInt(Math.floor(v.at));
      const to = v.half.start + BigInt(Math.floor(end)) - 1n;
      ctx.fillText(`${v.half.name}: ${hex(from)} .. ${hex(to)}`, 2, top + 11);
      const barTop = top + BAND.label;
      ctx.fillStyle = '#fafafa';
      ctx.fillRect(0, barTop, w, BAND.bar);
      const scale = w / v.width;
      // Every run at least a pixel wide; a run on a pixel already painted the same is skipped.
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
      const mark = this.marked;
      if (mark !== undefined && mark >= v.half.start && mark < v.half.start + v.half.bytes) {
        const x = (Number(mark - v.half.start) - v.at) * scale;
        if (x >= 0 && x < w) {
          ctx.fillStyle = '#000';
          ctx.fillRect(Math.floor(x), barTop - 3, 2, BAND.bar + 6);
        }
      }
    });
  }
}
