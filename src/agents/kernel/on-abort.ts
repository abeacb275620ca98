const waiting = new WeakMap<AbortSignal, Set<() => void>>();
const withdrawn = (): void => undefined;

/**
 * Runs `call` once when `signal` aborts, unless the returned function withdrew it first; like
 * `addEventListener`, never for a signal that has already aborted (check `aborted` first). However
 * many calls wait on one signal, the signal holds one listener: an agent's stop signal is shared by
 * every reconcile, sleep and request in flight, and Node warns past ten listeners on one signal
 * (MaxListenersExceededWarning) although nothing leaks.
 */
export function onAbort(signal: AbortSignal, call: () => void): () => void {
  if (signal.aborted) return withdrawn;
  let calls = waiting.get(signal);
  if (calls === undefined) {
    const fresh = new Set<() => void>();
    waiting.set(signal, fresh);
    signal.addEventListener(
      'abort',
      () => {
        waiting.delete(signal);
        for (const c of fresh) c();
      },
      { once: true },
    );
    calls = fresh;
  }
  const mine = calls;
  const once = (): void => {
    mine.delete(once);
    call();
  };
  mine.add(once);
  return () => void mine.delete(once);
}
