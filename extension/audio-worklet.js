// Runs on the audio thread of the offscreen document: collects 100 ms of mono samples, resampled to
// 16 kHz, as PCM16, and posts each chunk to the page.
class MeetPilotCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / 16000;
    this.buffer = new Float32Array(Math.ceil(sampleRate / 10));
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (input && input.length) {
      const channels = input.length;
      for (let i = 0; i < input[0].length; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += input[c][i];
        this.buffer[this.filled++] = sum / channels;
        if (this.filled === this.buffer.length) this.flush();
      }
    }
    return true;
  }

  flush() {
    const out = new Int16Array(Math.floor(this.filled / this.ratio));
    for (let i = 0; i < out.length; i++) {
      const start = Math.floor(i * this.ratio);
      const end = Math.max(start + 1, Math.floor((i + 1) * this.ratio));
      let sum = 0;
      for (let j = start; j < end; j++) sum += this.buffer[j];
      const s = Math.max(-1, Math.min(1, sum / (end - start)));
      out[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
    }
    this.filled = 0;
    this.port.postMessage(out.buffer, [out.buffer]);
  }
}

registerProcessor("meetpilot-capture", MeetPilotCapture);
