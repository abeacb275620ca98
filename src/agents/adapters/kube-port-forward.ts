import { PortForward, type KubeConfig } from '@kubernetes/client-node';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { errorMessage, PgdeckError } from '../kernel/errors.js';

/** A Pod's port reached through the API server's `pods/portforward` subresource (as `kubectl port-forward`). */
export interface PortForwardTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly port: number;
}

/** A loopback URL whose connections each open a port-forward stream to the Pod's port. */
export interface PortForwardRelay {
  readonly url: string;
  /** Why the last stream failed ("port-forward to pod P:8008: ..."), if one did. */
  lastError(): string | undefined;
  close(): Promise<void>;
}

interface StreamSocket {
  close(): void;
  on(event: 'error', listener: (error: Error) => void): void;
}

/**
 * A local listener (127.0.0.1, a free port): every TCP connection to it becomes one port-forward
 * stream over a WebSocket to the API server (client-node's PortForward, the kubeconfig's credentials),
 * which the API server carries on to the kubelet of the Pod's node. A stream that cannot be opened
 * (the API server refuses, or reaches no kubelet) closes the local connection.
 */
export async function openPortForward(config: KubeConfig, target: PortForwardTarget): Promise<PortForwardRelay> {
  const forward = new PortForward(config, true);
  const sockets = new Set<Socket>();
  let lastError: string | undefined;
  const failed = (socket: Socket, error: unknown): void => {
    lastError = `port-forward to pod ${target.pod}:${target.port}: ${errorMessage(error)}`;
    socket.destroy();
  };
  const relay = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', (error) => failed(socket, error));
    forward
      .portForward(target.namespace, target.pod, [target.port], socket, null, socket)
      .then((ws) => {
        const stream = ws as unknown as StreamSocket;
        stream.on('error', (error) => failed(socket, error));
        if (socket.destroyed) stream.close();
        else socket.once('close', () => stream.close());
      })
      .catch((error: unknown) => failed(socket, error));
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', (error) =>
      reject(new PgdeckError('unavailable', `cannot open a local port-forward for ${target.pod}: ${error.message}`)),
    );
    relay.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = relay.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    lastError: () => lastError,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        relay.close(() => resolve());
      }),
  };
}
