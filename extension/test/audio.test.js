const test = require("node:test");
const assert = require("node:assert/strict");
const audio = require("../lib/audio.js");

test("float samples become clipped PCM16", () => {
  assert.deepEqual([...audio.floatToPcm16(new Float32Array([0, 1, -1, 0.5, 2, -3]))],
    [0, 32767, -32768, 16384, 32767, -32768]);
});

test("a frame is the big-endian sequence then the little-endian samples", () => {
  const frame = audio.audioFrame(258, new Int16Array([1, -2]));
  assert.deepEqual([...frame], [0, 0, 1, 2, 1, 0, 0xfe, 0xff]);
});

test("down-sampling 48 kHz to 16 kHz averages each group of three", () => {
  assert.deepEqual([...audio.downsample(new Float32Array([0.3, 0.3, 0.3, -0.6, 0, 0]), 48000)].map((x) => +x.toFixed(3)),
    [0.3, -0.2]);
});

test("the outbox keeps chunks until acked, resends in order and drops the oldest past its bound", () => {
  const box = new audio.AudioOutbox({ maxChunks: 3 });
  for (let i = 0; i < 4; i++) box.add(new Int16Array([i]));
  assert.equal(box.dropped, 1);
  assert.equal(box.ack(2), true);
  assert.equal(box.ack(2), false);
  assert.deepEqual(box.pending().map((f) => new DataView(f.buffer).getUint32(0)), [1, 3]);
});

test("base64 round trip for messages between documents", () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  assert.deepEqual([...audio.fromBase64(audio.toBase64(bytes))], [...bytes]);
});
