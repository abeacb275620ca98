/** Reading the Autoscaler view's screen for the tmux test: its banner figures and the rows of its tables. */

export interface ScalerBanner {
  readonly length: number;
  readonly lag: string;
  readonly pending: number;
  readonly inFlight: number;
  readonly deadLetters: number;
}

/** `length 3, lag 0, pending 0 · stream …` and `in flight 2/200 · dead letters 1 · replicas …`; undefined until both show. */
export function bannerOf(screen: string): ScalerBanner | undefined {
  const stream = /^length (\d+), lag (\S+), pending (\d+) · stream /m.exec(screen);
  const pods = /^in flight (\d+)\/\d+ · dead letters (\d+) · replicas /m.exec(screen);
  if (stream === null || pods === null) return undefined;
  return {
    length: Number(stream[1]),
    lag: stream[2]!,
    pending: Number(stream[3]),
    inFlight: Number(pods[1]),
    deadLetters: Number(pods[2]),
  };
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\-]/g, (c) => `\\${c}`);

/** The selected row's line (`▶ …`), if any. */
export const selectedRow = (screen: string): string | undefined => screen.split('\n').find((l) => l.startsWith('▶ '));

/** A task's row of WORKERS BY TASK: `  task-a  1  1  0  0` (pending, running, succeeded, failed). */
export function taskRow(
  screen: string,
  taskId: string,
): { selected: boolean; pending: number; running: number; succeeded: number; failed: number } | undefined {
  const m = new RegExp(`^(▶ | {2})${escape(taskId)}\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s*$`, 'm').exec(screen);
  if (m === null) return undefined;
  return {
    selected: m[1] === '▶ ',
    pending: Number(m[2]),
    running: Number(m[3]),
    succeeded: Number(m[4]),
    failed: Number(m[5]),
  };
}

/** A target's row of TARGETS: `  workers  StatefulSet  2  2  1  3` (replicas, current, min, max). */
export function targetRow(screen: string, name: string): { selected: boolean; replicas: string } | undefined {
  const m = new RegExp(
    `^(▶ | {2})${escape(name)}\\s+(?:StatefulSet|Deployment|PostgresCluster)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`,
    'm',
  ).exec(screen);
  return m === null ? undefined : { selected: m[1] === '▶ ', replicas: m[2]! };
}

/** The rows under the DEAD LETTER header: `▶ 1733000000000-0  pod_count must be a whole number, got "abc"`. */
export function deadLetterRows(screen: string): { selected: boolean; id: string; reason: string }[] {
  const lines = screen.split('\n');
  const header = lines.findIndex((l) => /^ {2}DEAD LETTER\s+REASON/.test(l));
  if (header < 0) return [];
  return lines.slice(header + 1).flatMap((l) => {
    const m = /^(▶ | {2})(\d+-\d+)\s+(.*?)\s*$/.exec(l);
    return m === null ? [] : [{ selected: m[1] === '▶ ', id: m[2]!, reason: m[3]! }];
  });
}
