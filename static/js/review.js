/* Review board: keyboard flow, player timecode, note markers, region drawing, bulk selection,
   synced compare playback. The board works without this file; it only makes it faster. */
(function () {
  "use strict";

  const FRAME = 1 / 24;
  let activeCardId = null;
  const reducedMotion = () =>
    window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

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
    card.scrollIntoView({ block: "nearest", behavior: reducedMotion() ? "auto" : "smooth" });
  }

  // --- announcements ----------------------------------------------------------------------------
  // One polite live region says what changed (a decision landed, a poll brought a new take) while
  // focus stays where the director left it.
  const announced = {};

  function announce(text) {
    const region = $(document, "[data-announcer]");
    if (!region || !text) return;
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 50);
  }

  function rememberCards() {
    cards().forEach((card) => { announced[card.id] = card.dataset.announce || ""; });
  }

  function announceChangedCards(extra) {
    const changes = [];
    cards().forEach((card) => {
      const now = card.dataset.announce || "";
      if (card.id in announced && announced[card.id] !== now && now) changes.push(now);
      announced[card.id] = now;
    });
    if (extra) changes.unshift(extra);
    if (changes.length) announce(changes.join(". ") + ".");
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
    const now = formatTime(video.currentTime);
    $(player, "[data-timecode]").textContent = now;
    $(player, "[data-progress]").style.width = (100 * video.currentTime) / duration + "%";
    const play = $(player, "[data-play]");
    $(play, "span").textContent = video.paused ? "▶" : "❚❚";
    play.setAttribute("aria-label", video.paused ? "Play" : "Pause");
    const scrub = $(player, "[data-scrub]");
    if (scrub && document.activeElement !== scrub) scrub.value = String(video.currentTime);
    if (scrub) scrub.setAttribute("aria-valuetext", now + " of " + formatTime(duration));
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
    const scrub = $(player, "[data-scrub]");
    video.addEventListener("loadedmetadata", () => { if (video.duration) scrub.max = String(video.duration); });
    scrub.addEventListener("input", () => seek(player, parseFloat(scrub.value) || 0, null));
    initDrawing(player);
  }

  // --- region drawing ---------------------------------------------------------------------------
  function initDrawing(player) {
    const card = player.closest("[data-shot-card]");
    const toggle = card && $(card, "[data-draw]");
    const layer = $(player, "[data-rect-layer]");
    if (!toggle || !layer) return;
    let origin = null;
    toggle.addEventListener("click", (event) => {
      const on = toggle.getAttribute("aria-pressed") !== "true";
      toggle.setAttribute("aria-pressed", String(on));
      layer.classList.toggle("drawing", on);
      if (on) $(player, "[data-video]").pause();
      // From the keyboard (no pointer position), start a centred region to move with the arrows.
      if (on && event.detail === 0) editRegion(player, card, { x: 0.25, y: 0.25, w: 0.5, h: 0.5 });
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
      keepRegion(player, card, rect);
    });
  }

  function describeRect(rect) {
    const pc = (v) => Math.round(v * 100) + "%";
    return pc(rect.w) + " wide, " + pc(rect.h) + " high, " + pc(rect.x) + " from the left, " +
      pc(rect.y) + " from the top";
  }

  function keepRegion(player, card, rect) {
    showRect(player, rect);
    $(card, "[data-note-rect]").value = JSON.stringify(rect);
    const toggle = $(card, "[data-draw]");
    toggle.setAttribute("aria-pressed", "false");
    toggle.textContent = "Region ✓";
    $(player, "[data-rect-layer]").classList.remove("drawing");
    announce("Region kept: " + describeRect(rect) + ". Type the note.");
    $(card, "[data-note-body]").focus();
  }

  // The region as a focusable box: arrows move it, Shift+arrows resize it, Enter keeps it.
  function editRegion(player, card, start) {
    let rect = { ...start };
    showRect(player, rect);
    const box = $(player, ".rect");
    box.tabIndex = 0;
    box.setAttribute("role", "group");
    box.setAttribute("aria-roledescription", "frame region");
    const label = () => box.setAttribute("aria-label", "Region " + describeRect(rect) +
      ". Arrows move, Shift and arrows resize, Enter keeps, Escape cancels.");
    label();
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    box.addEventListener("keydown", (event) => {
      const step = 0.02;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[event.key]) {
        const [dx, dy] = moves[event.key];
        if (event.shiftKey) {
          rect.w = clamp(rect.w + dx, 0.02, 1 - rect.x);
          rect.h = clamp(rect.h + dy, 0.02, 1 - rect.y);
        } else {
          rect.x = clamp(rect.x + dx, 0, 1 - rect.w);
          rect.y = clamp(rect.y + dy, 0, 1 - rect.h);
        }
        rect = Object.fromEntries(Object.entries(rect).map(([k, v]) => [k, +v.toFixed(4)]));
        ["x", "y", "w", "h"].forEach((k, i) => {
          box.style[["left", "top", "width", "height"][i]] = rect[k] * 100 + "%";
        });
        label();
        announce(describeRect(rect));  // a focused element's new label is not always re-read
      } else if (event.key === "Enter") {
        keepRegion(player, card, rect);
      } else if (event.key === "Escape") {
        showRect(player, null);
        const toggle = $(card, "[data-draw]");
        toggle.setAttribute("aria-pressed", "false");
        $(player, "[data-rect-layer]").classList.remove("drawing");
        announce("Region cancelled.");
        toggle.focus();
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
    });
    box.focus();
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
  // A native <dialog>: showModal() traps focus and makes the board inert; closing it (the button
  // or Esc) hands focus back to whatever opened it.
  let helpOpener = null;

  function help(open) {
    const dialog = document.getElementById("help-overlay");
    if (!dialog) return;
    if (open && !dialog.open) {
      helpOpener = document.activeElement;
      dialog.showModal();
      $(dialog, "[data-help-close]").focus();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const dialog = document.getElementById("help-overlay");
    if (!dialog) return;
    dialog.addEventListener("close", () => {
      const back = helpOpener && document.contains(helpOpener) ? helpOpener : null;
      helpOpener = null;
      if (back && back !== document.body && !back.matches("[data-shot-card]")) back.focus();
      else focusCard(activeCard());
    });
  });

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
      m: () => {
        const mute = $(card, "[data-mute]");
        if (mute && !mute.closest("[hidden]")) mute.click();
      },
      ",": () => player && seek(player, Math.max(0, $(player, "[data-video]").currentTime - FRAME)),
      ".": () => player && seek(player, $(player, "[data-video]").currentTime + FRAME),
    };
    if (!actions[key] || (!card && key !== "?")) return false;
    actions[key]();
    return true;
  }

  const NEEDS_FULL_CARD = new Set(["a", "r", "n", "c", "m", " ", ",", ".", "1", "2", "3", "4", "5", "6", "7"]);

  document.addEventListener("keydown", (event) => {
    if (document.querySelector("dialog[open]")) return;
    if (event.key === "Escape") {
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

  // A card a poll replaced while focus sat on one of its controls gets focus back on the same
  // control, or on the card: never on <body>.
  let restore = null;

  function focusKey(element, card) {
    if (element === card) return null;
    if (element.id) return "#" + CSS.escape(element.id);
    const attr = Array.from(element.attributes).find((a) => a.name.startsWith("data-"));
    if (attr) return "[" + attr.name + "]";
    if (element.name) return element.tagName.toLowerCase() + "[name='" + element.name + "']";
    return null;
  }

  function rememberFocus(card) {
    const active = document.activeElement;
    if (card && active && card.contains(active)) {
      restore = { cardId: card.id, key: focusKey(active, card) };
    }
  }

  function restoreFocus() {
    if (!restore) return false;
    const { cardId, key } = restore;
    restore = null;
    const active = document.activeElement;
    if (active && active !== document.body) return false;
    const card = document.getElementById(cardId);
    if (!card) return false;
    const control = key && $(card, key);
    if (control) control.focus(); else focusCard(card);
    return true;
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
    } else if (target && target.matches("[data-shot-card]")) {
      rememberFocus(target);
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
    const noted = /\/notes\/$/.test(path) && status === 200 && card;
    announceChangedCards(noted ? card.getAttribute("aria-label") + ": note added" : "");
    if (card && pendingKeys.length && !$(card, ".card-lazy")) {
      const waiting = pendingKeys.filter((p) => p.cardId === card.id);
      pendingKeys.splice(0, pendingKeys.length, ...pendingKeys.filter((p) => p.cardId !== card.id));
      waiting.forEach((p) => runKey(p.key, card));
      if (waiting.length) return;
    }
    if (restoreFocus()) return;
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
    const label = (playing) => {
      $(play, "[data-icon]").textContent = playing ? "❚❚" : "▶";
      $(play, "[data-label]").textContent = playing ? "Pause both" : "Play both";
    };
    lead.addEventListener("play", () => label(true));
    lead.addEventListener("pause", () => { label(false); follow.pause(); });
    lead.addEventListener("timeupdate", () => {
      clock.textContent = formatTime(lead.currentTime);
      scrub.setAttribute("aria-valuetext", formatTime(lead.currentTime));
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
    rememberCards();
    $$(document, "[data-compare-root]").forEach(initCompare);
    if (window.location.hash) {
      const card = document.getElementById(window.location.hash.slice(1));
      if (card && card.matches("[data-shot-card]")) focusCard(card);
    }
  });
})();
