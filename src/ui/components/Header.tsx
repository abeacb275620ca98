import { memo, useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import { formatClock } from '../format.js';
import type { EntityGroup, SourceView } from '../module.js';
import { usePaint } from '../theme.js';

export interface HeaderProps {
  readonly sources: readonly SourceView[];
  readonly groups: readonly EntityGroup[];
  readonly readonly: boolean;
  readonly context: { readonly kubeContext?: string; readonly namespace?: string };
  readonly view: string;
  readonly width: number;
  readonly now: () => number;
}

function sourcesText(sources: readonly SourceView[]): string {
  const live = sources.filter((s) => s.live).length;
  const attached = sources.filter((s) => s.where !== 'in-process').length;
  const mode = attached === 0 ? 'in-process' : attached === sources.length ? 'attached' : 'attached+in-process';
  return `sources ${live}/${sources.length} live (${mode})`;
}

function entitiesText(groups: readonly EntityGroup[]): string {
  const kinds = new Map<string, number>();
  for (const g of groups) kinds.set(g.kind, (kinds.get(g.kind) ?? 0) + 1);
  return [...kinds].map(([kind, n]) => `${kind} ×${n}`).join(' ');
}

/** The header's text after the view's name: what the sources and entities are (what a flush can change). */
export function headerSummary(sources: readonly SourceView[], groups: readonly EntityGroup[]): string {
  return [entitiesText(groups), sourcesText(sources)].filter((s) => s !== '').join(' · ');
}

/** One line that never wraps: what and where on the left (cut with …), the clock on the right. */
function HeaderView({ sources, groups, readonly, context, view, width, now }: HeaderProps) {
  const paint = usePaint();
  const [time, setTime] = useState(now);
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
  const clock = formatClock(time).slice(0, 5);
  const left = Math.max(10, width - clock.length - 1);
  const rest = headerSummary(sources, groups);
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Box width={left} height={1}>
        <Text wrap="truncate">
          <Text bold color={paint('cyan')}>
            pgdeck
          </Text>
          {where === '' ? '' : <Text color={paint('gray')}> {where}</Text>}
          <Text bold> {view}</Text>
          {readonly ? (
            <Text color={paint('black')} backgroundColor={paint('yellow')} inverse={!paint('yellow')}>
              {' READ-ONLY '}
            </Text>
          ) : (
            ''
          )}
          <Text color={paint('gray')}> · {rest}</Text>
        </Text>
      </Box>
      <Text color={paint('gray')}> {clock}</Text>
    </Box>
  );
}

export const Header = memo(HeaderView);
