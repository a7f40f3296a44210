// The document-number match on the scan page, sent without leaving the page: the number
// typed stays in its box and the answer appears beside it (the server never writes the
// number back into a page). Without this script the form posts as usual, to #match.
"use strict";
(function () {
  const form = document.querySelector("#match form");
  const answer = document.getElementById("match-answer");
  if (!form || !answer || !window.fetch || !window.DOMParser) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const response = await fetch(window.location.pathname, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
        cache: "no-store",
      });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("match-answer");
      answer.replaceChildren(...(fresh ? Array.from(fresh.childNodes) : []));
    } catch (error) {
      form.submit();
    } finally {
      button.disabled = false;
    }
  });
})();
