// backcare's action button (an anywidget ES module shipped in the package; nothing is fetched).
//
// Why it exists: ipywidgets sends at most one state update per widget at a time; a second
// change to the same widget waits in the browser until the kernel has answered the first.
// A button's click goes at once. So "pain 3 with four presses of the arrow key, then Record
// pain" on a busy kernel reached the kernel as: pain 0, click, pain 3, and stored 0.
// This button sends its click only when every widget in the form (`waits_for`, walked through
// its children as they are now) has sent all it holds. While it waits, it is busy: a second
// press does nothing, so a double click never sends two.

const POLL_MS = 25;
const GIVE_UP_MS = 60000; // a kernel that has not answered in a minute is gone

// True when this ipywidgets model holds no update the kernel has not yet been sent or answered.
// (_pending_msgs and _msg_buffer are the model's throttle; a model without them never waits.)
export function settledModel(m) {
  return !m || ((m._pending_msgs ?? 0) < 1 && (m._msg_buffer ?? null) === null);
}

// Every model under root (root included), following Box children as they are now.
export function modelsUnder(root) {
  const out = [];
  const seen = new Set();
  const walk = (m) => {
    if (!m || typeof m !== "object" || seen.has(m)) return;
    seen.add(m);
    out.push(m);
    const children = typeof m.get === "function" ? m.get("children") : null;
    if (Array.isArray(children)) children.forEach(walk);
  };
  walk(root);
  return out;
}

// Resolves when every model under root has settled (or after giveUpMs; true when settled).
export function whenSettled(root, { pollMs = POLL_MS, giveUpMs = GIVE_UP_MS } = {}) {
  const start = Date.now();
  return new Promise((resolve) => {
    const check = () => {
      if (modelsUnder(root).every(settledModel)) return resolve(true);
      if (Date.now() - start >= giveUpMs) return resolve(false);
      setTimeout(check, pollMs);
    };
    check();
  });
}

function render({ model, el }) {
  const button = document.createElement("button");
  button.type = "button";
  el.append(button);
  let busy = false;

  const draw = () => {
    const style = model.get("button_style");
    button.className = ["jupyter-widgets", "jupyter-button", "widget-button"]
      .concat(style ? [`mod-${style}`] : [])
      .concat(model.get("classes"))
      .join(" ");
    button.replaceChildren();
    const icon = model.get("icon");
    if (icon) {
      const i = document.createElement("i");
      i.className = `fa fa-${icon}`;
      i.setAttribute("aria-hidden", "true");
      button.append(i, document.createTextNode(" "));
    }
    button.append(document.createTextNode(model.get("description")));
    button.title = model.get("tooltip") || "";
    button.disabled = model.get("disabled") || busy;
    button.setAttribute("aria-busy", busy ? "true" : "false");
  };

  const root = async () => {
    const id = model.get("waits_for");
    if (!id || !model.widget_manager) return null;
    try {
      return await model.widget_manager.get_model(id);
    } catch (e) {
      return null; // the form is gone: nothing to wait for
    }
  };

  button.addEventListener("click", async () => {
    if (busy || model.get("disabled")) return;
    busy = true;
    draw();
    try {
      await whenSettled(await root());
      model.send({ event: "click" });
    } finally {
      busy = false;
      draw();
    }
  });
  const names = ["description", "icon", "button_style", "tooltip", "disabled", "classes"];
  for (const n of names) model.on(`change:${n}`, draw);
  draw();
  return () => {
    for (const n of names) model.off(`change:${n}`, draw);
  };
}

export default { render };
