// Colour for people at a terminal only: never into a pipe or a file unless FORCE_COLOR asks
// for it, never when NO_COLOR is set to anything non-empty (no-color.org; it wins over
// FORCE_COLOR), never at TERM=dumb. FORCE_COLOR=0 (or "false") turns colour off at a
// terminal too, as chalk and Node's own util.inspect read it.
export function colourOn(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR) return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if (process.env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const wrap = (open: number, close: number) => (text: string, stream: NodeJS.WriteStream = process.stdout): string =>
  (colourOn(stream) ? `\u001b[${open}m${text}\u001b[${close}m` : text);

export const red = wrap(31, 39);
export const green = wrap(32, 39);
export const bold = wrap(1, 22);
