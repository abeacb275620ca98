import type { ActionPreview } from '../agents/kernel/snapshot.js';
import type { ConsoleSource } from './state/sources.js';

/**
 * A console-level command that brings up something new and attaches the console to its sources
 * (the lab's `L`): not a source itself, so it adds nothing to the header's count until it has run.
 * The composition root hands it in beside the sources; shared UI code knows nothing else of it.
 */
export interface ConsoleLauncher {
  readonly id: string;
  readonly keys: readonly string[];
  readonly label: string;
  readonly description: string;
  /** The footer's word or two. */
  readonly hint: string;
  /** Views whose footer lists it (help always does). */
  readonly views: readonly string[];
  /** What launching would do now, or why it cannot (shown before asking). */
  preview(): Promise<ActionPreview>;
  /** Runs it, handing each progress line to `progress`; resolves with the sources to attach. */
  launch(progress: (line: string) => void): Promise<LaunchOutcome>;
}

export type LaunchOutcome =
  | { readonly kind: 'attached'; readonly message: string; readonly sources: readonly ConsoleSource[] }
  | { readonly kind: 'failed'; readonly message: string };
