import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What every bench returns. `metrics` are pgdeck's figures; `peers` the same metrics measured on
 * the tools pgdeck is compared with, in the same run. Name metrics with their unit (`p99_ms`).
 */
export interface BenchResult {
  readonly name: string;
  /** ISO time of the run. */
  readonly when: string;
  readonly machine: { readonly cpus: number; readonly node: string };
  readonly metrics: Record<string, number>;
  readonly peers: Record<string, Record<string, number>>;
  readonly notes: string[];
}

export interface BenchOptions {
  readonly quick: boolean;
  /** Every flag given after the bench name (`--soak`). */
  readonly args: readonly string[];
}

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function machine(): BenchResult['machine'] {
  return { cpus: availableParallelism(), node: process.version };
}

/** A result skeleton with `when` and `machine` filled in. */
export function newResult(name: string): BenchResult {
  return { name, when: new Date().toISOString(), machine: machine(), metrics: {}, peers: {}, notes: [] };
}

function cell(value: number | undefined): string {
  if (value === undefined) return '–';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/** `metric | pgdeck | each peer`, one row per metric any column has. */
export function markdownTable(result: BenchResult): string {
  const peers = Object.keys(result.peers);
  const names = [
    ...new Set([...Object.keys(result.metrics), ...peers.flatMap((p) => Object.keys(result.peers[p] ?? {}))]),
  ];
  const lines = [
    `| metric | pgdeck |${peers.map((p) => ` ${p} |`).join('')}`,
    `|---|---|${peers.map(() => '---|').join('')}`,
  ];
  for (const name of names) {
    lines.push(
      `| ${name} | ${cell(result.metrics[name])} |${peers.map((p) => ` ${cell(result.peers[p]?.[name])} |`).join('')}`,
    );
  }
  return lines.join('\n');
}

/** Prints the table and the notes, and writes `bench/results/NAME.json`; returns that path. */
export async function writeReport(result: BenchResult, dir = resultsDir): Promise<string> {
  const path = join(dir, `${result.name}.json`);
  await mkdir(dir, { recursive: true });
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  const notes = result.notes.map((n) => `- ${n}`).join('\n');
  process.stdout.write(
    `\n## ${result.name} (${result.when}, ${result.machine.cpus} cpus, node ${result.machine.node})\n\n${markdownTable(result)}\n${notes === '' ? '' : `\n${notes}\n`}\nwrote ${path}\n`,
  );
  return path;
}
