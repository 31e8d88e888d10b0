// Domains: the per-domain record (page list, tot_pages, nr_l4_pages, the
// m2p-strict VM assist, the L4 index) at layout.domains + id * DOM_STRIDE.
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { PageList } from './page-list.js';
import { NO_FRAME } from './frame-info.js';
import { frameError } from './refusal.js';

export interface DomainOptions {
  /** VM assist m2p-strict: L4 tables promoted from now on get the RO_MPT slot filled (default false). */
  readonly m2pStrict?: boolean;
  /** A 64-bit PV guest (default true). */
  readonly pv64?: boolean;
}

/** A copy of a domain's record. */
export interface DomainRecord {
  readonly id: number;
  readonly m2pStrict: boolean;
  readonly pv64: boolean;
  readonly head: number | undefined;
  readonly tail: number | undefined;
  readonly listed: number;
  readonly totPages: number;
  readonly nrL4Pages: number;
  readonly l4Indexed: number;
  /** A variant fix-up waiting for its continuation ('counted', 'flat', 'indexed'), if any. */
  readonly fixupInProgress: string | undefined;
}

const MODES: Record<number, string> = { [A.FIXM_COUNTED]: 'counted', [A.FIXM_FLAT]: 'flat', [A.FIXM_INDEXED]: 'indexed' };

export function checkDomainId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= A.DOM_MAX) {
    throw new InvalidInputError(`domain: ${id} is not a domain id from 0 to ${A.DOM_MAX - 1}`, { input: 'domain', value: id });
  }
}

/** One live domain of an engine. */
export class Domain {
  constructor(
    private readonly ctx: EngineContext,
    readonly id: number,
  ) {}

  private at(o: number): number {
    return this.ctx.layout.domains + this.id * A.DOM_STRIDE + o;
  }
  private get(o: number): number {
    return this.ctx.view.getUint32(this.at(o), true);
  }
  private set(o: number, v: number): void {
    this.ctx.view.setUint32(this.at(o), v >>> 0, true);
  }

  get exists(): boolean {
    return (this.get(A.DOM_FLAGS) & A.DF_IN_USE) !== 0;
  }
  get m2pStrict(): boolean {
    return (this.get(A.DOM_FLAGS) & A.DF_M2P_STRICT) !== 0;
  }
  /** Set or clear the VM assist flag only (what arch_set_info_guest assigns); no fix-up runs. */
  set m2pStrict(on: boolean) {
    const f = this.get(A.DOM_FLAGS);
    this.set(A.DOM_FLAGS, on ? f | A.DF_M2P_STRICT : f & ~A.DF_M2P_STRICT);
  }
  get pv64(): boolean {
    return (this.get(A.DOM_FLAGS) & A.DF_PV64) !== 0;
  }
  get totPages(): number {
    return this.get(A.DOM_TOT_PAGES);
  }
  get nrL4Pages(): number {
    return this.get(A.DOM_NR_L4);
  }
  get list(): PageList {
    return new PageList(this.ctx, this.id);
  }

  /** The L4 index in order (kept by promote/demote). */
  l4Frames(): number[] {
    const u = new Uint32Array(this.ctx.memory.buffer);
    const next = this.ctx.layout.l4Next >>> 2;
    const out: number[] = [];
    const limit = this.get(A.DOM_L4_COUNT) + 1;
    for (let f = this.get(A.DOM_L4_HEAD); f !== NO_FRAME && out.length < limit; f = u[next + f]!) out.push(f);
    return out;
  }

  record(): DomainRecord {
    const head = this.get(A.DOM_HEAD), tail = this.get(A.DOM_TAIL);
    return {
      id: this.id,
      m2pStrict: this.m2pStrict,
      pv64: this.pv64,
      head: head === NO_FRAME ? undefined : head,
      tail: tail === NO_FRAME ? undefined : tail,
      listed: this.get(A.DOM_COUNT),
      totPages: this.totPages,
      nrL4Pages: this.nrL4Pages,
      l4Indexed: this.get(A.DOM_L4_COUNT),
      fixupInProgress: MODES[this.get(A.DOM_FIX_MODE)],
    };
  }
}

/** The domains of an engine (`engine.domains`). */
export class Domains {
  constructor(private readonly ctx: EngineContext) {}

  create(id: number, options: DomainOptions = {}): Domain {
    checkDomainId(id);
    const flags = (options.m2pStrict ? A.DF_M2P_STRICT : 0) | (options.pv64 === false ? 0 : A.DF_PV64);
    const rc = this.ctx.backend.frames.domainCreate(id, flags);
    if (rc === A.TE_DOMAIN_EXISTS) throw new InvalidInputError(`domain: ${id} already exists [domain-exists]`, { input: 'domain', value: id });
    if (rc !== A.TE_OK) throw frameError(rc, 'create domain', `domain ${id}`);
    return new Domain(this.ctx, id);
  }

  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < A.DOM_MAX && new Domain(this.ctx, id).exists;
  }

  get(id: number): Domain {
    checkDomainId(id);
    const d = new Domain(this.ctx, id);
    if (!d.exists) throw new NotFoundError(`domain: ${id} does not exist`, { input: 'domain', value: id });
    return d;
  }

  /** Destroy a domain: all its frames go back to the free pool. Returns how many. */
  destroy(id: number): number {
    this.get(id);
    return this.ctx.backend.frames.domainFree(id) >>> 0;
  }

  ids(): number[] {
    const out: number[] = [];
    for (let d = 0; d < A.DOM_MAX; d++) if (this.has(d)) out.push(d);
    return out;
  }
}
