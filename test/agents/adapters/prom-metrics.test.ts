import { describe, expect, it } from 'vitest';
import { createPromMetrics } from '../../../src/agents/adapters/prom-metrics.js';

describe('createPromMetrics', () => {
  it('exposes the agent metrics with their labels in Prometheus text format', async () => {
    const metrics = createPromMetrics();
    metrics.pass('failover', 0.02, 'ok');
    metrics.pass('failover', 0.5, 'error');
    metrics.error('failover', 'unavailable');
    metrics.action('failover', 'switchover', 'refused');
    metrics.gauge('failover', 'members', 3);
    metrics.stuck('failover', true);
    const { contentType, body } = await metrics.metricsText();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('pgdeck_agent_passes_total{agent="failover",outcome="ok"} 1');
    expect(body).toContain('pgdeck_agent_passes_total{agent="failover",outcome="error"} 1');
    expect(body).toContain('pgdeck_agent_pass_duration_seconds_count{agent="failover"} 2');
    expect(body).toContain('pgdeck_agent_errors_total{agent="failover",kind="unavailable"} 1');
    expect(body).toContain('pgdeck_agent_actions_total{agent="failover",action="switchover",outcome="refused"} 1');
    expect(body).toContain('pgdeck_agent_gauge{agent="failover",name="members"} 3');
    expect(body).toContain('pgdeck_agent_stuck{agent="failover"} 1');
    expect(body).toContain('process_cpu_user_seconds_total');
  });

  it('keeps registries apart', async () => {
    const a = createPromMetrics({ defaultMetrics: false });
    const b = createPromMetrics({ defaultMetrics: false });
    a.error('x', 'internal');
    expect((await b.metricsText()).body).not.toContain('agent="x"');
    expect((await a.metricsText()).body).not.toContain('process_cpu');
  });
});
