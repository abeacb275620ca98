import { describe, expect, it } from 'vitest';
import { kubeConnectionError, kubeStatusError } from '../../../src/agents/adapters/kube-errors.js';

/** Status bodies as the API server sends them; the live answers are checked in kube-auth and kube-write tests. */
const patchStatefulSet = { verb: 'patch', resource: 'statefulsets', namespace: 'db', name: 'pg' };

describe('kubeStatusError', () => {
  it('names the verb, resource, namespace and user of a 403', () => {
    const error = kubeStatusError(
      403,
      {
        kind: 'Status',
        reason: 'Forbidden',
        message:
          'statefulsets.apps "pg" is forbidden: User "system:serviceaccount:db:pgdeck" cannot patch resource "statefulsets" in API group "apps" in the namespace "db"',
      },
      patchStatefulSet,
    );
    expect(error.kind).toBe('forbidden');
    expect(error.message).toBe(
      'forbidden: cannot patch statefulsets in namespace "db" (as system:serviceaccount:db:pgdeck)',
    );
  });

  it('falls back to the request when a 403 has no Status body (a refused watch)', () => {
    const error = kubeStatusError(403, undefined, { verb: 'watch', resource: 'pods', namespace: 'x' });
    expect(error.message).toBe('forbidden: cannot watch pods in namespace "x"');
  });

  it('lists the field causes of a 422 and keeps the first field', () => {
    const error = kubeStatusError(
      422,
      {
        kind: 'Status',
        reason: 'Invalid',
        message:
          'StatefulSet.apps "pg" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
        details: {
          name: 'pg',
          kind: 'StatefulSet',
          causes: [
            {
              reason: 'FieldValueInvalid',
              message: 'Invalid value: -1: must be greater than or equal to 0',
              field: 'spec.replicas',
            },
            { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' },
          ],
        },
      },
      patchStatefulSet,
    );
    expect(error.kind).toBe('invalid');
    expect(error.field).toBe('spec.replicas');
    expect(error.message).toBe(
      'invalid: StatefulSet "pg": spec.replicas: Invalid value: -1: must be greater than or equal to 0; spec.selector: Required value',
    );
  });

  it.each([
    [401, 'unauthorized'],
    [404, 'not-found'],
    [409, 'conflict'],
    [410, 'precondition'],
    [429, 'throttled'],
    [500, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
    [400, 'invalid'],
  ] as const)('maps HTTP %i to %s', (status, kind) => {
    const error = kubeStatusError(status, { message: 'm' }, patchStatefulSet);
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
  });

  it('takes the Retry-After of a 429', () => {
    const error = kubeStatusError(429, { message: 'too many requests' }, patchStatefulSet, '3');
    expect(error.retryAfterMs).toBe(3000);
    expect(error.message).toContain('after 3 s');
  });
});

describe('kubeConnectionError', () => {
  it('reports a refused connection and a timeout as unavailable', () => {
    const refused = Object.assign(new Error('request failed, reason: connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    expect(kubeConnectionError(refused, patchStatefulSet, 1000)).toMatchObject({
      kind: 'unavailable',
      status: 0,
      message: 'unavailable: cannot reach the API server for patch statefulsets (ECONNREFUSED)',
    });
    const timeout = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(kubeConnectionError(timeout, patchStatefulSet, 1000).message).toBe(
      'unavailable: the API server did not answer patch statefulsets within 1000 ms',
    );
  });
});
