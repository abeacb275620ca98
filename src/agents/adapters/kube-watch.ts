import { kubeStatusError, type KubeApiError, type KubeRequestInfo } from './kube-errors.js';
import type { KubeTransport } from './kube-transport.js';

/** How a watch stream ended without an error: cleanly (or aborted), or with 410 Gone (relist, then watch again). */
export type WatchOutcome = 'closed' | 'expired';

export interface WatchStreamRequest extends KubeRequestInfo {
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
}

export interface WatchStreamHandlers {
  /** ADDED, MODIFIED, DELETED or BOOKMARK with its object. */
  onObject(type: string, object: unknown): void;
  /** The server accepted the watch and streams from the requested resourceVersion. */
  onEstablished(): void;
}

/**
 * Runs one watch to its end: resolves when the server closes it, answers 410 Gone (as an HTTP status
 * or an ERROR event) or `signal` aborts; rejects with the KubeApiError of any other failure.
 */
export function watchToEnd(
  transport: KubeTransport,
  request: WatchStreamRequest,
  handlers: WatchStreamHandlers,
  signal: AbortSignal,
): Promise<WatchOutcome> {
  return new Promise<WatchOutcome>((resolve, reject) => {
    let stop: (() => void) | undefined;
    let ended = false;
    let expired = false;
    let failed: KubeApiError | undefined;
    const settle = (how: () => void): void => {
      if (ended) return;
      ended = true;
      signal.removeEventListener('abort', onAbort);
      how();
    };
    const onAbort = (): void => {
      stop?.();
      settle(() => resolve('closed'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const onEvent = (type: string, object: unknown): void => {
      if (type !== 'ERROR') return handlers.onObject(type, object);
      const code = (object as { code?: number } | undefined)?.code;
      if (code === 410) expired = true;
      else failed = kubeStatusError(code ?? 500, object, request);
    };
    const onEnd = (error: KubeApiError | null): void =>
      settle(() => {
        if (expired || error?.status === 410) resolve('expired');
        else if (failed !== undefined) reject(failed);
        else if (error !== null) reject(error);
        else resolve('closed');
      });
    transport.watch(request, onEvent, onEnd).then(
      (handle) => {
        stop = handle.stop;
        if (ended) handle.stop();
        else if (handle.established) handlers.onEstablished();
      },
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
