import { Box, Text } from 'ink';
import { usePaint } from '../theme.js';

/** Detail, YAML, logs and help: a titled, bordered pane of lines, scrolled by the console's state. */
export function TextPane({
  title,
  lines,
  scroll,
  width,
  height,
}: {
  readonly title: string;
  readonly lines: readonly string[];
  readonly scroll: number;
  readonly width: number;
  readonly height: number;
}) {
  const paint = usePaint();
  const visible = Math.max(1, height - 3);
  const from = Math.max(0, Math.min(scroll, lines.length - visible));
  const shown = lines.slice(from, from + visible);
  const where = lines.length > visible ? ` (${from + 1}-${from + shown.length} of ${lines.length}, j/k scroll)` : '';
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      flexShrink={0}
      borderStyle="round"
      borderColor={paint('cyan')}
      paddingX={1}
    >
      <Text bold wrap="truncate">
        {`${title}${where}  esc: back`}
      </Text>
      {shown.map((line, i) => (
        <Text key={from + i} wrap="truncate">
          {line === '' ? ' ' : line}
        </Text>
      ))}
    </Box>
  );
}
