// The reference every CLI figure of `npm run bench` is a ratio to: FILE read as UTF-8 text in
// 1 MiB chunks and split at each newline, in a plain node process (started like the CLI).
import { createReadStream } from 'node:fs';
let lines = 0, rest = '';
for await (const chunk of createReadStream(process.argv[2], { encoding: 'utf8', highWaterMark: 1 << 20 })) {
  const parts = (rest + chunk).split('\n');
  rest = parts.pop() ?? '';
  lines += parts.length;
}
console.log(lines + (rest ? 1 : 0));
