// backcare's disclosure button (an anywidget ES module shipped in the package; nothing is
// fetched): a real <button> that shows or hides one panel, with aria-expanded telling screen
// readers whether the panel is open (ipywidgets' ToggleButton says nothing of its state).

function render({ model, el }) {
  const button = document.createElement("button");
  button.type = "button";
  // as wide as its words, never wider than the screen (ipywidgets' buttons are 148 px)
  button.style.width = "auto";
  button.style.maxWidth = "100%";
  el.append(button);
  const draw = () => {
    const open = model.get("value");
    button.className = "jupyter-widgets jupyter-button widget-toggle-button backcare-disclosure-button"
      + (open ? " mod-active" : "");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.title = model.get("tooltip") || "";
    const icon = document.createElement("i");
    icon.className = `fa fa-${open ? "chevron-down" : "chevron-right"}`;
    icon.setAttribute("aria-hidden", "true");
    button.replaceChildren(icon, document.createTextNode(" " + model.get("description")));
  };
  button.addEventListener("click", () => {
    model.set("value", !model.get("value"));
    model.save_changes();
    draw();
  });
  const names = ["value", "description", "tooltip"];
  for (const n of names) model.on(`change:${n}`, draw);
  draw();
  return () => {
    for (const n of names) model.off(`change:${n}`, draw);
  };
}

export default { render };
