import { Box, Text } from 'ink';
import type { PendingAction } from '../state/agent-actions.js';
import { formatBytes } from '../rows/failover-rows.js';

/** The agent's preview of a dangerous action, and the question. */
export function ConfirmPane({ pending, height }: { readonly pending: PendingAction; readonly height: number }) {
  const { preview } = pending;
  const args = Object.entries(pending.args)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return (
    <Box
      flexDirection="column"
      height={height}
      borderStyle="round"
      borderColor={preview.allowed ? 'yellow' : 'red'}
      paddingX={1}
    >
      <Text bold>
        {pending.action} {args} on {pending.agent}
      </Text>
      <Text>{preview.summary}</Text>
      {preview.effects.map((e, i) => (
        <Text key={i}> - {e}</Text>
      ))}
      {preview.dataLossBytes === undefined ? null : (
        <Text color={preview.dataLossBytes > 0 ? 'red' : 'green'}>
          expected data loss: {formatBytes(preview.dataLossBytes)}
        </Text>
      )}
      {preview.restarts === undefined || preview.restarts.length === 0 ? null : (
        <Text>restarts: {preview.restarts.join(', ')}</Text>
      )}
      {preview.allowed ? (
        <Text color="yellow">Proceed? y/enter = yes, n/esc = cancel</Text>
      ) : (
        <Text color="red">Not possible now: {preview.reason ?? 'refused'} (esc to close)</Text>
      )}
    </Box>
  );
}
