import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// No module under electron/ may reach itself through its imports, type-only imports included:
// a cycle means two modules own one thing between them. Tests are left out (nothing imports
// them). TypeScript's own pre-processor reads the imports, so comments and strings do not count.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Cycles known today, each as its modules joined by ' -> ' starting from the first in sorted
 * order, to be broken and then removed from here (the test fails when one is gone, so this
 * list can only shrink).
 */
const KNOWN_CYCLES: readonly string[] = [];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(rel);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [rel] : [];
  });
}

/** Each module's relative imports that resolve to another module of the graph. */
export function importGraph(files: readonly string[], read: (rel: string) => string): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(read(file), true, true);
    const targets = importedFiles
      .map((imported) => imported.fileName)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)))
      .filter((target) => known.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every elementary cycle found by a depth-first walk, each rotated to start at its smallest module. */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles = new Set<string>();
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const loop = stack.slice(stack.indexOf(next));
        const start = loop.indexOf([...loop].sort()[0] ?? next);
        cycles.add([...loop.slice(start), ...loop.slice(0, start)].join(' -> '));
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles].sort();
}

describe('imports under electron/', () => {
  it('finds a cycle, type-only imports included (the check can fail)', () => {
    const files: Record<string, string> = {
      'a/x.ts': "import { y } from './y.ts';\nexport const x = y;",
      'a/y.ts': "import type { Z } from '../b/z.ts';\nexport const y: Z = 1;",
      'b/z.ts': "// import { nope } from '../a/x.ts';\nexport type Z = typeof import('../a/x.ts').x;",
      'b/w.ts': "export const w = '../a/x.ts';",
    };
    const graph = importGraph(Object.keys(files), (rel) => files[rel] ?? '');
    expect(findCycles(graph)).toEqual(['a/x.ts -> a/y.ts -> b/z.ts']);
  });

  it('hold no cycle beyond the known ones, and every known one still exists', () => {
    const graph = importGraph(sourceFiles('electron'), (rel) => readFileSync(path.join(root, rel), 'utf8'));
    expect(graph.size).toBeGreaterThan(100);
    expect(findCycles(graph)).toEqual([...KNOWN_CYCLES].sort());
  });
});
