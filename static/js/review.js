/* Review board: keyboard flow, player timecode, note markers, region drawing, bulk selection,
   synced compare playback. The board works without this file; it only makes it faster. */
(function () {
  "use strict";

  const FRAME = 1 / 24;
  let activeCardId = null;

  const $ = (root, selector) => root.querySelector(selector);
  const $$ = (root, selector) => Array.from(root.querySelectorAll(selector));
  const cards = () => $$(document, "[data-shot-card]");
  const activeCard = () =>
    (document.activeElement && document.activeElement.closest("[data-shot-card]")) ||
    (activeCardId && document.getElementById(activeCardId)) ||
    cards()[0] || null;

  function formatTime(seconds) {
    const minutes = Math.floor(seconds / 60);
    const rest = seconds - minutes * 60;
    return String(minutes).padStart(2, "0") + ":" + rest.toFixed(2).padStart(5, "0");
  }

  function focusCard(card) {
    if (!card) return;
    activeCardId = card.id;
    openCard(card);
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  // --- player -----------------------------------------------------------------------------------
  function showRect(player, rect) {
    const layer = $(player, "[data-rect-layer]");
    if (!layer) return;
    layer.innerHTML = "";
    if (!rect) return;
    const box = document.createElement("div");
    box.className = "rect";
    box.style.left = rect.x * 100 + "%";
    box.style.top = rect.y * 100 + "%";
    box.style.width = rect.w * 100 + "%";
    box.style.height = rect.h * 100 + "%";
    layer.appendChild(box);
  }

  function seek(player, seconds, rect) {
    const video = $(player, "[data-video]");
    video.pause();
    video.currentTime = seconds;
    showRect(player, rect);
    updateTime(player);
  }

  function updateTime(player) {
    const video = $(player, "[data-video]");
    const duration = video.duration || parseFloat(player.dataset.duration) || 1;
    $(player, "[data-timecode]").textContent = formatTime(video.currentTime);
    $(player, "[data-progress]").style.width = (100 * video.currentTime) / duration + "%";
    $(player, "[data-play]").textContent = video.paused ? "▶" : "❚❚";
  }

  function togglePlay(player) {
    const video = $(player, "[data-video]");
    if (video.paused) { showRect(player, null); video.play(); } else { video.pause(); }
  }

  function initPlayer(player) {
    if (player.dataset.ready) return;
    player.dataset.ready = "1";
    const video = $(player, "[data-video]");
    // The native controls are there for people without JavaScript; the transport replaces them.
    video.removeAttribute("controls");
    video.addEventListener("click", () => togglePlay(player));
    ["timeupdate", "seeked", "play", "pause", "loadedmetadata"].forEach((name) =>
      video.addEventListener(name, () => updateTime(player)));
    $(player, "[data-play]").addEventListener("click", () => togglePlay(player));
    $(player, "[data-timeline]").addEventListener("click", (event) => {
      if (event.target.closest("[data-seek]")) return;
      const bounds = event.currentTarget.getBoundingClientRect();
      const duration = video.duration || parseFloat(player.dataset.duration) || 0;
      seek(player, ((event.clientX - bounds.left) / bounds.width) * duration, null);
    });
    initDrawing(player);
  }

  // --- region drawing ---------------------------------------------------------------------------
  function initDrawing(player) {
    const card = player.closest("[data-shot-card]");
    const toggle = card && $(card, "[data-draw]");
    const layer = $(player, "[data-rect-layer]");
    if (!toggle || !layer) return;
    let origin = null;
    toggle.addEventListener("click", () => {
      const on = toggle.getAttribute("aria-pressed") !== "true";
      toggle.setAttribute("aria-pressed", String(on));
      layer.classList.toggle("drawing", on);
      if (on) $(player, "[data-video]").pause();
    });
    const point = (event) => {
      const bounds = layer.getBoundingClientRect();
      return {
        x: Math.min(1, Math.max(0, (event.clientX - bounds.left) / bounds.width)),
        y: Math.min(1, Math.max(0, (event.clientY - bounds.top) / bounds.height)),
      };
    };
    const rectFrom = (a, b) => ({
      x: +Math.min(a.x, b.x).toFixed(4), y: +Math.min(a.y, b.y).toFixed(4),
      w: +Math.abs(a.x - b.x).toFixed(4), h: +Math.abs(a.y - b.y).toFixed(4),
    });
    layer.addEventListener("pointerdown", (event) => {
      if (!layer.classList.contains("drawing")) return;
      origin = point(event);
      layer.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    layer.addEventListener("pointermove", (event) => {
      if (origin) showRect(player, rectFrom(origin, point(event)));
    });
    layer.addEventListener("pointerup", (event) => {
      if (!origin) return;
      const rect = rectFrom(origin, point(event));
      origin = null;
      if (rect.w < 0.01 || rect.h < 0.01) return;
      showRect(player, rect);
      $(card, "[data-note-rect]").value = JSON.stringify(rect);
      toggle.setAttribute("aria-pressed", "false");
      toggle.textContent = "Region ✓";
      layer.classList.remove("drawing");
      $(card, "[data-note-body]").focus();
    });
  }

  // --- notes ------------------------------------------------------------------------------------
  function markTime(card, which) {
    const video = $(card, "[data-video]");
    const input = $(card, which === "in" ? "[data-note-start]" : "[data-note-end]");
    if (!video || !input) return;
    video.pause();
    input.value = video.currentTime.toFixed(2);
  }

  function startNote(card) {
    markTime(card, "in");
    const body = $(card, "[data-note-body]");
    if (body) body.focus();
  }

  // --- decisions and selection ------------------------------------------------------------------
  function submitWith(card, selector) {
    // A click (not requestSubmit) so htmx sends the button's verdict with the form.
    const button = $(card, selector);
    if (button) button.click();
  }

  function reject(card) {
    const reason = $(card, "[data-reason]");
    if (!reason) return;
    if (reason.value) { submitWith(card, "[data-reject]"); return; }
    reason.classList.add("needs-reason");
    reason.focus();
  }

  function pickReason(card, digit) {
    const reason = $(card, "[data-reason]");
    if (!reason || digit >= reason.options.length) return false;
    reason.selectedIndex = digit;
    reason.classList.remove("needs-reason");
    return true;
  }

  function updateBulkCount() {
    const counter = $(document, "[data-bulk-count]");
    if (!counter) return;
    const selected = $$(document, "[data-select-take]:checked");
    counter.textContent = selected.length ? selected.length + " selected" : "No takes selected";
    $$(document, "[data-shot-card]").forEach((card) => {
      const box = $(card, "[data-select-take]");
      card.classList.toggle("selected", !!(box && box.checked));
    });
  }

  function toggleSelect(card) {
    const box = $(card, "[data-select-take]");
    if (!box) return;
    box.checked = !box.checked;
    updateBulkCount();
  }

  // --- help overlay -----------------------------------------------------------------------------
  function help(open) {
    const overlay = document.getElementById("help-overlay");
    if (!overlay) return;
    overlay.hidden = !open;
    if (open) $(overlay, "[data-help-close]").focus();
    else focusCard(activeCard());
  }

  // --- keyboard ---------------------------------------------------------------------------------
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  // Keys pressed on a compact card wait until it has opened in full, then run in order.
  const pendingKeys = [];

  function openCard(card) {
    const lazy = card && $(card, ".card-lazy");
    if (lazy && window.htmx) window.htmx.trigger(lazy, "review:open");
    return !!lazy;
  }

  function runKey(key, card) {
    const player = card && $(card, "[data-player]");
    const list = cards();
    const index = list.indexOf(card);
    if (card && /^[1-7]$/.test(key)) return pickReason(card, Number(key));
    const actions = {
      "?": () => help(true),
      j: () => focusCard(list[Math.min(list.length - 1, index + 1)]),
      k: () => focusCard(list[Math.max(0, index - 1)]),
      a: () => submitWith(card, "[data-approve]"),
      r: () => reject(card),
      n: () => startNote(card),
      x: () => toggleSelect(card),
      c: () => {
        const link = $(card, "[data-compare]") || $(card, ".take-history a.small-link");
        if (link) window.location.href = link.href;
      },
      " ": () => player && togglePlay(player),
      ",": () => player && seek(player, Math.max(0, $(player, "[data-video]").currentTime - FRAME)),
      ".": () => player && seek(player, $(player, "[data-video]").currentTime + FRAME),
    };
    if (!actions[key] || (!card && key !== "?")) return false;
    actions[key]();
    return true;
  }

  const NEEDS_FULL_CARD = new Set(["a", "r", "n", "c", " ", ",", ".", "1", "2", "3", "4", "5", "6", "7"]);

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      help(false);
      if (typing(event.target)) { event.target.blur(); focusCard(activeCard()); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || !$(document, "[data-shot-card]")) return;
    const card = activeCard();
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (card && NEEDS_FULL_CARD.has(key) && $(card, ".card-lazy")) {
      event.preventDefault();
      pendingKeys.push({ cardId: card.id, key });
      openCard(card);
      return;
    }
    if (runKey(key, card)) event.preventDefault();
  });

  // --- wiring (also for cards swapped in by htmx) ------------------------------------------------
  function init(root) {
    $$(root, "[data-player]").forEach(initPlayer);
    if (root.matches && root.matches("[data-player]")) initPlayer(root);
    updateBulkCount();
  }

  document.addEventListener("click", (event) => {
    const seekButton = event.target.closest("[data-seek]");
    if (seekButton) {
      const card = seekButton.closest("[data-shot-card]");
      const player = card && $(card, "[data-player]");
      if (player) {
        seek(player, parseFloat(seekButton.dataset.seek),
          seekButton.dataset.rect ? JSON.parse(seekButton.dataset.rect) : null);
      }
      return;
    }
    const card = event.target.closest("[data-shot-card]");
    if (card) activeCardId = card.id;
    if (event.target.closest("[data-mark-in]")) markTime(card, "in");
    if (event.target.closest("[data-mark-out]")) markTime(card, "out");
    if (event.target.closest("[data-help-open]")) help(true);
    if (event.target.closest("[data-help-close]")) help(false);
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-select-take]")) updateBulkCount();
    if (event.target.matches("[data-reason]")) event.target.classList.remove("needs-reason");
  });
  document.addEventListener("focusin", (event) => {
    const card = event.target.closest && event.target.closest("[data-shot-card]");
    if (card) activeCardId = card.id;
  });

  // A poll must not yank a card from under a director who is playing or typing in it.
  function busy(card) {
    if (!card) return false;
    const video = $(card, "[data-video]");
    const typed = $$(card, "textarea, input[type=text]").some((field) => field.value.trim());
    return (video && !video.paused) || typed || card.contains(document.activeElement) &&
      typing(document.activeElement);
  }
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const target = event.detail.target;
    if (target && target.matches("[data-shot-card]") && busy(target)) {
      event.detail.shouldSwap = false;
      target.classList.add("card-stale");
    }
  });
  // A card skipped while busy catches up on the next poll once its director is done with it.
  function refreshStaleCards() {
    $$(document, "[data-shot-card].card-stale").forEach((card) => {
      if (busy(card) || !window.htmx) return;
      card.classList.remove("card-stale");
      window.htmx.ajax("GET", card.dataset.cardUrl, { target: card, swap: "outerHTML" });
    });
  }

  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt && event.detail.elt.id === "board-poll") refreshStaleCards();
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    init(document);
    const target = event.detail.elt;
    const card = target && target.closest && target.closest("[data-shot-card]");
    const path = (event.detail.requestConfig && event.detail.requestConfig.path) || "";
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (card && pendingKeys.length && !$(card, ".card-lazy")) {
      const waiting = pendingKeys.filter((p) => p.cardId === card.id);
      pendingKeys.splice(0, pendingKeys.length, ...pendingKeys.filter((p) => p.cardId !== card.id));
      waiting.forEach((p) => runKey(p.key, card));
      if (waiting.length) return;
    }
    if (!card || card.id !== activeCardId) return;
    // Only put focus back when the swap took it away (never pull it out of a field).
    const active = document.activeElement;
    if (active && active !== document.body && active !== card) return;
    if (/\/decide\/$/.test(path) && status === 200) {
      const list = cards();
      focusCard(list[list.indexOf(card) + 1] || card);
    } else {
      focusCard(card);
    }
  });

  // --- compare: two players, one transport ------------------------------------------------------
  function initCompare(root) {
    const videos = $$(root, "[data-compare-video]");
    if (videos.length !== 2) return;
    const [lead, follow] = videos;
    const play = $(root, "[data-compare-play]");
    const clock = $(root, "[data-compare-time]");
    const scrub = $(root, "[data-compare-scrub]");
    const sync = (from, to) => {
      if (Math.abs(to.currentTime - from.currentTime) > 0.08) to.currentTime = from.currentTime;
    };
    const both = (fn) => videos.forEach(fn);
    play.addEventListener("click", () => {
      if (lead.paused) { sync(lead, follow); both((v) => v.play()); } else { both((v) => v.pause()); }
    });
    lead.addEventListener("play", () => { play.textContent = "❚❚ Pause both"; });
    lead.addEventListener("pause", () => { play.textContent = "▶ Play both"; follow.pause(); });
    lead.addEventListener("timeupdate", () => {
      clock.textContent = formatTime(lead.currentTime);
      if (lead.duration) scrub.value = String((lead.currentTime / lead.duration) * 1000);
      if (!lead.paused) sync(lead, follow);
    });
    scrub.addEventListener("input", () => {
      const t = (Number(scrub.value) / 1000) * (lead.duration || 0);
      both((v) => { v.pause(); v.currentTime = Math.min(t, v.duration || t); });
      clock.textContent = formatTime(t);
    });
    document.addEventListener("keydown", (event) => {
      if (typing(event.target)) return;
      if (event.key === " ") { event.preventDefault(); play.click(); }
      if (event.key === ",") { both((v) => { v.pause(); v.currentTime = Math.max(0, v.currentTime - FRAME); }); }
      if (event.key === ".") { both((v) => { v.pause(); v.currentTime += FRAME; }); }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    init(document);
    $$(document, "[data-compare-root]").forEach(initCompare);
    if (window.location.hash) {
      const card = document.getElementById(window.location.hash.slice(1));
      if (card && card.matches("[data-shot-card]")) focusCard(card);
    }
  });
})();
