/** Kept for `src/cli/status.ts`, which imports the LSN format from here; the console's formats live in ../format.ts. */
export { formatLsn } from '../format.js';
