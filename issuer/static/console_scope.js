// The scope editor's occupation search, as one types: the catalogue's matches (GET
// /console/occupations?q=…, JSON) fill the list that 添加 adds a row from. Without this
// script the 查找 button asks the server the same and the page comes back with them.
"use strict";
(function () {
  const box = document.getElementById("occupation-q");
  const list = document.getElementById("occupation-matches");
  const count = document.getElementById("match-count");
  if (!box || !list || !count || !window.fetch) return;
  let timer = 0;
  let latest = 0;

  async function search() {
    const query = box.value.trim();
    const asked = ++latest;
    if (!query) {
      list.replaceChildren();
      count.textContent = "";
      return;
    }
    try {
      const response = await fetch(`${box.dataset.search}?q=${encodeURIComponent(query)}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok || asked !== latest) return;
      const found = await response.json();
      if (asked !== latest) return; // a later search has answered first
      list.replaceChildren(...found.occupations.map((o) => new Option(`${o.name}（${o.code}）`, o.code)));
      if (list.options.length) list.selectedIndex = 0;
      count.textContent = list.options.length ? "" : box.dataset.none;
    } catch (error) {
      // the 查找 button still asks the server
    }
  }

  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault(); // Enter searches here, the page stays
      clearTimeout(timer);
      search();
    }
  });
})();
