/**
 * After a key press, waits until Ink has written no new frame for `quietMs` (at most `maxMs`), so
 * UI tests hold under load instead of guessing a fixed delay.
 */
export async function settle(frames: readonly string[], quietMs = 50, maxMs = 2000): Promise<void> {
  const start = Date.now();
  let seen = frames.length;
  let quietSince = Date.now();
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 10));
    if (frames.length !== seen) {
      seen = frames.length;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) return;
  }
}
