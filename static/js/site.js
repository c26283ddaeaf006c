// The site's only script besides htmx: no inline <script> or on*= handlers anywhere, so the
// Content-Security-Policy can forbid inline script (model output on a page could carry some).

// Copy buttons; delegated so columns swapped in by htmx work too.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const output = document.querySelector(button.dataset.copy);
  navigator.clipboard?.writeText(output.textContent).then(() => { button.textContent = "Copied"; });
});

// Bars whose widths come from the data (compare's win rates): set through the CSSOM, which the
// policy allows, instead of style="" attributes, which it does not.
function sizeBars(root) {
  for (const part of root.querySelectorAll("[data-share]")) {
    part.style.width = `${Number(part.dataset.share) || 0}%`;
  }
}
document.addEventListener("DOMContentLoaded", () => sizeBars(document));
document.addEventListener("htmx:afterSwap", (event) => sizeBars(event.target));
