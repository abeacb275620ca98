import { memo } from 'react';
import { Box, Text } from 'ink';
import type { BannerLine } from '../module.js';
import { paintTone, usePaint } from '../theme.js';
import { Countdown } from './Countdown.js';

/** The lines above a view's tables (a cluster's leader and lease, a legend). */
function BannerView({ lines, now }: { readonly lines: readonly BannerLine[]; readonly now: () => number }) {
  const paint = usePaint();
  if (lines.length === 0) return null;
  return (
    <Box flexDirection="column" flexShrink={0}>
      {lines.map((line) => (
        <Text key={line.key} wrap="truncate" color={paintTone(paint, line.tone)}>
          {line.text}
          {line.countdown === undefined ? null : <Countdown until={line.countdown.until} now={now} />}
          {line.countdown?.after ?? ''}
        </Text>
      ))}
    </Box>
  );
}

export const Banner = memo(BannerView);
