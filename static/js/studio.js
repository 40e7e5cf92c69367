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
