// Keyboard navigation for catalog search: arrows move through results, Enter opens, "/" returns.
(function () {
  "use strict";

  function links() {
    return Array.from(document.querySelectorAll("#results .hit-link"));
  }

  document.addEventListener("keydown", function (event) {
    const box = document.getElementById("id_q");
    if (!box) return;
    const items = links();
    const index = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown") {
      if (document.activeElement === box && items.length) {
        items[0].focus();
      } else if (index >= 0 && index < items.length - 1) {
        items[index + 1].focus();
      } else {
        return;
      }
      event.preventDefault();
    } else if (event.key === "ArrowUp" && index >= 0) {
      (index === 0 ? box : items[index - 1]).focus();
      event.preventDefault();
    } else if (event.key === "/" && document.activeElement !== box &&
               !["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) {
      box.focus();
      box.select();
      event.preventDefault();
    }
  });
})();
