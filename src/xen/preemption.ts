// When hypercall_preempt_check() says "pending". The kernels count checks (one
// every 256 frames) and stop at the N-th; this module decides what N is and,
// for a time budget, looks at the clock between slices of one check each, so
// both backends take the same decisions for `never` and `every:K`.
import { InvalidInputError } from '../errors.js';

export type PreemptPolicy =
  | { readonly kind: 'never' }
  /** Every K-th preemption check of a call reports pending. */
  | { readonly kind: 'every'; readonly checks: number }
  /** A check reports pending once the call has run for `ms` milliseconds. */
  | { readonly kind: 'budget'; readonly ms: number };

export const NEVER: PreemptPolicy = { kind: 'never' };

/** Parse `never`, `every:K` (K >= 1) or `budget:MS` (MS > 0). */
export function parsePreempt(text: string, what = '--preempt'): PreemptPolicy {
  const t = String(text).trim();
  if (t === 'never') return NEVER;
  let m = /^every:(\d+)$/.exec(t);
  if (m) {
    const k = Number(m[1]);
    if (k >= 1 && Number.isSafeInteger(k) && k <= 0xffffffff) return { kind: 'every', checks: k };
  }
  m = /^budget:(\d+(?:\.\d+)?)$/.exec(t);
  if (m) {
    const ms = Number(m[1]);
    if (ms > 0) return { kind: 'budget', ms };
  }
  throw new InvalidInputError(`${what}: '${text}' is not one of never, every:K (K >= 1), budget:MS (MS > 0)`, { input: what, value: text });
}

export function formatPreempt(p: PreemptPolicy): string {
  return p.kind === 'never' ? 'never' : p.kind === 'every' ? `every:${p.checks}` : `budget:${p.ms}`;
}
