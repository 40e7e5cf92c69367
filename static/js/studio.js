// The Content-Security-Policy refuses inline style attributes, so templates put an element's
// computed style (a swatch's colour, a bar's width, a note's place on the timeline) in
// data-style and this applies it through the CSSOM, which the policy allows: on the first load
// and on every piece of content htmx swaps in.
(function () {
  "use strict";

  function applyStyles(root) {
    if (root.matches && root.matches("[data-style]")) {
      root.style.cssText = root.dataset.style;
    }
    root.querySelectorAll("[data-style]").forEach(function (element) {
      element.style.cssText = element.dataset.style;
    });
  }

  // No eval and no injected <style> element: the policy allows neither, and studio.css styles the
  // request indicators. Set here rather than in a meta tag, which a page's own htmx-config meta
  // (the board's response handling) would shadow; htmx reads both once the document is parsed.
  htmx.config.allowEval = false;
  htmx.config.includeIndicatorStyles = false;
  htmx.onLoad(applyStyles);
})();

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
