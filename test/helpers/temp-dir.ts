// Temporary folders removed when the test file that made them ends, so that a run
// leaves no images or dumps behind (tempDir of the dump writers, cleaned up for you).
import { afterAll } from 'vitest';
import { tempDir } from '../../src/perf/dump-writers/sparse.js';

const made: Array<() => void> = [];

// Registered when a test file imports this module (each file gets its own copy).
afterAll(() => {
  for (const cleanup of made.splice(0)) cleanup();
});

/** A new empty folder under the system's temporary folder, named `prefix` + random letters. */
export function testDir(prefix: string): string {
  const t = tempDir(prefix);
  made.push(t.cleanup);
  return t.dir;
}
