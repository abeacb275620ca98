import type { Launcher, LaunchOutcome as SourcesOutcome } from '../agents/kernel/launcher.js';
import type { ConsoleSource } from './state/sources.js';

/**
 * A launcher of the console (kernel/launcher.ts): its outcome hands over console sources. The
 * composition root hands it in beside the sources; shared UI code knows nothing else of it.
 */
export type ConsoleLauncher = Launcher<ConsoleSource>;

export type LaunchOutcome = SourcesOutcome<ConsoleSource>;
