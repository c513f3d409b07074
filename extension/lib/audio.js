// Meeting audio for the server (docs/protocol.md, "Audio"): PCM16 mono 16 kHz little-endian in binary
// frames of [sequence: uint32 big-endian][PCM16 bytes], and the chunks not yet acknowledged.
(function (root) {
  const SAMPLE_RATE = 16000;

  // Float samples in [-1, 1] to PCM16 (clipped).
  function floatToPcm16(samples) {
    const out = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      out[i] = s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
    }
    return out;
  }

  // Averaging down-sampler for when the audio runs at another rate than 16 kHz.
  function downsample(samples, fromRate, toRate = SAMPLE_RATE) {
    if (fromRate === toRate) return samples;
    const ratio = fromRate / toRate;
    const out = new Float32Array(Math.floor(samples.length / ratio));
    for (let i = 0; i < out.length; i++) {
      const start = Math.floor(i * ratio);
      const end = Math.min(samples.length, Math.floor((i + 1) * ratio));
      let sum = 0;
      for (let j = start; j < end; j++) sum += samples[j];
      out[i] = sum / Math.max(1, end - start);
    }
    return out;
  }

  function audioFrame(sequence, pcm16) {
    const frame = new Uint8Array(4 + pcm16.byteLength);
    new DataView(frame.buffer).setUint32(0, sequence >>> 0, false);
    frame.set(new Uint8Array(pcm16.buffer, pcm16.byteOffset, pcm16.byteLength), 4);
    return frame;
  }

  function toBase64(bytes) {
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }

  function fromBase64(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  // Audio chunks until the server acks them ("buffered" or "duplicate"); resent in order after a reconnect.
  // Bounded: past `maxChunks` the oldest are dropped (and counted), since audio cannot wait forever.
  class AudioOutbox {
    constructor({ nextSequence = 0, maxChunks = 1200 } = {}) {
      this.nextSequence = nextSequence;
      this.maxChunks = maxChunks;
      this.chunks = new Map(); // sequence -> Uint8Array frame
      this.dropped = 0;
    }

    add(pcm16) {
      const sequence = this.nextSequence++;
      const frame = audioFrame(sequence, pcm16);
      this.chunks.set(sequence, frame);
      while (this.chunks.size > this.maxChunks) {
        this.chunks.delete(this.chunks.keys().next().value);
        this.dropped += 1;
      }
      return frame;
    }

    ack(sequence) {
      return this.chunks.delete(sequence);
    }

    pending() {
      return [...this.chunks.entries()].sort((a, b) => a[0] - b[0]).map(([, frame]) => frame);
    }

    get size() {
      return this.chunks.size;
    }
  }

  const api = { SAMPLE_RATE, floatToPcm16, downsample, audioFrame, toBase64, fromBase64, AudioOutbox };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MeetPilotAudio = api;
})(typeof self !== "undefined" ? self : globalThis);
