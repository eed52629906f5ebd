// The trainer's test phone (/agent/phone): microphone -> AudioWorklet (8 kHz PCM16) ->
// WebSocket /agent/phone/ws -> the bot; the bot's audio is played back, and the turns
// (text, intent, confidence) and slots are shown as they arrive. No library, no CDN.
"use strict";

(function () {
  const RATE = 8000;
  const root = document.getElementById("phone");
  if (!root) {
    return;
  }
  const $ = (id) => document.getElementById(id);
  const callButton = $("phone-call");
  const hangupButton = $("phone-hangup");
  const status = $("phone-status");
  const transcript = $("transcript");
  const slots = $("slots");
  let ws = null;
  let ctx = null;
  let mic = null;
  let worklet = null;
  let playing = [];
  let playAt = 0;

  function setStatus(text, state) {
    status.textContent = text;
    root.dataset.state = state;
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : Math.round(value * 100) + " %";
  }

  function showTurn(turn) {
    let item = transcript.querySelector('li[data-seq="' + turn.seq + '"]');
    if (!item) {
      // in the order spoken (a caller's turn is numbered once recognised, after the answer
      // may have begun): by start time, then number
      item = document.createElement("li");
      item.dataset.seq = String(turn.seq);
      item.dataset.start = turn.started_at || "";
      const later = [...transcript.children].find(
        (li) => li.dataset.start > item.dataset.start && item.dataset.start !== "",
      );
      transcript.insertBefore(item, later || null);
    }
    item.dataset.speaker = turn.speaker;
    item.textContent = "";
    const who = document.createElement("strong");
    who.textContent = turn.speaker === "caller" ? "Sie: " : "Bot: ";
    item.appendChild(who);
    const text = document.createElement("span");
    text.className = "turn-text";
    text.textContent = turn.dtmf ? "Taste " + turn.dtmf : turn.text;
    item.appendChild(text);
    if (turn.speaker === "caller") {
      const meta = document.createElement("span");
      meta.className = "turn-intent muted small";
      meta.dataset.intent = turn.intent || "";
      meta.textContent =
        " · Intent " + (turn.intent || "–") + " (" + percent(turn.confidence) + "), ASR " + percent(turn.asr_confidence);
      item.appendChild(meta);
    }
    item.scrollIntoView({ block: "nearest" });
  }

  function showSlots(values) {
    slots.textContent = "";
    const names = Object.keys(values).sort();
    if (names.length === 0) {
      const empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = "Noch keine Slots gefüllt.";
      slots.appendChild(empty);
      return;
    }
    const list = document.createElement("dl");
    for (const name of names) {
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      const value = values[name];
      dd.textContent = typeof value === "string" ? value : JSON.stringify(value);
      dd.dataset.slot = name;
      list.append(dt, dd);
    }
    slots.appendChild(list);
  }

  function play(buffer) {
    const pcm = new Int16Array(buffer);
    const audio = ctx.createBuffer(1, pcm.length, RATE);
    const samples = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) {
      samples[i] = pcm[i] / 32768;
    }
    const source = ctx.createBufferSource();
    source.buffer = audio;
    source.connect(ctx.destination);
    playAt = Math.max(playAt, ctx.currentTime + 0.06);
    source.start(playAt);
    playAt += audio.duration;
    playing.push(source);
    source.onended = () => {
      playing = playing.filter((s) => s !== source);
    };
    root.dataset.botAudio = String(Number(root.dataset.botAudio || "0") + 1);
  }

  function clearPlayback() {
    for (const source of playing) {
      try {
        source.stop();
      } catch (e) {
        // already stopped
      }
    }
    playing = [];
    playAt = 0;
  }

  function onMessage(event) {
    if (event.data instanceof ArrayBuffer) {
      play(event.data);
      return;
    }
    const message = JSON.parse(event.data);
    if (message.type === "call") {
      root.dataset.callId = message.call_id;
      $("phone-call-id").textContent = message.call_id;
      setStatus("Verbunden. Sprechen Sie jetzt.", "connected");
    } else if (message.type === "turn") {
      showTurn(message);
    } else if (message.type === "slots") {
      showSlots(message.slots);
    } else if (message.type === "clear") {
      clearPlayback();
    } else if (message.type === "transfer") {
      setStatus("Übergabe an " + message.target + " (Vorgang " + message.handoff_id + ").", "transfer");
    } else if (message.type === "ended") {
      root.dataset.endReason = message.reason;
    }
  }

  async function stopAudio() {
    if (mic) {
      mic.mediaStream.getTracks().forEach((t) => t.stop());
      mic.disconnect();
      mic = null;
    }
    if (worklet) {
      worklet.port.onmessage = null;
      worklet.disconnect();
      worklet = null;
    }
  }

  async function call() {
    callButton.disabled = true;
    transcript.textContent = "";
    showSlots({});
    setStatus("Mikrofon wird freigegeben …", "starting");
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      ctx = ctx || new AudioContext();
      await ctx.resume();
      await ctx.audioWorklet.addModule("/agent/static/phone-worklet.js");
      mic = ctx.createMediaStreamSource(stream);
      worklet = new AudioWorkletNode(ctx, "pcm8k", { numberOfInputs: 1, numberOfOutputs: 0 });
    } catch (error) {
      setStatus("Kein Mikrofon: " + error.message, "error");
      callButton.disabled = false;
      await stopAudio();
      return;
    }
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/agent/phone/ws");
    ws.binaryType = "arraybuffer";
    ws.onmessage = onMessage;
    ws.onopen = () => {
      setStatus("Verbindung wird aufgebaut …", "dialing");
      worklet.port.onmessage = (event) => {
        if (ws && ws.readyState === WebSocket.OPEN) {
          ws.send(event.data);
        }
      };
      mic.connect(worklet);
      hangupButton.disabled = false;
      root.querySelectorAll(".keypad button").forEach((b) => (b.disabled = false));
    };
    ws.onclose = async (event) => {
      await stopAudio();
      ws = null;
      const reason = root.dataset.endReason || event.reason || "getrennt";
      if (root.dataset.state !== "transfer") {
        setStatus("Aufgelegt (" + reason + ").", "ended");
      }
      root.dataset.state = "ended";
      callButton.disabled = false;
      hangupButton.disabled = true;
      root.querySelectorAll(".keypad button").forEach((b) => (b.disabled = true));
    };
  }

  function hangup() {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "hangup" }));
    }
    clearPlayback();
  }

  callButton.addEventListener("click", call);
  hangupButton.addEventListener("click", hangup);
  root.querySelectorAll(".keypad button").forEach((button) => {
    button.addEventListener("click", () => {
      if (ws && ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: "dtmf", digit: button.dataset.digit }));
      }
    });
  });
})();
