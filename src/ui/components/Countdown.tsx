import { useEffect, useState } from 'react';
import { Text } from 'ink';

/**
 * Seconds left until `until`, redrawn by its own 1 s timer while there is time left: only this
 * component re-renders each second, not the view around it.
 */
export function Countdown({ until, now }: { readonly until: number; readonly now: () => number }) {
  const [at, setAt] = useState(now);
  useEffect(() => {
    setAt(now());
    if (until <= now()) return;
    const timer = setInterval(() => {
      const t = now();
      setAt(t);
      if (t >= until) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [until, now]);
  return <Text>{(Math.max(0, until - at) / 1000).toFixed(1)}</Text>;
}
