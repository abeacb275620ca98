import { memo, useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import type { AgentSnapshot } from '../../agents/kernel/snapshot.js';
import { clock } from '../rows/event-rows.js';

export interface HeaderProps {
  readonly agents: readonly AgentSnapshot[];
  readonly readonly: boolean;
  readonly context: { readonly kubeContext?: string; readonly namespace?: string };
  readonly view: string;
  readonly now?: () => number;
}

/** The clock shows hours and minutes and redraws once a minute: an idle console writes nothing. */
function HeaderView({ agents, readonly, context, view, now = Date.now }: HeaderProps) {
  const [time, setTime] = useState(now());
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    const tick = (): void => {
      const t = now();
      setTime(t);
      timer = setTimeout(tick, 60_000 - (t % 60_000) + 5);
    };
    timer = setTimeout(tick, 60_000 - (now() % 60_000) + 5);
    return () => clearTimeout(timer);
  }, [now]);
  const where = [context.kubeContext, context.namespace].filter((p) => p !== undefined).join('/');
  return (
    <Box justifyContent="space-between">
      <Text>
        <Text bold color="cyan">
          pgdeck
        </Text>
        {where === '' ? '' : <Text color="gray"> {where}</Text>}
        <Text bold> {view}</Text>
        {agents.map((a) => (
          <Text
            key={a.agent + (a.source.url ?? '')}
            color={
              a.source.stale
                ? 'gray'
                : a.health.status === 'ok'
                  ? 'green'
                  : a.health.status === 'starting'
                    ? 'white'
                    : 'yellow'
            }
          >
            {' '}
            {a.agent}:{a.health.status}
            {a.source.mode === 'attached' ? (a.source.stale ? '(stale)' : '(attached)') : ''}
          </Text>
        ))}
        {readonly ? (
          <Text color="black" backgroundColor="yellow">
            {' '}
            READ-ONLY{' '}
          </Text>
        ) : (
          ''
        )}
      </Text>
      <Text color="gray">{clock(time).slice(0, 5)}</Text>
    </Box>
  );
}

export const Header = memo(HeaderView);
