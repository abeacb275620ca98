/** Secrets never reach logs, events, the API or the screen: mask them wherever fields are emitted. */
const SECRET_KEY = /(passw(or)?d|passphrase|secret|token|credential|private[-_]?key|api[-_]?key)/i;
/** `pass` only as a whole word (`pass`, `db_pass`, `dbPass`), so `passes` and `passMs` stay visible. */
const PASS_KEY = /((^|[-_.])pass$)/i;
const CAMEL_PASS = /[a-z0-9]Pass$/;
export const MASK = '********';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || PASS_KEY.test(key) || CAMEL_PASS.test(key);
}

export function redact<T>(value: T, depth = 0): T {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => redact(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? MASK : redact(v, depth + 1);
  }
  return out as T;
}

/** Masks `password=...` style pairs inside connection strings and URLs. */
export function redactText(text: string): string {
  return text
    .replace(/(password|passwd|pwd|token|secret)=([^\s&;]+)/gi, `$1=${MASK}`)
    .replace(/(\/\/[^:/@\s]+:)([^@/\s]+)@/g, `$1${MASK}@`);
}
