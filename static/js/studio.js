/* Live regions for htmx updates: a swapped element carrying data-live-summary has its summary read
   out through the page's polite [data-announcer] region when it changes, so progress is heard
   without moving focus or re-reading a whole section. */
(function () {
  "use strict";

  const said = new Map();

  function summaries() {
    return Array.from(document.querySelectorAll("[data-live-summary]"));
  }

  document.addEventListener("DOMContentLoaded", () => {
    summaries().forEach((el) => said.set(el.id, el.dataset.liveSummary));
  });

  document.addEventListener("htmx:afterSettle", () => {
    const region = document.querySelector("[data-announcer]");
    if (!region) return;
    summaries().forEach((el) => {
      const text = el.dataset.liveSummary;
      if (said.get(el.id) === text) return;
      said.set(el.id, text);
      region.textContent = text;
    });
  });
})();
