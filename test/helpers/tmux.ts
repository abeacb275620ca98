import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const tmux = (...args: string[]): string =>
  execFileSync('tmux', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * A program in a real pseudo-terminal (a detached tmux session), read the way a person reads it:
 * the screen. The pane stays after the program exits (remain-on-exit) so its exit can be checked.
 */
export class TmuxTerminal {
  /** The last screen captured, for failure messages. */
  last = '';

  private constructor(readonly session: string) {}

  /** Starts `command` (run by sh in `cwd`) in a new detached session of `columns` x `rows`. */
  static start(
    command: string,
    options: { cwd: string; columns?: number; rows?: number; prefix?: string },
  ): TmuxTerminal {
    const session = `${options.prefix ?? 'pgdeck-test'}-${process.pid}-${randomBytes(3).toString('hex')}`;
    // One tmux invocation, so remain-on-exit is set before the program can exit.
    tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      String(options.columns ?? 160),
      '-y',
      String(options.rows ?? 48),
      '-c',
      options.cwd,
      command,
      ';',
      'set-option',
      '-t',
      session,
      'remain-on-exit',
      'on',
    );
    return new TmuxTerminal(session);
  }

  /** The visible screen; with `history`, the lines scrolled off above it first. */
  screen(options: { history?: boolean } = {}): string {
    this.last = tmux('capture-pane', '-p', ...(options.history === true ? ['-S', '-'] : []), '-t', this.session);
    return this.last;
  }

  /** Keys as tmux names them ('q', 'Enter', 'Down'); each argument is one key press. */
  keys(...keys: string[]): void {
    for (const key of keys) tmux('send-keys', '-t', this.session, key);
  }

  /** A pane format variable, e.g. pane_dead, pane_dead_status, alternate_on. */
  pane(variable: string): string {
    return tmux('display-message', '-p', '-t', this.session, `#{${variable}}`).trim();
  }

  /** Polls the screen until `test` holds; the error carries the last screen. */
  async waitFor(
    what: string,
    test: (screen: string) => boolean,
    timeoutMs = 20_000,
    intervalMs = 150,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let screen: string | null = null;
      try {
        screen = this.screen();
      } catch (error) {
        this.last = `(capture-pane failed: ${(error as Error).message})\n${this.last}`;
      }
      if (screen !== null && test(screen)) return screen;
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen was:\n${this.last}`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  /** Waits until the program in the pane has exited; its exit status. */
  async waitForExit(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.pane('pane_dead') !== '1') {
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for the program to exit; the screen was:\n${this.screen()}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return Number(this.pane('pane_dead_status'));
  }

  alive(): boolean {
    try {
      tmux('has-session', '-t', this.session);
      return true;
    } catch {
      return false;
    }
  }

  kill(): void {
    try {
      tmux('kill-session', '-t', this.session);
    } catch {
      return;
    }
  }
}
