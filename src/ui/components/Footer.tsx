import { memo } from 'react';
import { Text } from 'ink';
import type { KeyBinding } from '../keys/keymap.js';

/** The keys of the current view, generated from the keymap. */
function FooterView({ bindings }: { readonly bindings: readonly KeyBinding[] }) {
  return (
    <Text wrap="truncate" color="gray">
      {bindings.map((b) => `<${b.label}> ${b.description}`).join('  ')}
    </Text>
  );
}

export const Footer = memo(FooterView);
