import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An audit policy recording pod creates only, once each when answered, at Metadata level (no request
 * or response body is encoded: at that level the API server still fills `objectRef.name` from the
 * created object): every event carries `requestReceivedTimestamp`, the microsecond the API server got
 * the request, which is what a benchmark of "time to the create request" measures against. Every other
 * request matches the final `None` rule and costs only the rule lookup.
 */
export const POD_CREATE_AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted, Panic]
rules:
  - level: Metadata
    verbs: [create]
    resources:
      - group: ""
        resources: [pods]
  - level: None
`;

/** Where the API server of a control plane started with an audit policy writes its audit log. */
export function auditLogPath(planeDir: string): string {
  return join(planeDir, 'audit.log');
}

/** The kube-apiserver flags for `policyYaml` (none without one); writes the policy file into the plane's dir. */
export function auditArgs(planeDir: string, policyYaml: string | undefined): string[] {
  if (policyYaml === undefined) return [];
  const policy = join(planeDir, 'audit-policy.yaml');
  writeFileSync(policy, policyYaml);
  return ['--audit-policy-file', policy, '--audit-log-path', auditLogPath(planeDir), '--audit-log-maxbackup', '1'];
}
