import { expect } from 'vitest';
import type { TmuxTerminal } from '../helpers/tmux.js';

/**
 * Reading the console's screen as a person does, for the tmux tests: member rows, cluster lines,
 * the selection, whole frames and the layout every view must keep.
 */

/** One whole frame: the header on the first line and nowhere else (no lines left of an earlier frame). */
export const wellFormed = (screen: string): boolean =>
  screen.startsWith('pgdeck ') && screen.split('\n').filter((l) => l.startsWith('pgdeck ')).length === 1;

export interface MemberLine {
  readonly index: number;
  readonly selected: boolean;
  readonly cluster: string;
  readonly member: string;
  readonly leader: boolean;
  readonly role: string;
  readonly state: string;
}

const memberLine = /^(▶ | {2})(\S+)\s+(pg\d+)(\*?)\s+(sync replica|\S+)\s+(\S+)/;

/** The Failover view's member rows when several clusters are shown (the CLUSTER column first). */
export function members(screen: string): MemberLine[] {
  const out: MemberLine[] = [];
  for (const line of screen.split('\n')) {
    const m = memberLine.exec(line);
    if (m === null || !/^(primary|replica|sync replica|unknown)$/.test(m[5]!)) continue;
    out.push({
      index: out.length,
      selected: m[1] === '▶ ',
      cluster: m[2]!,
      member: m[3]!,
      leader: m[4] === '*',
      role: m[5]!,
      state: m[6]!,
    });
  }
  return out;
}

export const membersOf = (screen: string, cluster: string): MemberLine[] =>
  members(screen).filter((m) => m.cluster === cluster);

export const selectedRow = (screen: string): MemberLine | undefined => members(screen).find((m) => m.selected);

/** A cluster's line above the members: `a: leader pg1, lease 3.1 s, primary pg0 · daemons 3/3 answer`. */
export function bannerOf(
  screen: string,
  cluster: string,
): { leader: string | null; primary: string | null } | undefined {
  const line = screen.split('\n').find((l) => l.startsWith(`${cluster}: `));
  if (line === undefined) return undefined;
  const leader = /^\S+: leader (pg\d+)/.exec(line)?.[1] ?? null;
  const primary = /\bprimary (pg\d+)/.exec(line)?.[1] ?? null;
  return { leader, primary };
}

export interface Frame {
  readonly at: number;
  readonly screen: string;
}

/** Captures the screen every `intervalMs` until stopped. */
export function captureEvery(term: TmuxTerminal, intervalMs: number): { stop(): Frame[] } {
  const frames: Frame[] = [];
  const take = (): void => {
    try {
      frames.push({ at: Date.now(), screen: term.screen() });
    } catch {
      return;
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return frames;
    },
  };
}

const layouts: Readonly<Record<string, { heading: RegExp; footer: string }>> = {
  Overview: { heading: /^ {2}KIND\s+ENTITY\s+HEALTH/m, footer: '<s> switch over' },
  'Failover cluster': { heading: /^ {2}CLUSTER\s+MEMBER\s+ROLE\s+STATE/m, footer: '<f> fail over' },
  History: { heading: /^ {2}CLUSTER\s+WHEN\s+KIND\s+CHANGE/m, footer: '<s> switch over' },
  // The agents not attached here: their views still keep their column headers and a footer.
  'Citus workers': { heading: /^ {2}WORKER\s+POD\s+PHASE\s+READY/m, footer: '<' },
  PostgresClusters: { heading: /^ {2}CLUSTER\s+PHASE\s+READY\s+PRIMARY/m, footer: '<' },
  Autoscaler: { heading: /^ {2}TASK\s+PENDING\s+RUNNING/m, footer: '<' },
  Lab: { heading: /^ {2}COMPONENT\s+PHASE\s+ENDPOINT/m, footer: '<' },
  Events: { heading: /^ {2}TIME\s+SOURCE\s+KIND\s+MESSAGE/m, footer: '<enter> detail' },
};

/** Each view's capture keeps the header (one line, the view's name), its column headers and its own keys first in the footer. */
export function checkLayout(views: readonly { key: string; screen: string }[], columns: number, rows: number): void {
  expect(views.map((v) => v.key)).toEqual(Object.keys(layouts));
  for (const { key, screen } of views) {
    const lines = screen.replace(/\n$/, '').split('\n');
    const at = `${key} at ${columns}x${rows}:\n${screen}`;
    expect(lines.length, at).toBe(rows);
    for (const line of lines) expect(line.length, at).toBeLessThanOrEqual(columns);
    expect(lines[0], at).toMatch(new RegExp(`^pgdeck .*${key}`));
    expect(
      lines.filter((l) => l.startsWith('pgdeck ')),
      at,
    ).toHaveLength(1);
    expect(screen, at).toMatch(layouts[key]!.heading);
    const footer = lines.reduce((last, l, i) => (l.trim() === '' ? last : i), -1);
    expect(footer, at).toBe(rows - 2);
    expect(lines[footer]!.startsWith(layouts[key]!.footer), at).toBe(true);
  }
}
