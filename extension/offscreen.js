// The offscreen document that captures the meeting tab's sound (tabCapture stream id from the service
// worker), keeps it audible, and sends PCM16 16 kHz chunks of 100 ms to the service worker.
let context = null;
let stream = null;

async function start(streamId) {
  await stop();
  stream = await navigator.mediaDevices.getUserMedia({
    audio: { mandatory: { chromeMediaSource: "tab", chromeMediaSourceId: streamId } }, video: false });
  context = new AudioContext();
  await context.audioWorklet.addModule("audio-worklet.js");
  const source = context.createMediaStreamSource(stream);
  const capture = new AudioWorkletNode(context, "meetpilot-capture");
  capture.port.onmessage = (event) => {
    const bytes = new Uint8Array(event.data);
    chrome.runtime.sendMessage({ type: "audio", data: self.MeetPilotAudio.toBase64(bytes) }).catch(() => {});
  };
  source.connect(capture);
  source.connect(context.destination); // capturing a tab mutes it: play it back to the user
}

async function stop() {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  if (context) await context.close().catch(() => {});
  stream = null;
  context = null;
}

chrome.runtime.onMessage.addListener((message) => {
  if (message.target !== "offscreen") return false;
  if (message.type === "start") start(message.streamId).catch((err) =>
    chrome.runtime.sendMessage({ type: "audio-failed", message: String(err && err.message || err) }));
  else if (message.type === "stop") stop();
  return false;
});
