import { RedisStreams } from '../adapters/redis.js';
import { PgdeckError } from '../kernel/errors.js';
import { autoscalerConfigSchema } from './config.js';
import { eventFields, parseEntry } from './events.js';

/** What `pgdeck autoscaler send` was given (flags, with the replaced tool's environment names behind them). */
export interface SendInput {
  readonly type?: string;
  readonly podCount?: string;
  readonly taskId?: string;
  readonly target?: string;
  readonly redisHost?: string;
  readonly redisPort?: string;
  readonly redisStream?: string;
}

export interface SendPlan {
  readonly host: string;
  readonly port: number;
  readonly stream: string;
  readonly fields: Readonly<Record<string, string>>;
}

const FLAG_OF: Readonly<Record<string, string>> = {
  type: '--type',
  pod_count: '--pod-count',
  task_id: '--task-id',
  target: '--target',
};

const DEFAULTS = autoscalerConfigSchema.shape.redis.parse({});

/**
 * Checks a test event as the agent would and says where it goes; a mistake is one `invalid-argument`
 * line naming the flag (`--pod-count: pod_count must be a whole number, got "abc"`).
 */
export function planSend(input: SendInput, env: Readonly<Record<string, string | undefined>>): SendPlan {
  const fields: Record<string, string> = {};
  if (input.type !== undefined) fields.type = input.type;
  if (input.podCount !== undefined) fields.pod_count = input.podCount;
  if (input.taskId !== undefined) fields.task_id = input.taskId;
  if (input.target !== undefined) fields.target = input.target;
  const limit = autoscalerConfigSchema.parse({ consumer: 'send', agentImage: 'send' }).podCountLimit;
  const parsed = parseEntry('0-0', fields, limit, input.target === undefined ? [] : [input.target]);
  if (parsed.kind === 'malformed') {
    const first = parsed.reason.split('; ')[0] ?? parsed.reason;
    const field = Object.keys(FLAG_OF).find((f) => first.startsWith(f));
    throw new PgdeckError('invalid-argument', `${field === undefined ? 'event' : FLAG_OF[field]}: ${first}`);
  }
  const portText = input.redisPort ?? env.REDIS_PORT ?? String(DEFAULTS.port);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    throw new PgdeckError('invalid-argument', `--redis-port: expected a port number, got "${portText}"`);
  return {
    host: input.redisHost ?? env.REDIS_HOST ?? DEFAULTS.host,
    port,
    stream: input.redisStream ?? env.REDIS_STREAM ?? DEFAULTS.stream,
    fields: eventFields(parsed.event),
  };
}

/** XADDs the event, as the replaced test-event tool did; returns the entry ID. */
export async function sendScaleEvent(
  plan: SendPlan,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs = 5000,
): Promise<string> {
  const password = env.REDIS_PASSWORD;
  const redis = new RedisStreams({
    host: plan.host,
    port: plan.port,
    ...(password === undefined || password === '' ? {} : { password }),
    name: 'pgdeck-send',
    commandTimeoutMs: timeoutMs,
  });
  try {
    if (!(await redis.waitConnected(timeoutMs)))
      throw new PgdeckError(
        'unavailable',
        redis.state().lastError?.message ?? `redis at ${plan.host}:${plan.port} did not answer within ${timeoutMs} ms`,
      );
    return await redis.add(plan.stream, plan.fields);
  } finally {
    redis.close();
  }
}
