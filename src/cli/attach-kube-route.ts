/** What `GET /health` through a route answered: the agent itself (any status), or no agent. */
export type RouteProbe =
  | { readonly kind: 'agent' }
  | { readonly kind: 'refused'; readonly status: number; readonly message: string }
  | { readonly kind: 'no-answer'; readonly message: string };

/** A ready address of the Service's Endpoints whose targetRef is a Pod, on the port named `api`. */
export interface ServicePod {
  readonly pod: string;
  readonly port: number;
}

/** How `attach --kube` reaches one agent Service. */
export type AttachRoute =
  | { readonly kind: 'service-proxy' }
  | { readonly kind: 'port-forward'; readonly pod: string; readonly port: number; readonly why: string }
  | { readonly kind: 'unreachable'; readonly reason: string };

/** One line for what a probe got, for reasons and error messages. */
export function describeProbe(probe: RouteProbe): string {
  switch (probe.kind) {
    case 'agent':
      return 'the agent answered';
    case 'refused':
      return `${probe.status}: ${probe.message}`;
    case 'no-answer':
      return probe.message;
    default: {
      const never: never = probe;
      return never;
    }
  }
}

/**
 * The service proxy first (one hop through the API server, nothing opened toward the Pod); when the
 * agent does not answer through it (the API server cannot reach the Pod network, as on many managed
 * control planes, or RBAC lacks `services/proxy`), a port-forward to the first ready Pod behind the
 * Service, as `kubectl port-forward svc/NAME` picks one; without such a Pod, unreachable with why.
 */
export function chooseRoute(service: string, proxy: RouteProbe, pods: readonly ServicePod[]): AttachRoute {
  if (proxy.kind === 'agent') return { kind: 'service-proxy' };
  const why = `the service proxy: ${describeProbe(proxy)}`;
  const [first] = pods;
  if (first === undefined)
    return {
      kind: 'unreachable',
      reason: `service ${service}: ${why}; and no ready Pod behind it to port-forward to`,
    };
  return { kind: 'port-forward', pod: first.pod, port: first.port, why };
}

/** After the port-forward was tried: its probe decides between it and giving up with both reasons. */
export function confirmPortForward(
  service: string,
  route: Extract<AttachRoute, { kind: 'port-forward' }>,
  probe: RouteProbe,
): AttachRoute {
  if (probe.kind === 'agent') return route;
  return {
    kind: 'unreachable',
    reason: `service ${service}: ${route.why}; port-forward to pod ${route.pod}:${route.port}: ${describeProbe(probe)}`,
  };
}

/** What the console shows as the source of an agent reached by `route` (its URL is a local relay). */
export function describeRoute(namespace: string, service: string, route: AttachRoute): string {
  switch (route.kind) {
    case 'service-proxy':
      return `service proxy ${namespace}/${service}:api`;
    case 'port-forward':
      return `port-forward ${namespace}/${route.pod}:${route.port}`;
    case 'unreachable':
      return `service proxy ${namespace}/${service}:api (no answer yet)`;
    default: {
      const never: never = route;
      return never;
    }
  }
}
