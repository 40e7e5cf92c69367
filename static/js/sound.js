/* Board player sound: a mute toggle and a level meter fed by a Web Audio AnalyserNode.
   Without this file the sound bar stays hidden and the video's native controls (mute
   included) remain; review.js binds the M key to the focused card's mute button. */
(function () {
  "use strict";

  // The meter spans -60..0 dBFS: quieter than -60 reads as silence.
  const FLOOR_DB = -60;
  const graphs = new WeakMap();
  let context = null;

  function audioContext() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    context = context || new Context();
    return context;
  }

  // A media element can feed one source node, ever: build it once, on first play.
  function graphFor(video) {
    if (graphs.has(video)) return graphs.get(video);
    const ctx = audioContext();
    if (!ctx) return null;
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    ctx.createMediaElementSource(video).connect(analyser);
    analyser.connect(ctx.destination);
    const graph = { analyser, samples: new Float32Array(analyser.fftSize) };
    graphs.set(video, graph);
    return graph;
  }

  function decibels(graph) {
    graph.analyser.getFloatTimeDomainData(graph.samples);
    let sum = 0;
    for (const sample of graph.samples) sum += sample * sample;
    const rms = Math.sqrt(sum / graph.samples.length);
    return rms > 0 ? 20 * Math.log10(rms) : -Infinity;
  }

  function show(bar, db) {
    const meter = bar.querySelector("[data-level]");
    const text = bar.querySelector("[data-level-text]");
    const value = Number.isFinite(db) ? Math.max(0, Math.min(1, (db - FLOOR_DB) / -FLOOR_DB)) : 0;
    meter.value = value;
    meter.textContent = value > 0 ? Math.round(db) + " dB" : "silent";
    if (text) text.textContent = value > 0 ? Math.round(db) + " dB" : "–∞ dB";
  }

  function showMuted(bar, video) {
    const button = bar.querySelector("[data-mute]");
    button.setAttribute("aria-pressed", String(video.muted));
  }

  function initBar(bar) {
    if (bar.dataset.ready) return;
    const player = bar.closest("[data-player]");
    const video = player && player.querySelector("[data-video]");
    if (!video) return;
    bar.dataset.ready = "1";
    bar.hidden = false;
    showMuted(bar, video);
    bar.querySelector("[data-mute]").addEventListener("click", () => {
      video.muted = !video.muted;
    });
    video.addEventListener("volumechange", () => showMuted(bar, video));

    let frame = null;
    const tick = () => {
      const graph = graphs.get(video);
      if (graph) show(bar, decibels(graph));
      frame = video.paused || video.ended ? null : window.requestAnimationFrame(tick);
      if (!frame) show(bar, -Infinity);
    };
    video.addEventListener("play", () => {
      try {
        graphFor(video);
      } catch (error) {
        // No Web Audio here (or a cross-origin clip): the player plays on without a meter.
        bar.querySelector("[data-level]").hidden = true;
        return;
      }
      if (context && context.state === "suspended") context.resume();
      if (!frame) frame = window.requestAnimationFrame(tick);
    });
  }

  function init(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("[data-sound]").forEach(initBar);
  }

  init(document);
  // Cards swapped in by htmx (polls, decisions, opened cards) bring new players.
  document.addEventListener("htmx:load", (event) => init(event.detail.elt));
})();
