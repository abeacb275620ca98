import type { ActionPreview } from './snapshot.js';

/**
 * A console-level command that brings up something new and attaches the console to its sources
 * (the lab's `L`): not a source itself, so it adds nothing to the header's count until it has run.
 * Generic over what it attaches: the console's sources, or the agent handles the lab hands it.
 */
export interface Launcher<S> {
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
  launch(progress: (line: string) => void): Promise<LaunchOutcome<S>>;
}

export type LaunchOutcome<S> =
  | { readonly kind: 'attached'; readonly message: string; readonly sources: readonly S[] }
  | { readonly kind: 'failed'; readonly message: string };
