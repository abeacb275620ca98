import { readFile } from 'node:fs/promises';

/** One pod create as the API server's audit log recorded it. */
export interface AuditedCreate {
  readonly name: string;
  /** When the API server received the request, in ms since the epoch (microsecond precision). */
  readonly receivedAt: number;
  readonly code: number;
}

interface AuditEvent {
  readonly verb?: string;
  readonly objectRef?: { readonly resource?: string; readonly namespace?: string; readonly name?: string };
  readonly requestObject?: { readonly metadata?: { readonly name?: string } };
  readonly responseStatus?: { readonly code?: number };
  readonly requestReceivedTimestamp?: string;
}

/** RFC 3339 with up to nanoseconds: Date.parse keeps only ms, so the fraction is added back. */
function epochMs(timestamp: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(timestamp);
  if (match === null) return Number.NaN;
  return Date.parse(`${match[1]}Z`) + Number(`0${match[2] ?? ''}`) * 1000;
}

/** The pod creates in `namespace` that the audit log at `path` holds (policy: kube-audit.ts). */
export async function auditedCreates(path: string, namespace: string): Promise<AuditedCreate[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const creates: AuditedCreate[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const event = JSON.parse(line) as AuditEvent;
    if (event.verb !== 'create' || event.objectRef?.resource !== 'pods') continue;
    if (event.objectRef.namespace !== namespace) continue;
    // Metadata level names the pod in objectRef; Request level (an older policy) in the request body
    const name = event.objectRef.name ?? event.requestObject?.metadata?.name;
    if (name === undefined || event.requestReceivedTimestamp === undefined) continue;
    creates.push({ name, receivedAt: epochMs(event.requestReceivedTimestamp), code: event.responseStatus?.code ?? 0 });
  }
  return creates;
}
