// CRC-32C (Castagnoli), the checksum of OP_MSG's optional checksum section. Node has no native
// CRC-32C; slicing-by-8 tables keep it fast enough for the rare client that sends one.
const POLYNOMIAL = 0x82f63b78;

const [t0, t1, t2, t3, t4, t5, t6, t7]: Uint32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[0][n];
    for (let k = 1; k < 8; k++) {
      c = t[0][c & 0xff] ^ (c >>> 8);
      t[k][n] = c >>> 0;
    }
  }
  return t;
})();

/** CRC-32C of bytes[start..end]; pass a previous result as `running` to continue over several pieces. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, running = 0): number {
  let crc = (running ^ 0xffffffff) >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc =
      t7[a & 0xff] ^
      t6[(a >>> 8) & 0xff] ^
      t5[(a >>> 16) & 0xff] ^
      t4[a >>> 24] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]];
  }
  for (; i < end; i++) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
