import { createContext, useContext } from 'react';
import type { Tone } from './module.js';

/** Turns a colour name into what Ink gets: itself, or nothing when colour is off (NO_COLOR, `color: false`). */
export type Paint = (color: string) => string | undefined;

export const colorful: Paint = (color) => color;
export const colorless: Paint = () => undefined;

export const PaintContext = createContext<Paint>(colorful);

export function usePaint(): Paint {
  return useContext(PaintContext);
}

/** Colour is on unless the option says no or NO_COLOR is set to anything but the empty string (no-color.org). */
export function colorEnabled(option: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return option !== false && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

export const toneColor: Record<Tone, string | undefined> = {
  ok: 'green',
  warn: 'yellow',
  bad: 'red',
  stale: 'gray',
  plain: undefined,
  dim: 'gray',
};

export const severityTone: Record<string, Tone> = { info: 'plain', warn: 'warn', error: 'bad', debug: 'dim' };

export function paintTone(paint: Paint, tone: Tone): string | undefined {
  const color = toneColor[tone];
  return color === undefined ? undefined : paint(color);
}
