import { Box, Text } from 'ink';
import { formatBytes } from '../format.js';
import type { ActionPreview } from '../../agents/kernel/snapshot.js';
import type { PendingAction } from '../module.js';
import { usePaint } from '../theme.js';

/** What a routed action does, on which entity, through which instance. */
export function confirmHeading(pending: PendingAction): string {
  const args = Object.entries(pending.args)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return `${pending.action}${args === '' ? '' : ` ${args}`} on ${pending.target} (via ${pending.via})`;
}

/** The preview of a dangerous action under its heading, and the question. */
export function ConfirmPane({
  heading,
  preview,
  height,
}: {
  readonly heading: string;
  readonly preview: ActionPreview;
  readonly height: number;
}) {
  const paint = usePaint();
  return (
    <Box
      flexDirection="column"
      height={height}
      flexShrink={0}
      borderStyle="round"
      borderColor={paint(preview.allowed ? 'yellow' : 'red')}
      paddingX={1}
    >
      <Text bold wrap="truncate">
        {heading}
      </Text>
      <Text wrap="truncate">{preview.summary}</Text>
      {preview.effects.map((e, i) => (
        <Text key={i} wrap="truncate">
          {` - ${e}`}
        </Text>
      ))}
      {preview.dataLossBytes === undefined ? null : (
        <Text color={paint(preview.dataLossBytes > 0 ? 'red' : 'green')}>
          expected data loss: {formatBytes(preview.dataLossBytes)}
        </Text>
      )}
      {preview.restarts === undefined || preview.restarts.length === 0 ? null : (
        <Text wrap="truncate">restarts: {preview.restarts.join(', ')}</Text>
      )}
      {preview.allowed ? (
        <Text color={paint('yellow')}>Proceed? y/enter = yes, n/esc = cancel</Text>
      ) : (
        <Text color={paint('red')} wrap="truncate">
          Not possible now: {preview.reason ?? 'refused'} (esc to close)
        </Text>
      )}
    </Box>
  );
}
