import { keyName } from './keymap.js';

/** One key press: its name as the key tables spell it, and the text it types. */
export interface KeyPress {
  readonly name: string;
  readonly text: string;
}

const controls: Record<string, string> = {
  '\r': 'return',
  '\n': 'return',
  '\t': 'tab',
  '\x7f': 'backspace',
  '\b': 'backspace',
};

/**
 * What Ink hands `useInput`, as key presses. Ink passes a chunk of plain text in one call (a paste, a
 * slow ssh link), Enter and Tab included: each character is its own press, so `pg2⏎` is text, then Enter.
 */
export function keyPresses(input: string, key: Parameters<typeof keyName>[1] & { meta?: boolean }): KeyPress[] {
  const named = keyName(input, key);
  // Ink reads Esc followed at once by a key as Alt+key; the console has no Alt keys: it is Esc, then the key.
  if (key.meta === true && named === input && input !== '')
    return [{ name: 'escape', text: '' }, ...keyPresses(input, {})];
  if (named !== input || input.length <= 1) {
    const only = controls[input];
    return [{ name: only ?? named, text: only === undefined && named === input ? input : '' }];
  }
  return [...input].map((ch) => {
    const control = controls[ch];
    if (control !== undefined) return { name: control, text: '' };
    const code = ch.codePointAt(0)!;
    if (code < 0x20) return { name: `ctrl+${String.fromCodePoint(code + 0x60)}`, text: '' };
    return { name: ch, text: ch };
  });
}
