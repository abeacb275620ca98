import { Box } from 'ink';
import type { ViewDef } from '../module.js';
import type { ConsoleState } from '../state/console-state.js';
import { helpLines } from '../state/panes.js';
import type { Screen } from '../state/screen.js';
import { Banner } from './Banner.js';
import { ConfirmPane, confirmHeading } from './ConfirmPane.js';
import { Table } from './Table.js';
import { TextPane } from './TextPane.js';

/** Between header and footer: the pane on top (confirm, help, text), else the view's banner and tables. */
export function Body({
  state,
  screen,
  width,
  height,
  now,
  views,
  readonly,
}: {
  state: ConsoleState;
  screen: Screen;
  width: number;
  height: number;
  now: () => number;
  views: readonly ViewDef[];
  readonly: boolean;
}) {
  const { overlay } = state;
  if (overlay.kind === 'confirm')
    return <ConfirmPane heading={confirmHeading(overlay.pending)} preview={overlay.pending.preview} height={height} />;
  if (overlay.kind === 'launch')
    return (
      <ConfirmPane
        heading={`${overlay.launcher.description} (from this console)`}
        preview={overlay.preview}
        height={height}
      />
    );
  if (overlay.kind === 'help')
    return (
      <TextPane
        title="Keys"
        lines={helpLines(screen, views, readonly)}
        scroll={overlay.scroll}
        width={width}
        height={height}
      />
    );
  if (overlay.kind === 'text')
    return (
      <TextPane title={overlay.title} lines={overlay.lines} scroll={overlay.scroll} width={width} height={height} />
    );
  const banner = screen.banner.slice(0, Math.max(0, Math.floor(height / 3)));
  const heights = tableHeights(screen, height - banner.length);
  return (
    <Box flexDirection="column" height={height} flexShrink={0}>
      <Banner lines={banner} now={now} />
      {screen.tables.map((t, i) => (
        <Table key={t.id} table={t} width={width} height={heights[i]!} focused={i === screen.focused} />
      ))}
    </Box>
  );
}

/** Every table but the last takes what it needs (up to its share); the last takes the rest. */
function tableHeights(screen: Screen, height: number): number[] {
  const n = screen.tables.length;
  let left = height;
  return screen.tables.map((t, i) => {
    if (i === n - 1) return Math.max(2, left);
    const chrome = 1 + (t.title === undefined ? 0 : 1);
    const need = chrome + Math.max(1, Math.min(t.rows.length, t.maxRows ?? Infinity));
    const h = Math.max(chrome + 1, Math.min(need, Math.floor(height / n)));
    left -= h;
    return h;
  });
}
