// GPT-2's reversible byte <-> unicode map (bytes_to_unicode in openai/gpt-2 encoder.py):
// printable bytes map to themselves, the other 68 to code points from 256 up, so every
// byte string becomes a string of visible characters BPE can work on (' ' becomes 'Ġ').

function buildMaps(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const byteToChar: string[] = new Array(256);
  for (const b of printable) byteToChar[b] = String.fromCodePoint(b);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    if (byteToChar[b] === undefined) byteToChar[b] = String.fromCodePoint(256 + next++);
  }
  const charToByte = new Map(byteToChar.map((c, b) => [c, b]));
  return { byteToChar, charToByte };
}

const { byteToChar, charToByte } = buildMaps();

export const BYTE_TO_CHAR: readonly string[] = byteToChar;

export function bytesToSymbols(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += byteToChar[b];
  return out;
}

export function symbolsToBytes(symbols: string): Uint8Array {
  const out: number[] = [];
  for (const ch of symbols) {
    const b = charToByte.get(ch);
    if (b === undefined) throw new Error(`byte-level decode: character U+${ch.codePointAt(0)!.toString(16)} is not in the byte map`);
    out.push(b);
  }
  return Uint8Array.from(out);
}
