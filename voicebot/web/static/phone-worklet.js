// The test phone's AudioWorklet: microphone (the context's rate, usually 48 kHz) -> 8 kHz
// mono PCM16 in 20 ms frames (160 samples), posted to the page, which sends them to the
// gateway. Downsampling: two biquad low-passes at 3.4 kHz (the telephone band, against
// aliasing), then linear interpolation at the 8 kHz sample times.
"use strict";

const OUT_RATE = 8000;
const FRAME = 160;

class Biquad {
  constructor(rate, cutoff) {
    const w = (2 * Math.PI * cutoff) / rate;
    const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
    const cos = Math.cos(w);
    const a0 = 1 + alpha;
    this.b0 = (1 - cos) / 2 / a0;
    this.b1 = (1 - cos) / a0;
    this.b2 = this.b0;
    this.a1 = (-2 * cos) / a0;
    this.a2 = (1 - alpha) / a0;
    this.x1 = this.x2 = this.y1 = this.y2 = 0;
  }

  step(x) {
    const y = this.b0 * x + this.b1 * this.x1 + this.b2 * this.x2 - this.a1 * this.y1 - this.a2 * this.y2;
    this.x2 = this.x1;
    this.x1 = x;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

class Pcm8kProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / OUT_RATE; // input samples per output sample
    this.filters = sampleRate > OUT_RATE ? [new Biquad(sampleRate, 3400), new Biquad(sampleRate, 3400)] : [];
    this.pos = 0; // the next output sample's position, in input samples from `prev`
    this.prev = 0; // the last filtered input sample of the previous block
    this.frame = new Int16Array(FRAME);
    this.filled = 0;
  }

  emit(value) {
    const clipped = Math.max(-1, Math.min(1, value));
    this.frame[this.filled++] = clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff;
    if (this.filled === FRAME) {
      this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
      this.frame = new Int16Array(FRAME);
      this.filled = 0;
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) {
      return true;
    }
    const input = channels[0];
    const filtered = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) {
      let x = input[i];
      for (const f of this.filters) {
        x = f.step(x);
      }
      filtered[i] = x;
    }
    // sample k of this block sits at position k + 1 (position 0 is `prev`)
    while (this.pos <= input.length) {
      const i = Math.floor(this.pos);
      const frac = this.pos - i;
      const a = i === 0 ? this.prev : filtered[i - 1];
      const b = i >= input.length ? a : filtered[i];
      this.emit(a + (b - a) * frac);
      this.pos += this.step;
    }
    this.pos -= input.length;
    this.prev = filtered[input.length - 1];
    return true;
  }
}

registerProcessor("pcm8k", Pcm8kProcessor);
