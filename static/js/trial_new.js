// The new-trial form from the keyboard: Ctrl+Enter (or ⌘+Enter) in the prompt runs the trial, and the
// model list is one tab stop whose checkboxes the arrow keys move between (a roving tabindex).
(() => {
  const form = document.getElementById("trial-form");
  if (!form) return;

  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA") {
      event.preventDefault();
      form.requestSubmit(form.querySelector("[data-testid=run-trial]"));
    }
  });

  const list = form.querySelector("[data-roving]");
  if (!list) return;
  const boxes = () => [...list.querySelectorAll("input[type=checkbox]:not(:disabled)")];
  const focusOnly = (current) => {
    for (const box of boxes()) box.tabIndex = box === current ? 0 : -1;
  };
  const all = boxes();
  if (!all.length) return;
  focusOnly(all.find((box) => box.checked) || all[0]);

  list.addEventListener("focusin", (event) => {
    if (event.target.matches("input[type=checkbox]")) focusOnly(event.target);
  });
  list.addEventListener("keydown", (event) => {
    const items = boxes();
    const index = items.indexOf(event.target);
    if (index < 0) return;
    const moves = { ArrowDown: index + 1, ArrowRight: index + 1, ArrowUp: index - 1, ArrowLeft: index - 1, Home: 0, End: items.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = items[(moves[event.key] + items.length) % items.length];
    focusOnly(next);
    next.focus();
  });
})();
