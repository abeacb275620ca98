import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

const fallback: TerminalSize = { columns: 100, rows: 30 };

/** The terminal's size, following resizes; `fixed` when given (tests render at a chosen size). */
export function useTerminalSize(fixed: TerminalSize | undefined): TerminalSize {
  const { stdout } = useStdout();
  const read = (): TerminalSize =>
    fixed ?? { columns: stdout.columns || fallback.columns, rows: stdout.rows || fallback.rows };
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed !== undefined) return;
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  });
  return fixed ?? size;
}
