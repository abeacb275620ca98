/** The first row to render so that `selected` stays inside a window of `visible` rows out of `count`. */
export function windowStart(count: number, selected: number, visible: number): number {
  return Math.min(Math.max(0, selected - visible + 1), Math.max(0, count - visible));
}
