// The certificate list: a box that ticks every certificate of the page that can be ticked.
"use strict";
(function () {
  const all = document.getElementById("select-all");
  if (!all) return;
  const boxes = () => Array.from(document.querySelectorAll('input[name="number"][form="bulk"]:not(:disabled)'));
  all.disabled = boxes().length === 0;
  all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
})();
