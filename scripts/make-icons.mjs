// Draws the toolbar and notification icons (a blue tile with a white "rebound" ring and arrow head) as PNGs.
// Run once after changing the design: node scripts/make-icons.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
const crc32 = (buf) => {
  let c = -1;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
};
const chunk = (type, data) => {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
};

function icon(size) {
  const rows = [];
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const px = x + 0.5 - c;
      const py = y + 0.5 - c;
      const r = Math.hypot(px, py) / c;
      const angle = Math.atan2(py, px);
      const corner = Math.max(Math.abs(px), Math.abs(py)) / c;
      const tile = corner < 0.96 || Math.hypot(Math.abs(px) - c * 0.7, Math.abs(py) - c * 0.7) < c * 0.26;
      const ring = r > 0.42 && r < 0.66 && !(angle > -1.2 && angle < -0.2);
      // The arrow head at the ring's open end.
      const ax = px / c - 0.36;
      const ay = py / c + 0.42;
      const head = ay > -0.02 && ay < 0.3 && Math.abs(ax) < 0.3 - ay;
      const white = ring || head;
      const o = 1 + x * 4;
      if (!tile) row.writeUInt32BE(0, o);
      else if (white) row.writeUInt32BE(0xffffffff, o);
      else row.writeUInt32BE(0x1f5fbfff, o);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

mkdirSync('public/icon', { recursive: true });
for (const size of [16, 32, 48, 128]) writeFileSync(`public/icon/${size}.png`, icon(size));
