import { memo } from 'react';
import { Text } from 'ink';
import { usePaint } from '../theme.js';

/** The current view's keys first, then the shared ones, generated from the keymap and the modules. */
function FooterView({ items }: { readonly items: readonly { readonly label: string; readonly hint: string }[] }) {
  const paint = usePaint();
  return (
    <Text wrap="truncate" color={paint('gray')}>
      {items.map((b) => `<${b.label}> ${b.hint}`).join(' ')}
    </Text>
  );
}

export const Footer = memo(FooterView);
