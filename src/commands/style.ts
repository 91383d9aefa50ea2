// Colour for people at a terminal only: never into a pipe or a file, never when NO_COLOR is
// set to anything non-empty (no-color.org) or TERM=dumb.
export function colourOn(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const wrap = (open: number, close: number) => (text: string, stream: NodeJS.WriteStream = process.stdout): string =>
  (colourOn(stream) ? `\u001b[${open}m${text}\u001b[${close}m` : text);

export const red = wrap(31, 39);
export const bold = wrap(1, 22);
