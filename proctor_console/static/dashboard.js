// Proctor dashboard: live seat map, alert queue and actions over the /proctor Socket.IO namespace.
// Loaded as a file (CSP script-src 'self'); the socket.io client is served from node_modules.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const tiles = new Map();
  const alerts = new Map();
  let selected = null;
  const $ = (sel) => document.querySelector(sel);
  const statusText = { free: "free", admitted: "admitted", in_progress: "in progress", paused: "paused",
                       submitted: "submitted", offline: "offline" };
  // Release attestation of the kiosk's current connection: words on the badge, colour only as a help.
  const attestationText = { passed: "build passed", unknown_build: "unknown build", failed: "attestation failed",
                            not_checked: "build not checked" };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  function fmtRemaining(s) {
    if (s === null || s === undefined) return "";
    const m = Math.floor(s / 60), r = s % 60;
    return `${m}:${String(r).padStart(2, "0")} left`;
  }
  function requestId() {
    const a = new Uint8Array(12); crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function renderTile(t) {
    tiles.set(t.kiosk_id, t);
    let node = document.getElementById("tile-" + t.kiosk_id);
    const fresh = el("div", { class: `tile ${t.status}${selected === t.kiosk_id ? " selected" : ""}`, id: "tile-" + t.kiosk_id,
                              "data-kiosk": t.kiosk_id, "data-status": t.status, tabIndex: 0 },
      t.thumbnail_url ? el("img", { src: t.thumbnail_url, alt: "webcam thumbnail" }) : null,
      el("div", { class: "seat" }, el("strong", {}, t.seat || t.kiosk_id), " ", el("span", { class: "muted" }, t.kiosk_id)),
      el("div", { class: "status-label" }, statusText[t.status] || t.status),
      el("span", { class: `attestation att-${t.attestation}`, "data-attestation": t.attestation,
                   title: t.attestation_detail || "" }, attestationText[t.attestation] || t.attestation),
      el("div", { class: "who" }, t.candidate_name ? `${t.candidate_name} (${t.candidate_id})` : ""),
      el("div", { class: "progress" }, t.total ? `${t.answered}/${t.total} answered` : ""),
      el("div", { class: "remaining" }, fmtRemaining(t.remaining_seconds)),
      el("div", { class: "alerts-count" }, t.open_alerts ? `${t.open_alerts} open alert(s)` : ""),
      t.needs_resume_approval ? el("div", { class: "error" }, "restart: approve resume") : null);
    fresh.addEventListener("click", () => select(t.kiosk_id));
    if (node) node.replaceWith(fresh); else $("#seat-map").append(fresh);
    $("#no-kiosks").hidden = tiles.size > 0;
    if (selected === t.kiosk_id) showPanel(t);
  }

  function select(kioskId) {
    selected = kioskId;
    document.querySelectorAll(".tile").forEach((n) => n.classList.toggle("selected", n.dataset.kiosk === kioskId));
    showPanel(tiles.get(kioskId));
  }
  function showPanel(t) {
    $("#panel").hidden = false;
    $("#panel-kiosk").textContent = `${t.seat || ""} ${t.kiosk_id}`;
    $("#panel-who").textContent = `${statusText[t.status] || t.status}${t.candidate_name ? " · " + t.candidate_name : ""}` +
      (t.camera_fps !== null && t.camera_fps !== undefined ? ` · camera ${t.camera_fps} fps` : "") +
      (t.last_seen_text ? ` · last seen ${t.last_seen_text}` : "");
    $("#panel-timeline").href = `/kiosks/${encodeURIComponent(t.kiosk_id)}/timeline`;
  }

  /** "a: 1 · b.c: 2.35": an alert's thresholds and measurements, readable and wrapping. */
  function describe(value, prefix = "") {
    if (value === null || typeof value !== "object") {
      const shown = typeof value === "number" && !Number.isInteger(value) ? value.toPrecision(3) : String(value);
      return prefix ? [`${prefix}: ${shown}`] : [shown];
    }
    if (Array.isArray(value)) return [`${prefix}: ${value.join(" × ")}`];
    return Object.entries(value).flatMap(([k, v]) => describe(v, prefix ? `${prefix}.${k}` : k));
  }

  function renderAlerts() {
    const list = $("#alert-queue");
    list.replaceChildren();
    const open = [...alerts.values()].filter((a) => a.status === "open")
      .sort((a, b) => b.rank - a.rank || (a.updated < b.updated ? 1 : -1));
    $("#alert-count").textContent = String(open.length);
    for (const a of open) {
      const reason = el("input", { name: "reason", placeholder: "reason", maxLength: 1000 });
      const li = el("li", { class: `alert sev-${a.severity}`, id: "alert-" + a.alert_id, "data-alert": a.alert_id },
        el("strong", {}, `${a.severity.toUpperCase()} · ${a.kiosk_id} · ${a.rule}`),
        el("div", { class: "muted" }, `${a.type} · ${a.count}× since ${a.opened}`),
        el("div", { class: "thresholds" }, "thresholds: " + describe(a.thresholds || {}).join(" · ")),
        el("div", { class: "evidence" }, "evidence: " + describe(a.evidence || {}).join(" · ")),
        a.snapshot_url ? el("img", { src: a.snapshot_url, alt: "evidence snapshot" }) : null,
        reason,
        el("button", { type: "button", onclick: () => act({ type: "alert_ack", alert_id: a.alert_id, reason: reason.value }) }, "Acknowledge"),
        el("button", { type: "button", onclick: () => act({ type: "alert_dismiss", alert_id: a.alert_id, reason: reason.value }) }, "Dismiss"));
      list.append(li);
    }
  }

  function showResult(text, ok) {
    const node = $("#action-result");
    node.textContent = text;
    node.className = "status " + (ok ? "ok" : "error");
  }

  let socket = null;
  function act(payload) {
    return new Promise((resolve) => {
      socket.emit("action", { csrf, request_id: requestId(), ...payload }, (reply) => {
        if (reply && reply.ok) showResult(`${payload.type}: done${reply.result && reply.result.status ? " (" + reply.result.status + ")" : ""}`, true);
        else showResult(`${payload.type}: ${reply ? reply.error : "no answer"}`, false);
        resolve(reply);
      });
    });
  }
  function formData(form) {
    const data = {};
    for (const [k, v] of new FormData(form).entries()) data[k] = v;
    return data;
  }

  document.addEventListener("DOMContentLoaded", () => {
    socket = io("/proctor", { auth: { csrf }, transports: ["websocket"] });
    window.invigilSocket = socket;
    socket.on("connect", () => { $("#link-status").textContent = "live"; });
    socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect") {  // this login was ended (logout elsewhere, account disabled)
        $("#link-status").textContent = "signed out";
        window.location.assign("/login");
      } else {
        $("#link-status").textContent = "reconnecting…";
      }
    });
    socket.on("connect_error", (err) => { $("#link-status").textContent = "refused: " + err.message; });
    socket.on("snapshot", (snap) => {
      snap.tiles.forEach(renderTile);
      alerts.clear(); snap.alerts.forEach((a) => alerts.set(a.alert_id, a)); renderAlerts();
    });
    socket.on("kiosk", renderTile);
    socket.on("alert", (a) => { alerts.set(a.alert_id, a); renderAlerts(); });
    socket.on("command_status", (c) => {
      showResult(`${c.type} on ${c.kiosk_id}: ${c.status}${c.error ? " (" + c.error + ": " + c.reason + ")" : ""}`, c.status === "acked");
    });
    socket.on("kiosk_event", (e) => {
      const feed = $("#event-feed");
      feed.prepend(el("li", { class: "sev-" + e.severity }, `${e.wall_time} ${e.kiosk_id} #${e.seq} ${e.type} (${e.severity})`));
      while (feed.children.length > 100) feed.lastChild.remove();
    });

    $("#admit-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const d = formData(ev.target);
      act({ type: "admit", kiosk_id: selected, candidate_id: d.candidate_id, package_id: d.package_id,
            identity_checked: ev.target.identity_checked.checked });
    });
    document.querySelectorAll("[data-action]").forEach((node) => {
      const kind = node.dataset.action;
      if (node.tagName === "FORM") {
        node.addEventListener("submit", (ev) => {
          ev.preventDefault();
          const d = formData(node);
          if (kind === "declare_conflict") {
            const t = tiles.get(selected);
            act({ type: kind, candidate_id: t ? t.candidate_id : "", reason: d.reason });
          } else {
            if (d.minutes !== undefined) d.minutes = parseInt(d.minutes, 10);
            act({ type: kind, kiosk_id: selected, ...d });
          }
        });
      } else {
        node.addEventListener("click", () => act({ type: kind, kiosk_id: selected }));
      }
    });
    $("#mass-pause").addEventListener("submit", (ev) => {
      ev.preventDefault();
      act({ type: "mass_pause", reason: formData(ev.target).reason });
    });
    $("#incident-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const d = formData(ev.target);
      act({ type: "incident", kiosk_id: selected || "", category: d.category, text: d.text })
        .then((r) => { if (r && r.ok) ev.target.reset(); });
    });
  });
})();
