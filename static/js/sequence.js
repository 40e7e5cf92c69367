/* Sequence player: the current take of every shot played back to back on two stacked decks.
   The deck on screen plays shot N while the hidden one holds shot N+1, loaded and paused at its
   first frame; on `ended` the decks swap, so the cut has no gap. Decisions and notes go to the
   board's own endpoints (same forms, permissions and 409s); the page works as a list without
   this file. */
(function () {
  "use strict";

  const FRAME = 1 / 24;
  const root = document.querySelector("[data-sequence]");
  if (!root) return;
  const decks = Array.from(root.querySelectorAll("[data-seq-video]"));
  const $ = (selector) => document.querySelector(selector);
  let clips = [];
  let index = 0; // the clip under the playhead
  let active = 0; // the deck on screen

  function formatTime(seconds) {
    const minutes = Math.floor(seconds / 60);
    const rest = seconds - minutes * 60;
    return String(minutes).padStart(2, "0") + ":" + rest.toFixed(2).padStart(5, "0");
  }

  function announce(text) {
    const region = $("[data-announcer]");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 50);
  }

  function readClips() {
    clips = Array.from(document.querySelectorAll("[data-clip]")).map((el) => ({
      el,
      shot: el.dataset.shot,
      label: el.dataset.label,
      take: el.dataset.take,
      src: el.dataset.src,
      start: parseFloat(el.dataset.start),
      duration: parseFloat(el.dataset.duration),
      version: el.dataset.version,
      status: el.dataset.status,
      decidable: el.dataset.decidable === "1",
      decideUrl: el.dataset.decideUrl,
      noteUrl: el.dataset.noteUrl,
    }));
    const timeline = $("[data-seq-timeline]");
    if (timeline) timeline.hidden = false;
  }

  const deck = () => decks[active];
  const spare = () => decks[1 - active];

  function load(video, i) {
    const clip = clips[i];
    video.dataset.clipIndex = clip ? String(i) : "";
    if (!clip) return;
    if (video.dataset.src !== clip.src) {
      video.dataset.src = clip.src;
      video.src = clip.src;
      video.load();
    }
  }

  // A deck still loading takes its position once it knows its length; a later seek (a frame
  // step pressed meanwhile) replaces the waiting one rather than being undone by it.
  function seekTo(video, seconds) {
    if (video.readyState >= 1) { video.currentTime = seconds; return; }
    const waiting = video.pendingSeek !== undefined;
    video.pendingSeek = seconds;
    if (waiting) return;
    video.addEventListener("loadedmetadata", () => {
      video.currentTime = video.pendingSeek;
      delete video.pendingSeek;
      render();
    }, { once: true });
  }

  const position = (video) => (video.pendingSeek !== undefined ? video.pendingSeek : video.currentTime || 0);

  // The hidden deck waits on the next clip's first frame, decoded, so the swap is instant.
  function preloadNext() {
    const next = spare();
    next.pause();
    if (index + 1 >= clips.length) return;
    load(next, index + 1);
    seekTo(next, 0);
  }

  function showDeck(which) {
    active = which;
    decks.forEach((video, i) => {
      video.classList.toggle("is-active", i === active);
      video.setAttribute("aria-hidden", String(i !== active));
    });
  }

  function go(i, offset, play) {
    if (!clips.length) return;
    index = Math.max(0, Math.min(clips.length - 1, i));
    deck().pause();
    // The next shot is usually waiting on the hidden deck already: show it rather than reload.
    if (spare().dataset.clipIndex === String(index)) showDeck(1 - active);
    const video = deck();
    spare().pause();
    load(video, index);
    seekTo(video, offset || 0);
    if (play) video.play(); else video.pause();
    preloadNext();
    render();
  }

  function onEnded(event) {
    if (event.target !== deck()) return;
    if (index + 1 >= clips.length) { render(); return; }
    const next = spare();
    if (next.dataset.clipIndex !== String(index + 1)) { load(next, index + 1); seekTo(next, 0); }
    next.play();
    index += 1;
    showDeck(1 - active);
    preloadNext();
    render();
  }

  function togglePlay() {
    const video = deck();
    if (!clips.length) return;
    if (video.paused) {
      if (video.ended && index === clips.length - 1) { go(0, 0, true); return; }
      video.play();
    } else {
      video.pause();
    }
  }

  // Both decks share one mute state, so a cut never brings the sound back.
  function toggleMute() {
    const muted = !decks[0].muted;
    decks.forEach((video) => { video.muted = muted; });
    const button = $("[data-seq-mute]");
    button.setAttribute("aria-pressed", String(muted));
    button.querySelector("[data-seq-mute-label]").textContent = muted ? "Unmute" : "Mute";
    announce(muted ? "Sound off" : "Sound on");
  }

  function step(direction) {
    const video = deck();
    video.pause();
    const clip = clips[index];
    seekTo(video, Math.max(0, Math.min(clip.duration, position(video) + direction * FRAME)));
    render();
  }

  function render() {
    const clip = clips[index];
    if (!clip) return;
    const video = deck();
    const now = clip.start + position(video);
    const total = parseFloat($("#sequence-data").dataset.total) || 1;
    root.dataset.activeShot = clip.label;
    $("[data-seq-time]").textContent = formatTime(now);
    $("[data-seq-shot-label]").textContent = clip.label + " · " + clip.status;
    const playhead = $("[data-seq-playhead]");
    if (playhead) playhead.style.left = (100 * now) / total + "%";
    const scrub = $("[data-seq-scrub]");
    if (document.activeElement !== scrub) scrub.value = String(now);
    scrub.setAttribute("aria-valuetext", formatTime(now) + ", " + clip.label);
    const play = $("[data-seq-play]");
    play.querySelector("span").textContent = video.paused ? "▶" : "❚❚";
    play.setAttribute("aria-label", video.paused ? "Play" : "Pause");
    clips.forEach((other, i) => {
      if (i === index) other.el.setAttribute("aria-current", "true");
      else other.el.removeAttribute("aria-current");
    });
    document.querySelectorAll("[data-seq-goto]").forEach((el) => {
      if (!el.hasAttribute("data-seq-offset")) el.classList.toggle("is-current", el.dataset.seqGoto === clip.shot);
    });
    $("[data-seq-panel-title]").textContent = clip.label + ": " + clip.status;
    const version = $("[data-seq-version]");
    if (version) version.value = clip.version;
    const decide = $("[data-seq-decide]");
    if (decide) decide.querySelectorAll("button").forEach((b) => { b.disabled = !clip.decidable; });
    const noteAt = $("[data-seq-note-at]");
    const noteField = $("[data-seq-note-time]");
    if (noteAt && document.activeElement !== $("#seq-note-body")) {
      noteField.value = position(video).toFixed(2);
      noteAt.textContent = formatTime(position(video));
    }
  }

  function atSequenceTime(seconds) {
    let i = clips.findIndex((clip) => seconds < clip.start + clip.duration);
    if (i < 0) i = clips.length - 1;
    go(i, Math.max(0, seconds - clips[i].start), false);
  }

  // --- deciding and noting through the board's endpoints ------------------------------------------
  function say(flash, error) {
    $("[data-seq-flash]").textContent = flash || "";
    $("[data-seq-error]").textContent = error || "";
  }

  function cardText(doc, selector) {
    const el = doc.querySelector(selector);
    if (!el) return "";
    const copy = el.cloneNode(true);
    copy.querySelectorAll("form, a, .conflict-yours").forEach((child) => child.remove());
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  async function post(url, data) {
    // As htmx would: the endpoint answers with the shot's card, or 409/422 with the reason.
    let response;
    try {
      response = await fetch(url, { method: "POST", body: data, headers: { "HX-Request": "true" } });
    } catch (error) {
      say("", "The server could not be reached; nothing was saved.");
      return false;
    }
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    if (response.status === 409) {
      say("", cardText(doc, ".conflict") + " Decide again to apply yours anyway.");
    } else if (response.status === 422) {
      say("", cardText(doc, ".card-error, .field-error"));
    } else if (response.ok) {
      say(cardText(doc, ".card-flash"), "");
    } else {
      say("", "That was refused (" + response.status + ").");
    }
    await refresh();
    return response.ok;
  }

  // Reload the timeline and list (statuses, versions, markers) without touching the decks.
  function refresh() {
    return window.htmx.ajax("GET", window.location.pathname, { target: "#sequence-data", swap: "outerHTML" });
  }

  // A playlist's poll replaces the timeline and list: whoever was on a marker or a link in them
  // gets focus back on the same one, never on <body>.
  let refocus = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    const active = document.activeElement;
    const data = $("#sequence-data");
    refocus = null;
    if (event.detail.target !== data || !active || !data.contains(active)) return;
    const attrs = ["data-seq-goto", "data-seq-offset", "href"].filter((name) => active.hasAttribute(name));
    refocus = attrs.map((name) => "[" + name + '="' + CSS.escape(active.getAttribute(name)) + '"]').join("");
  });
  document.addEventListener("htmx:afterSettle", () => {
    readClips();
    render();
    const again = refocus && $("#sequence-data " + refocus);
    refocus = null;
    if (again) again.focus();
  });

  const decideForm = $("[data-seq-decide]");
  if (decideForm) {
    decideForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const clip = clips[index];
      const data = new FormData(decideForm, event.submitter);
      data.set("version", clip.version);
      post(clip.decideUrl, data);
    });
  }
  const noteForm = $("[data-seq-note]");
  const noteBody = $("#seq-note-body");
  // Writing a note stops the picture on the moment it is about.
  noteBody.addEventListener("focus", () => { deck().pause(); render(); });
  noteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const clip = clips[index];
    const data = new FormData(noteForm);
    data.set("timecode_start", position(deck()).toFixed(2));
    if (await post(clip.noteUrl, data)) noteBody.value = "";
  });

  // --- controls -----------------------------------------------------------------------------------
  decks.forEach((video) => {
    video.addEventListener("ended", onEnded);
    ["timeupdate", "seeked", "play", "pause"].forEach((name) =>
      video.addEventListener(name, () => { if (video === deck()) render(); }));
    video.addEventListener("click", togglePlay);
  });
  $("[data-seq-play]").addEventListener("click", togglePlay);
  $("[data-seq-mute]").addEventListener("click", toggleMute);
  $("[data-seq-next]").addEventListener("click", () => go(index + 1, 0, !deck().paused));
  $("[data-seq-prev]").addEventListener("click", () => go(index - 1, 0, !deck().paused));
  $("[data-seq-scrub]").addEventListener("input", (event) => atSequenceTime(parseFloat(event.target.value) || 0));
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-seq-goto]");
    if (!target) return;
    const i = clips.findIndex((clip) => clip.shot === target.dataset.seqGoto);
    if (i < 0) return;
    go(i, parseFloat(target.dataset.seqOffset || "0"), false);
    announce(clips[index].label + ", " + clips[index].status);
  });

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    // Space on a focused button or link presses it; everywhere else it plays and pauses.
    if (event.key === " " && event.target.closest("button, a")) return;
    const actions = {
      " ": togglePlay,
      n: () => { go(index + 1, 0, !deck().paused); announce(clips[index].label + ", " + clips[index].status); },
      p: () => { go(index - 1, 0, !deck().paused); announce(clips[index].label + ", " + clips[index].status); },
      m: toggleMute,
      ",": () => step(-1),
      ".": () => step(1),
    };
    const action = actions[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action || !clips.length) return;
    event.preventDefault();
    action();
  });

  readClips();
  if (!clips.length) return;
  root.hidden = false;
  $("[data-seq-controls]").hidden = false;
  showDeck(0);
  go(0, 0, false);
})();
