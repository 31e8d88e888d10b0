// The documentation as data: every Markdown file a user reads, and the fenced code
// blocks in it, classified by what the test suite does with them.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** README.md and every page of docs/, as paths relative to the repository. */
export function docFiles(): string[] {
  const pages = readdirSync(ROOT + 'docs').filter((f) => f.endsWith('.md')).sort();
  return ['README.md', ...pages.map((f) => `docs/${f}`)];
}

export interface Block {
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
}

/** A JS or TS example, and the output the page says it prints (if it says). */
export interface Example extends Block {
  readonly lang: 'js' | 'ts';
  readonly prints?: string;
}

/** A shell session: `$ command` lines, each followed by the output it prints. */
export interface Transcript extends Block {
  readonly steps: ReadonlyArray<{ command: string; output: string }>;
}

export function blocksOf(doc: string, text = readFileSync(ROOT + doc, 'utf8')): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(indent));
    out.push({ doc, line: i + 1, lang: open[2]!, code: body.length ? body.join('\n') + '\n' : '' });
    i = j;
  }
  return out;
}

/**
 * The examples of a page in order. A `text` block is the expected output of the
 * example right before it when nothing but one line ending in ':' ("It prints:")
 * stands between them.
 */
export function examplesOf(doc: string): Example[] {
  const text = readFileSync(ROOT + doc, 'utf8');
  const lines = text.split('\n');
  const blocks = blocksOf(doc, text);
  const out: Example[] = [];
  blocks.forEach((b, k) => {
    if (b.lang !== 'js' && b.lang !== 'ts') return;
    const next = blocks[k + 1];
    let prints: string | undefined;
    if (next?.lang === 'text') {
      const end = b.line + b.code.split('\n').length; // the closing fence, 1-based
      const between = lines.slice(end, next.line - 1).filter((l) => l.trim() !== '');
      if (between.length === 0 || (between.length === 1 && between[0]!.trim().endsWith(':'))) prints = next.code;
    }
    out.push({ ...(b as Example), prints });
  });
  return out;
}

/** Shell blocks written as a session (`$ ` prompts); a line ending in `\` continues the command. */
export function transcriptsOf(doc: string): Transcript[] {
  return blocksOf(doc)
    .filter((b) => (b.lang === 'sh' || b.lang === 'console') && b.code.startsWith('$ '))
    .map((b) => {
      const steps: Array<{ command: string; output: string }> = [];
      const lines = b.code.replace(/\n$/, '').split('\n');
      for (let i = 0; i < lines.length; i++) {
        if (!lines[i]!.startsWith('$ ')) continue;
        let command = lines[i]!.slice(2);
        while (command.endsWith('\\') && i + 1 < lines.length) command = command.slice(0, -1) + ' ' + lines[++i]!.trim();
        const output: string[] = [];
        while (i + 1 < lines.length && !lines[i + 1]!.startsWith('$ ')) output.push(lines[++i]!);
        steps.push({ command, output: output.length ? output.join('\n') + '\n' : '' });
      }
      return { ...b, steps };
    });
}

/**
 * Whether `actual` is what a page shows. Times vary from run to run, so any
 * "<number> ms" matches any other; a line that is just `...` stands for any lines.
 */
export function matchesShown(actual: string, shown: string): boolean {
  const norm = (s: string) => s.replace(/\d+(\.\d+)? ms\b/g, 'N ms');
  const a = norm(actual).split('\n');
  const parts = norm(shown).split(/^[ \t]*\.\.\.[ \t]*\n/m).map((p) => p.split('\n'));
  if (parts.length === 1) return a.join('\n') === parts[0]!.join('\n');
  // head ... middle ... tail: each part in order, the first at the start, the last at the end.
  const head = parts[0]!.slice(0, -1);
  const tail = parts[parts.length - 1]!;
  if (a.slice(0, head.length).join('\n') !== head.join('\n')) return false;
  if (a.slice(a.length - tail.length).join('\n') !== tail.join('\n')) return false;
  let at = head.length;
  for (const mid of parts.slice(1, -1).map((p) => p.slice(0, -1))) {
    let found = -1;
    for (let k = at; k + mid.length <= a.length - tail.length && found < 0; k++) {
      if (a.slice(k, k + mid.length).join('\n') === mid.join('\n')) found = k;
    }
    if (found < 0) return false;
    at = found + mid.length;
  }
  return at <= a.length - tail.length;
}
