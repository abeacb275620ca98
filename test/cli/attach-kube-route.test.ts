import { describe, expect, it } from 'vitest';
import {
  chooseRoute,
  confirmPortForward,
  describeProbe,
  describeRoute,
  type AttachRoute,
  type RouteProbe,
} from '../../src/cli/attach-kube-route.js';

const pods = [
  { pod: 'pgdeck-autoscaler-7c9-a', port: 8008 },
  { pod: 'pgdeck-autoscaler-7c9-b', port: 8008 },
];
const unavailable: RouteProbe = {
  kind: 'refused',
  status: 503,
  message: 'error trying to reach service: dial tcp 10.244.0.7:8008: i/o timeout',
};

describe('chooseRoute', () => {
  it.each([
    ['the agent answers through the proxy', { kind: 'agent' } as RouteProbe, pods, { kind: 'service-proxy' }],
    [
      'the API server cannot reach the Pod network',
      unavailable,
      pods,
      {
        kind: 'port-forward',
        pod: 'pgdeck-autoscaler-7c9-a',
        port: 8008,
        why: 'the service proxy: 503: error trying to reach service: dial tcp 10.244.0.7:8008: i/o timeout',
      },
    ],
    [
      'RBAC lacks services/proxy',
      { kind: 'refused', status: 403, message: 'services "pgdeck-autoscaler" is forbidden' } as RouteProbe,
      pods.slice(1),
      {
        kind: 'port-forward',
        pod: 'pgdeck-autoscaler-7c9-b',
        port: 8008,
        why: 'the service proxy: 403: services "pgdeck-autoscaler" is forbidden',
      },
    ],
    [
      'no answer and no ready Pod',
      { kind: 'no-answer', message: 'The operation was aborted due to timeout' } as RouteProbe,
      [],
      {
        kind: 'unreachable',
        reason:
          'service pgdeck-autoscaler: the service proxy: The operation was aborted due to timeout; and no ready Pod behind it to port-forward to',
      },
    ],
  ])('%s', (_name, probe, candidates, route) => {
    expect(chooseRoute('pgdeck-autoscaler', probe, candidates)).toEqual(route);
  });
});

describe('confirmPortForward', () => {
  const route = chooseRoute('pgdeck-autoscaler', unavailable, pods);
  if (route.kind !== 'port-forward') throw new Error(`expected a port-forward, got ${route.kind}`);

  it('keeps the port-forward when the agent answers through it', () => {
    expect(confirmPortForward('pgdeck-autoscaler', route, { kind: 'agent' })).toBe(route);
  });

  it('gives up naming both routes and why each failed', () => {
    const probe: RouteProbe = { kind: 'no-answer', message: 'Unexpected server response: 400' };
    expect(confirmPortForward('pgdeck-autoscaler', route, probe)).toEqual({
      kind: 'unreachable',
      reason:
        'service pgdeck-autoscaler: the service proxy: 503: error trying to reach service: dial tcp 10.244.0.7:8008: i/o timeout; port-forward to pod pgdeck-autoscaler-7c9-a:8008: Unexpected server response: 400',
    });
    expect(describeProbe(probe)).toBe('Unexpected server response: 400');
  });
});

describe('describeRoute', () => {
  it.each<[string, AttachRoute, string]>([
    ['the service proxy', { kind: 'service-proxy' }, 'service proxy pgdeck/pgdeck-autoscaler:api'],
    [
      'a port-forward names the pod and port',
      { kind: 'port-forward', pod: 'pgdeck-autoscaler-7c9-a', port: 8008, why: 'the service proxy: 503' },
      'port-forward pgdeck/pgdeck-autoscaler-7c9-a:8008',
    ],
    [
      'an unreachable Service is retried through the proxy',
      { kind: 'unreachable', reason: 'service pgdeck-autoscaler: no Pod' },
      'service proxy pgdeck/pgdeck-autoscaler:api (no answer yet)',
    ],
  ])('%s', (_name, route, shown) => {
    expect(describeRoute('pgdeck', 'pgdeck-autoscaler', route)).toBe(shown);
  });
});
