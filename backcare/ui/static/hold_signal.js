// backcare's hold-timer signal (an anywidget ES module, shipped in the package; nothing is
// fetched). The kernel counts the hold down and sends cues; this module
//   - plays a short sound for each cue (Web Audio, made here: no sound file),
//   - vibrates where the device can (navigator.vibrate) when a hold starts and at the end,
//   - announces the count to screen readers in a live region that stays on the page,
//   - draws the "Mute timer sound" switch, remembered in this browser's localStorage.
// Muting silences the sounds only: the vibration and the announcements stay.

const KEY = "backcare.holdTimer.muted";
let context = null;

function audio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  if (!context) context = new Context();
  if (context.state === "suspended") context.resume().catch(() => {});
  return context;
}

// Browsers let a page make sound only after a press: the first press anywhere (usually the
// Start button) prepares the audio, so that the cue at the end of the hold can be heard.
function unlock() {
  try {
    audio();
  } catch (e) {
    /* no sound on this device */
  }
}
if (!window.__backcareHoldAudio) {
  window.__backcareHoldAudio = true;
  document.addEventListener("pointerdown", unlock, { capture: true, passive: true });
  document.addEventListener("keydown", unlock, { capture: true, passive: true });
}

function tone(c, frequency, at, seconds) {
  const osc = c.createOscillator();
  const gain = c.createGain();
  osc.type = "sine";
  osc.frequency.value = frequency;
  gain.gain.setValueAtTime(0.0001, at);
  gain.gain.exponentialRampToValueAtTime(0.3, at + 0.01);
  gain.gain.exponentialRampToValueAtTime(0.0001, at + seconds);
  osc.connect(gain);
  gain.connect(c.destination);
  osc.start(at);
  osc.stop(at + seconds + 0.05);
}

const SOUNDS = {
  count: [[440, 0, 0.08]],
  go: [[880, 0, 0.2]],
  pause: [[660, 0, 0.15]],
  done: [
    [660, 0, 0.18],
    [880, 0.22, 0.18],
    [1320, 0.44, 0.35],
  ],
};
const VIBRATIONS = { go: 80, done: [200, 100, 200] };

function play(cue) {
  const notes = SOUNDS[cue];
  if (!notes) return;
  let c = null;
  try {
    c = audio();
  } catch (e) {
    return;
  }
  if (!c) return;
  const t = c.currentTime + 0.02;
  for (const [f, after, len] of notes) tone(c, f, t + after, len);
}

function vibrate(cue) {
  const pattern = VIBRATIONS[cue];
  if (pattern === undefined || typeof navigator.vibrate !== "function") return;
  try {
    navigator.vibrate(pattern);
  } catch (e) {
    /* not allowed here */
  }
}

function storedMuted() {
  try {
    const v = window.localStorage.getItem(KEY);
    return v === null ? null : v === "1";
  } catch (e) {
    return null; // storage blocked: the switch still works for this page
  }
}

function render({ model, el }) {
  el.classList.add("backcare-hold-signal");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "backcare-sound-switch";
  button.textContent = "Mute timer sound";
  const state = document.createElement("span");
  state.className = "backcare-sound-state";
  state.setAttribute("aria-hidden", "true");
  const live = document.createElement("div");
  live.className = "backcare-hold-live";
  live.setAttribute("role", "status");
  live.setAttribute("aria-live", "polite");
  el.append(button, state, live);

  const stored = storedMuted();
  if (stored !== null && stored !== model.get("muted")) {
    model.set("muted", stored);
    model.save_changes();
  }
  const draw = () => {
    const muted = !!model.get("muted");
    button.setAttribute("aria-pressed", muted ? "true" : "false");
    state.textContent = muted ? "Sound off" : "Sound on";
  };
  draw();
  button.addEventListener("click", () => {
    const muted = !model.get("muted");
    model.set("muted", muted);
    model.save_changes();
    try {
      window.localStorage.setItem(KEY, muted ? "1" : "0");
    } catch (e) {
      /* storage blocked: remembered for this page only */
    }
    draw();
  });
  const onChange = () => draw();
  const onMessage = (msg) => {
    if (!msg || typeof msg !== "object") return;
    if (typeof msg.say === "string" && msg.say) live.textContent = msg.say;
    if (msg.cue) {
      if (!model.get("muted")) play(msg.cue);
      vibrate(msg.cue);
    }
  };
  model.on("change:muted", onChange);
  model.on("msg:custom", onMessage);
  return () => {
    model.off("change:muted", onChange);
    model.off("msg:custom", onMessage);
  };
}

export default { render };
