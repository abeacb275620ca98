/**
 * At most `size` requests on the wire at once; the others wait here, first come first served.
 *
 * Mends a gap of node-fetch 2 (client-node 1.4's HTTP stack) with a kept-alive https.Agent: when the
 * agent itself queues a request (more in flight than its maxSockets) and hands it a socket whose last
 * response is still closing, node-fetch's check for a truncated chunked body sees the new request's
 * listener and fails the finished response with "Premature close" (node-fetch/node-fetch#1767). The
 * API server answers creates and lists chunked, so past `size` requests nearly every call failed.
 * Waiting here instead, a socket is only taken up again after its last response was read to the end.
 */
export class RequestSlots {
  private active = 0;
  private readonly waiting: { resolve: () => void }[] = [];

  constructor(readonly size: number) {}

  /** Resolves when a slot is free (call `release` once done); rejects with the signal's reason if it fires first. */
  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.active < this.size) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  /** Hands the slot to the next waiting request, else frees it. */
  release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.active -= 1;
    else next.resolve();
  }

  /** Requests on the wire and waiting, for tests and metrics. */
  get load(): { readonly active: number; readonly waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}
