import { Box, Text } from 'ink';
import { fit } from '../rows/event-rows.js';
import type { KeyBinding } from '../keys/keymap.js';

/** `?`: every binding of the keymap, with all its keys. */
export function HelpPane({ bindings, height }: { readonly bindings: readonly KeyBinding[]; readonly height: number }) {
  return (
    <Box flexDirection="column" height={height} borderStyle="round" borderColor="cyan" paddingX={1}>
      <Text bold>Keys</Text>
      {bindings.map((b) => (
        <Text key={b.command}>
          {fit(b.keys.join(', '), 16)}
          {b.description}
          {b.dangerous ? <Text color="red"> (changes something)</Text> : ''}
        </Text>
      ))}
    </Box>
  );
}
