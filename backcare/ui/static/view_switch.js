// backcare's view switch (an anywidget ES module shipped in the package; nothing is fetched):
// one real <button> per view, aria-pressed telling which is shown, operable by keyboard.

function render({ model, el }) {
  el.classList.add("backcare-view-switch");
  const group = document.createElement("div");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", model.get("label"));
  el.append(group);
  const buttons = [];
  const draw = () => {
    const value = model.get("value");
    for (const b of buttons) {
      b.setAttribute("aria-pressed", b.dataset.view === value ? "true" : "false");
    }
  };
  const build = () => {
    group.replaceChildren();
    buttons.length = 0;
    for (const name of model.get("options")) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = name;
      b.dataset.view = name;
      b.addEventListener("click", () => {
        model.set("value", name);
        model.save_changes();
        draw();
      });
      buttons.push(b);
      group.append(b);
    }
    draw();
  };
  build();
  model.on("change:value", draw);
  model.on("change:options", build);
  return () => {
    model.off("change:value", draw);
    model.off("change:options", build);
  };
}

export default { render };
