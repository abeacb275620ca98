import type { AgentRow } from './rows/agent-rows.js';

export const toneColor: Record<AgentRow['tone'], string> = { ok: 'green', warn: 'yellow', bad: 'red', stale: 'gray' };

export const severityColor: Record<string, string> = { info: 'white', warn: 'yellow', error: 'red', debug: 'gray' };
