// Loading progress and the public `window.ocppSim` handle, before Python runs.
//
// A classic (non-module) script: it runs before PyScript's module, so `window.ocppSim.ready`
// exists as soon as the page starts loading and users' Playwright tests can await it at once.
// Python (web/control_center/app.py) attaches the implementation through `ocppSimInternals`.
// No protocol logic here: every call goes to the Python station.
(() => {
  "use strict";

  const started = performance.now();
  let resolveReady;
  let rejectReady;
  const ready = new Promise((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => {}); // a failure is shown on the page; no "unhandled rejection" noise

  let impl = null;
  const call = (name, ...args) => {
    if (impl === null) {
      throw new Error("ocppSim is not ready yet: await window.ocppSim.ready first");
    }
    return impl[name](...args);
  };
  const connector = (n) => {
    const value = Number(n);
    if (!Number.isInteger(value)) {
      throw new TypeError(`connector must be an integer, got ${String(n)}`);
    }
    return value;
  };

  const api = {
    ready,
    plug: (n) => call("plug", connector(n)),
    unplug: (n) => call("unplug", connector(n)),
    setEvReady: (n, value) => call("set_ev_ready", connector(n), Boolean(value)),
    setEvseReady: (n, value) => call("set_evse_ready", connector(n), Boolean(value)),
    // tokenType: an OCPP 2.0.1 idToken type (ISO14443 when left out; 1.6 has none)
    presentCard: (n, idTag, tokenType) =>
      call("present_card", connector(n), String(idTag), tokenType == null ? undefined : String(tokenType)),
    status: (n) => call("status", connector(n)),
    snapshot: (n) => JSON.parse(call("snapshot_json", connector(n))),
    connectionState: () => call("connection_state"),
    ocppVersion: () => call("ocpp_version"),
    connect: () => call("connect"),
    disconnect: () => call("disconnect"),
    setOffline: (offline) => call("set_offline", Boolean(offline)),
    messages: () => JSON.parse(call("messages_json")),
    exportJsonl: () => call("export_jsonl"),
    flushStore: () => call("flush_store"),
    storeSettled: () => call("store_settled"),
    storeStats: () => JSON.parse(call("store_stats_json")),
    version: null,
  };
  window.ocppSim = api;

  // ------------------------------------------------------------------ loading indicator

  // PyScript reports these on `window` as `py:progress` events; each one moves the bar on.
  const STEPS = [
    ["Loading Pyodide", 6, "Downloading the Python runtime…"],
    ["Loading interpreter", 12, "Starting Python (WebAssembly)…"],
    ["Loaded interpreter", 62, "Python started"],
    ["Loading packages", 66, "Installing the simulator…"],
    ["Loaded packages", 74, "Simulator installed"],
    ["Loaded Pyodide", 76, "Simulator installed"],
  ];
  const element = (id) => document.getElementById(id);

  const setProgress = (percent, text) => {
    const loader = element("loader");
    if (loader === null) {
      return;
    }
    const value = Math.max(Number(loader.getAttribute("aria-valuenow") || 0), percent);
    loader.setAttribute("aria-valuenow", String(Math.round(value)));
    loader.style.setProperty("--progress", `${value}%`);
    if (text) {
      element("loader-text").textContent = text;
      loader.setAttribute("aria-valuetext", text);
    }
  };

  addEventListener("py:progress", (event) => {
    const step = STEPS.find(([name]) => name === event.detail);
    if (step !== undefined) {
      setProgress(step[1], step[2]);
    }
  });

  // Python reports its own steps and, at the end, attaches the implementation.
  window.ocppSimInternals = {
    progress: (percent, text) => setProgress(percent, text),
    attach(implementation, version) {
      impl = implementation;
      api.version = version;
      const ms = Math.round(performance.now() - started);
      performance.mark("ocpp-sim:interactive");
      setProgress(100, "Ready");
      document.documentElement.dataset.app = "ready";
      console.info(`ocpp-sim: interactive after ${ms} ms`);
      resolveReady(api);
    },
    fail(message) {
      document.documentElement.dataset.app = "error";
      const loader = element("loader");
      if (loader !== null) {
        loader.dataset.state = "error";
      }
      const text = element("loader-text");
      if (text !== null) {
        text.textContent = message;
      }
      rejectReady(new Error(message));
    },
    // Save a text file (the JSONL export) without any server round trip.
    download(filename, text, type) {
      const url = URL.createObjectURL(new Blob([text], { type }));
      const link = document.createElement("a");
      link.href = url;
      link.download = filename;
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
    // Hold an exclusive Web Lock for the rest of the page's life: two tabs syncing the same
    // IndexedDB mirror would overwrite each other's files. Resolves true when this tab holds
    // it, false when another tab still does after `timeoutMs` (or locks are unavailable).
    storeLock(name, timeoutMs) {
      if (!("locks" in navigator)) {
        return Promise.resolve(true);
      }
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        navigator.locks
          .request(name, () => {
            clearTimeout(timer);
            resolve(true);
            return new Promise(() => {}); // held until the page goes away
          })
          .catch(() => resolve(false));
      });
    },
    // One animation frame later, call `callback` (DOM updates are batched per frame).
    // Falls back to a timer when the tab is hidden and frames are not produced.
    frame(callback) {
      let done = false;
      const run = () => {
        if (!done) {
          done = true;
          callback();
        }
      };
      requestAnimationFrame(run);
      setTimeout(run, 250);
    },
  };

  addEventListener("error", (event) => {
    if (document.documentElement.dataset.app !== "ready" && event.message) {
      setProgress(0, `Loading failed: ${event.message}`);
    }
  });
})();
