// The client review page: take a note's time from the player, and seek to a note's time.
(function () {
  "use strict";

  function videoOf(element) {
    const shot = element.closest(".client-shot");
    return shot ? shot.querySelector("[data-video]") : null;
  }

  function useTime(shot) {
    const video = shot.querySelector("[data-video]");
    const start = shot.querySelector("[data-note-start]");
    if (video && start) start.value = video.currentTime.toFixed(2);
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-use-time], [data-seek]");
    if (!button) return;
    if (button.matches("[data-use-time]")) {
      useTime(button.closest(".client-shot"));
      return;
    }
    const video = videoOf(button);
    if (video) {
      video.currentTime = parseFloat(button.dataset.seek) || 0;
      video.focus();
    }
  });

  // Starting to write a note pauses the clip and pins the note where the client stopped, unless
  // they typed a time themselves.
  document.addEventListener("focusin", function (event) {
    if (!event.target.matches("[data-note-body]")) return;
    const shot = event.target.closest(".client-shot");
    const video = shot.querySelector("[data-video]");
    const start = shot.querySelector("[data-note-start]");
    if (!video || !start || start.dataset.typed) return;
    if (!video.paused) video.pause();
    if (video.currentTime > 0) useTime(shot);
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-note-start]")) event.target.dataset.typed = "1";
  });
})();
