import { Text } from 'ink';
import type { ConsoleState } from '../state/console-state.js';
import type { Screen } from '../state/screen.js';
import { usePaint } from '../theme.js';

/** The line above the footer: a bad filter, the prompt being typed, a message, or the filter in force. */
export function StatusLine({ state, screen }: { state: ConsoleState; screen: Screen }) {
  const paint = usePaint();
  if (screen.filterError !== undefined)
    return (
      <Text color={paint('red')} wrap="truncate">
        {screen.filterError}
      </Text>
    );
  if (state.prompt.kind !== 'none') {
    const sigil = state.prompt.kind === 'filter' ? '/' : ':';
    return <Text color={paint('cyan')} wrap="truncate">{`${sigil}${state.prompt.text}█`}</Text>;
  }
  if (state.message !== '')
    return (
      <Text color={paint('yellow')} wrap="truncate">
        {state.message}
      </Text>
    );
  return <Text color={paint('cyan')} wrap="truncate">{`/${state.filter}  (esc clears)`}</Text>;
}
