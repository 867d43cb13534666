// Proctor dashboard: the room's seats, an action panel beside the selected seat, the alert queue and
// incident reports, over the /proctor Socket.IO namespace. Loaded as a file (CSP script-src 'self');
// the socket.io client is served from node_modules.
//
// Why it is built this way:
// - Seats are <button>s in seat order with one tab stop (arrow keys move between them), so a keyboard
//   or screen-reader proctor reaches any of 40 seats and then the panel in a few keys.
// - The panel offers only what the server lists for the seat (tile.actions, from
//   proctor_console/seat_actions.py); the server refuses the rest with a plain message anyway.
// - Updates never replace a focused element: tiles and alert cards are updated in place, so a
//   heartbeat or a new alert does not take the proctor's focus or what they were typing.
// - Nothing is a live region but #announcer (polite) and #announcer-urgent (a new high or critical
//   alert): a seat change that matters (offline, restart waiting, submitted) is announced once.
"use strict";
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const csrf = $('meta[name="csrf-token"]').content;
  const board = $("#dashboard");
  const zone = (board && board.dataset.zone) || "UTC";
  const tiles = new Map();        // kiosk_id -> tile (proctor_console.dashboard.Tile.to_dict)
  const alerts = new Map();       // alert_id -> open alert (named with its attempt's candidate)
  const selection = new Set();    // kiosk ids selected
  const announced = new Map();    // kiosk_id -> its condition before a change not yet announced
  let anchor = null;              // the seat the panel stands beside
  let rover = null;               // the seat that holds the seat map's one tab stop
  let socket = null;
  let audio = null;

  // --- words ------------------------------------------------------------------------------------
  const STATUS_WORDS = { free: "free", admitted: "admitted", in_progress: "in progress", paused: "paused",
                         submitted: "submitted", offline: "offline" };
  const SEAT_WORDS = { free: "free", admitted: "admitted, not started", starting: "started, reading the agreement",
                       in_progress: "in progress", paused: "paused",
                       restart_waiting: "restarted, waiting for your approval to resume", finished: "finished" };
  const ACTION_WORDS = { admit: "Admit", start: "Start", pause: "Pause", resume: "Resume",
                         approve_resume: "Approve resume", extend: "Extend time", end: "End exam",
                         cancel_admission: "Cancel admission",
                         message: "Send message", declare_conflict: "Declare a conflict of interest",
                         alert_ack: "Acknowledge", alert_dismiss: "Dismiss", incident: "Incident report",
                         mass_pause: "Pause everyone" };
  const COMMAND_ACTION = { resume_approved: "approve_resume" };
  const ATTESTATION_WORDS = { passed: "build passed", unknown_build: "unknown build", failed: "attestation failed",
                              not_checked: "build not checked" };
  const EVENT_WORDS = {
    "webcam.no_face": "No face in view", "webcam.multiple_faces": "More than one face in view",
    "webcam.turned_away": "Candidate turned away", "webcam.camera_lost": "Camera lost",
    "webcam.camera_frozen": "Camera image frozen", "webcam.camera_covered": "Camera covered or dark",
    "webcam.poor_lighting": "Poor lighting", "input.typing_burst": "Burst of typing",
    "input.synthetic_input": "Input not typed on the keyboard", "input.injected_input": "Injected input",
    "input.idle": "No input for a long time", "input.device_added": "Input device plugged in",
    "input.device_removed": "Input device removed", "input.blocked_shortcut": "Blocked shortcut pressed",
    "page.hidden": "Exam page hidden", "page.fullscreen_exit": "Left full screen",
    "page.focus_lost": "Exam window lost focus", "page.clipboard": "Clipboard used",
    "journal.regressed": "Answer journal went back", "journal.tampered": "Answer journal tampered",
    "attestation.refused": "Kiosk build not accepted", "monitor.unavailable": "Monitor not available",
    "monitor.error": "Monitor error" };
  const UNITS = { s: "s", ms: "ms", seconds: "s", minutes: "min", px: "px", pct: "%", percent: "%", fps: "fps",
                  chars: "characters", bytes: "bytes" };
  const SEVERITY_RANK = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
  const clock = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit" });
  const seatOrder = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

  function words(key) {
    const text = String(key).replace(/[._-]+/g, " ").trim();
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  function eventWords(type) { return EVENT_WORDS[type] || words(type); }
  /** "10:42" in the centre's time zone. */
  function clockTime(text) {
    const moment = new Date(text);
    return Number.isNaN(moment.getTime()) ? "" : clock.format(moment);
  }
  /** "1 h 05 min", "12 min", "45 s": as proctor_console.wording.duration. */
  function duration(seconds) {
    const whole = Math.round(seconds);
    if (whole < 60) return `${whole} s`;
    const minutes = Math.floor(whole / 60), hours = Math.floor(minutes / 60);
    return hours ? `${hours} h ${String(minutes % 60).padStart(2, "0")} min` : `${minutes} min`;
  }
  function ago(text) {
    const seconds = (Date.now() - new Date(text).getTime()) / 1000;
    if (Number.isNaN(seconds)) return "";
    return seconds < 10 ? "just now" : `${duration(seconds)} ago`;
  }
  function remaining(seconds) {
    if (seconds === null || seconds === undefined) return "";
    return seconds <= 0 ? "time is up" : `${duration(seconds)} left`;
  }
  /** Thresholds or evidence as [label, value] pairs (as proctor_console.wording.readable). */
  function readable(record, prefix) {
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      return record === null || record === undefined ? [] : [[prefix || "Value", valueText(record, "")]];
    }
    return Object.entries(record).flatMap(([key, value]) => {
      const parts = key.split(/[_-]+/).filter(Boolean);
      const unit = parts.length > 1 && UNITS[parts[parts.length - 1]] ? UNITS[parts.pop()] : "";
      const name = words(parts.join(" ") || key);
      const full = prefix ? `${prefix} › ${name}` : name;
      if (value !== null && typeof value === "object" && !Array.isArray(value)) return readable(value, full);
      return [[full, valueText(value, unit)]];
    });
  }
  function valueText(value, unit) {
    let text;
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (value === null || value === undefined) return "none";
    if (typeof value === "number") text = Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
    else if (Array.isArray(value)) text = value.map((v) => valueText(v, "")).join(" × ");
    else text = String(value);
    return unit ? `${text} ${unit}` : text;
  }

  // --- helpers ----------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role") node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined && c !== "") node.append(c instanceof Node ? c : String(c));
    return node;
  }
  function requestId() {
    const a = new Uint8Array(12); crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function formData(form) {
    const data = {};
    for (const [k, v] of new FormData(form).entries()) data[k] = v;
    return data;
  }
  function seatName(t) { return t.seat ? `Seat ${t.seat}` : `Kiosk ${t.kiosk_id}`; }
  function person(name, id) { return name ? `${name} (${id})` : id; }
  /** "Seat A2 · Alan Turing (cand-2)": the seat and the person, as alert cards name them. */
  function whoOnSeat(t) {
    return t.candidate_id ? `${seatName(t)} · ${person(t.candidate_name, t.candidate_id)}` : seatName(t);
  }
  function announce(text, urgent) {
    const node = urgent ? $("#announcer-urgent") : $("#announcer");
    node.textContent = "";
    window.setTimeout(() => { node.textContent = text; }, 50);  // a fresh node change is read even if the text repeats
  }
  function showResult(text, ok) {
    const node = $("#action-result");
    node.textContent = text;
    node.className = "status " + (ok ? "ok" : "error");
  }

  // --- seats --------------------------------------------------------------------------------------
  function needsAttention(t) {
    return t.open_alerts > 0 || t.seat_state === "restart_waiting" || t.attestation === "failed" ||
      (t.status === "offline" && t.recorded_state !== null && t.recorded_state !== undefined);
  }
  const FILTERS = {
    all: () => true,
    attention: needsAttention,
    paused: (t) => t.seat_state === "paused",
    restart_waiting: (t) => t.seat_state === "restart_waiting",
    submitted: (t) => t.status === "submitted",
  };
  function currentFilter() { return ($('input[name="seat-filter"]:checked') || { value: "all" }).value; }
  function shown(t) {
    const query = $("#seat-search").value.trim().toLowerCase();
    const found = !query || [t.seat, t.candidate_name, t.candidate_id, t.kiosk_id]
      .some((v) => v && String(v).toLowerCase().includes(query));
    return found && FILTERS[currentFilter()](t);
  }
  /** A tile's words: its accessible name is its own text, in the order a listener needs it
      ("Seat A1, Ada Lovelace, in progress, 18/40 answered · 55 min left, 1 open alert, kiosk kiosk-09,
      build passed"); the commas and the words a sighted proctor reads from the layout are text of
      size zero (class sr-text), which joins the name without the spaces a hidden block would add. */
  function tileContent(t) {
    const said = (text) => el("span", { class: "sr-text" }, text);
    const restart = t.seat_state === "restart_waiting";
    const statusText = restart ? "restarted" : (STATUS_WORDS[t.status] || t.status);
    const answered = t.total && t.candidate_id ? `${t.answered}/${t.total}` : "";
    const left = t.recorded_state ? remaining(t.remaining_seconds) : "";
    const progress = restart ? ["approve resume", said(",")]
      : answered || left ? [answered, answered ? said(" answered") : null, answered && left ? " · " : "", left, said(",")]
      : ["\u00a0"];
    return [
      el("span", { class: "t-seat" }, said("Seat "), t.seat || t.kiosk_id, said(",")),
      el("span", { class: "t-name" }, t.candidate_name || (t.candidate_id || "no candidate"), said(",")),
      el("span", { class: "t-status" }, statusText, said(",")),
      el("span", { class: "t-progress" }, ...progress),
      t.open_alerts ? el("span", { class: "t-alerts" }, el("span", { "aria-hidden": "true" }, "⚠ "), String(t.open_alerts),
                         said(` open alert${t.open_alerts === 1 ? "" : "s"},`)) : null,
      el("span", { class: "t-badge" }, t.seat ? said(`kiosk ${t.kiosk_id},`) : null,
         el("span", { class: `attestation att-${t.attestation}`, "data-attestation": t.attestation,
                      title: t.attestation_detail || "" }, ATTESTATION_WORDS[t.attestation] || t.attestation)),
      t.thumbnail_url ? el("img", { src: t.thumbnail_url, alt: "", class: "t-thumb" }) : null,
    ].filter(Boolean);
  }
  function tileButton(kioskId) {
    let button = document.getElementById("tile-" + kioskId);
    if (button) return button;
    button = el("button", { type: "button", id: "tile-" + kioskId, class: "tile", tabIndex: -1, "data-kiosk": kioskId });
    button.addEventListener("click", (ev) => onTileClick(ev, kioskId));
    button.addEventListener("focus", () => setRover(kioskId));
    $("#seat-map").append(el("li", { class: "seat" }, button));
    return button;
  }
  function renderTile(t) {
    const previous = tiles.get(t.kiosk_id);
    tiles.set(t.kiosk_id, t);
    const button = tileButton(t.kiosk_id);
    button.className = `tile ${t.status} seat-${t.seat_state}${needsAttention(t) ? " attention" : ""}` +
      (selection.has(t.kiosk_id) ? " selected" : "") + (button.classList.contains("flash") ? " flash" : "");
    button.dataset.status = t.status;
    button.dataset.seatState = t.seat_state;
    button.dataset.seat = t.seat || t.kiosk_id;
    button.setAttribute("aria-pressed", String(selection.has(t.kiosk_id)));
    button.replaceChildren(...tileContent(t));
    if (!previous || previous.seat !== t.seat) orderSeats();
    announceSeatChange(previous, t);
    return previous;
  }
  function seatRow(t) { return t.seat ? t.seat.replace(/[\s\d-]+.*$/, "") : "~"; }
  /** Seats in seat order (A2 before A10), unseated kiosks after them; the focused one keeps focus. */
  function orderSeats() {
    const map = $("#seat-map");
    const focused = document.activeElement;
    const items = [...tiles.values()].sort((a, b) =>
      (!a.seat - !b.seat) || seatOrder.compare(a.seat || "", b.seat || "") || seatOrder.compare(a.kiosk_id, b.kiosk_id));
    const wanted = items.map((t) => document.getElementById("tile-" + t.kiosk_id).parentElement);
    // Each row of the room (the seat's letters: A, B, ...) starts a line of the grid, as in the room.
    items.forEach((t, i) => wanted[i].classList.toggle("row-start", i > 0 && seatRow(t) !== seatRow(items[i - 1])));
    if (wanted.some((li, i) => map.children[i] !== li)) {
      map.append(...wanted);
      if (focused && focused !== document.activeElement && document.contains(focused)) focused.focus();
    }
  }
  /** What about a seat is worth saying aloud: offline mid-exam, waiting for a resume approval, finished. */
  function condition(t) {
    if (t.seat_state === "restart_waiting") return "restart";
    if (t.status === "offline" && t.recorded_state) return "offline";
    return t.status === "submitted" ? "finished" : "ok";
  }
  const SAY = { restart: "the kiosk restarted and waits for your approval to resume", offline: "kiosk offline",
                finished: "exam finished", ok: "kiosk back online" };
  /** Say a seat's change once it has settled (2 s): a kiosk that restarts goes offline, comes back
      and asks for approval within a second, and only the last of these is worth a proctor's ear. */
  function announceSeatChange(previous, t) {
    if (!previous || condition(previous) === condition(t) || announced.has(t.kiosk_id)) return;
    const baseline = condition(previous);
    announced.set(t.kiosk_id, baseline);
    window.setTimeout(() => {
      announced.delete(t.kiosk_id);
      const now = tiles.get(t.kiosk_id);
      const settled = now ? condition(now) : baseline;
      if (settled !== baseline && (settled !== "ok" || baseline === "offline")) announce(`${whoOnSeat(now)}: ${SAY[settled]}`);
    }, 2000);
  }
  function visibleTiles() { return $$("#seat-map .tile").filter((b) => !b.parentElement.hidden); }
  function setRover(kioskId) {
    rover = kioskId;
    for (const b of $$("#seat-map .tile")) b.tabIndex = b.dataset.kiosk === kioskId ? 0 : -1;
  }
  function applyFilter() {
    let count = 0;
    for (const t of tiles.values()) {
      const li = document.getElementById("tile-" + t.kiosk_id).parentElement;
      li.hidden = !shown(t);
      if (!li.hidden) count += 1;
    }
    const visible = visibleTiles();
    if (!visible.some((b) => b.dataset.kiosk === rover)) setRover(visible.length ? visible[0].dataset.kiosk : null);
    $("#no-kiosks").hidden = tiles.size > 0;
    $("#no-match").hidden = tiles.size === 0 || count > 0;
    const filtering = $("#seat-search").value.trim() || currentFilter() !== "all";
    $("#search-result").textContent = filtering ? `${count} of ${tiles.size} seats shown` : "";
    updateCounts();
    placePanel();
  }
  function updateCounts() {
    const all = [...tiles.values()];
    for (const [name, test] of Object.entries(FILTERS)) {
      for (const node of $$(`[data-count="${name}"]`)) node.textContent = String(all.filter(test).length);
    }
    const startable = all.filter((t) => t.actions.includes("start")).length;
    $('[data-count="admitted"]').textContent = String(startable);
    $("#start-all").disabled = startable === 0;
    const running = all.filter((t) => t.recorded_state === "in_progress").length;
    $("#room-counts").textContent = `${all.length} seats · ${running} in progress · ${all.filter(needsAttention).length} need attention`;
  }

  // --- keyboard on the seat map ---------------------------------------------------------------------
  function moveFocus(from, key) {
    const visible = visibleTiles();
    const i = visible.indexOf(from);
    if (i < 0) return null;
    if (key === "ArrowRight") return visible[Math.min(i + 1, visible.length - 1)];
    if (key === "ArrowLeft") return visible[Math.max(i - 1, 0)];
    if (key === "Home") return visible[0];
    if (key === "End") return visible[visible.length - 1];
    const here = from.getBoundingClientRect();
    const down = key === "ArrowDown";
    const rows = visible.map((b) => [b, b.getBoundingClientRect()])
      .filter(([, r]) => (down ? r.top > here.top + 4 : r.top < here.top - 4));
    if (!rows.length) return from;
    const rowTop = down ? Math.min(...rows.map(([, r]) => r.top)) : Math.max(...rows.map(([, r]) => r.top));
    const row = rows.filter(([, r]) => Math.abs(r.top - rowTop) < 4);
    const centre = here.left + here.width / 2;
    row.sort((a, b) => Math.abs(a[1].left + a[1].width / 2 - centre) - Math.abs(b[1].left + b[1].width / 2 - centre));
    return row[0][0];
  }
  function onSeatKey(ev) {
    const button = ev.target.closest(".tile");
    if (!button) return;
    if (["ArrowRight", "ArrowLeft", "ArrowUp", "ArrowDown", "Home", "End"].includes(ev.key)) {
      ev.preventDefault();
      const next = moveFocus(button, ev.key);
      if (next) next.focus();
    } else if ((ev.key === " " || ev.key === "Enter") && (ev.ctrlKey || ev.metaKey || ev.shiftKey)) {
      ev.preventDefault();
      toggleSeat(button.dataset.kiosk);
    }
  }
  function onTileClick(ev, kioskId) {
    if (ev.ctrlKey || ev.metaKey || ev.shiftKey) toggleSeat(kioskId);
    else selectSeat(kioskId);
  }
  function markSelection() {
    for (const b of $$("#seat-map .tile")) {
      const on = selection.has(b.dataset.kiosk);
      b.classList.toggle("selected", on);
      b.setAttribute("aria-pressed", String(on));
    }
    const n = selection.size;
    $("#selection-count").textContent = n ? `${n} seat${n === 1 ? "" : "s"} selected` : "No seat selected";
  }
  function selectSeat(kioskId) {
    selection.clear();
    selection.add(kioskId);
    anchor = kioskId;
    markSelection();
    showPanel();
    panel().scrollIntoView({ block: "nearest" });  // a seat low on the screen: its actions in view too
    const t = tiles.get(kioskId);
    const offered = t.actions.map((a) => ACTION_WORDS[a]).join(", ") || "nothing now";
    announce(`${whoOnSeat(t)} selected, ${SEAT_WORDS[t.seat_state] || t.status}. Actions after the seat map: ${offered}.`);
  }
  function toggleSeat(kioskId) {
    if (selection.has(kioskId)) selection.delete(kioskId); else selection.add(kioskId);
    anchor = selection.has(kioskId) ? kioskId : [...selection].pop() || null;
    markSelection();
    showPanel();
    announce(`${whoOnSeat(tiles.get(kioskId))} ${selection.has(kioskId) ? "added to" : "removed from"} the selection: ${selection.size} selected.`);
  }
  function clearSelection() {
    selection.clear();
    anchor = null;
    markSelection();
    showPanel();
  }

  // --- the action panel --------------------------------------------------------------------------------
  const panel = () => $("#panel");
  function showPanel() {
    for (const id of [...selection]) if (!tiles.has(id)) selection.delete(id);
    if (!selection.size) { panel().hidden = true; syncIncidentAbout(); return; }
    if (!selection.has(anchor)) anchor = [...selection].pop();
    panel().hidden = false;
    if (selection.size === 1) seatPanel(tiles.get(anchor)); else bulkPanel([...selection].map((id) => tiles.get(id)));
    syncIncidentAbout();
    placePanel();
  }
  function setOffered(offered) {
    for (const node of $$("[data-action]", panel())) node.hidden = !offered.includes(node.dataset.action);
    $("#panel-none").hidden = offered.length > 0;
    // What had the focus may no longer fit (a paused seat has no Pause): keep the focus in the panel.
    const active = document.activeElement;
    if (active && panel().contains(active) && active.closest("[hidden]")) $("#panel-title").focus();
  }
  function seatPanel(t) {
    $("#panel-title").textContent = `${seatName(t)} · ${t.candidate_name || t.candidate_id || "no candidate"}`;
    const facts = [t.status === "offline" ? "kiosk offline: commands wait until it is back" : SEAT_WORDS[t.seat_state]];
    if (t.total) facts.push(`${t.answered} of ${t.total} answered`);
    if (t.recorded_state && t.remaining_seconds !== null && t.remaining_seconds !== undefined) facts.push(remaining(t.remaining_seconds));
    if (t.camera_fps !== null && t.camera_fps !== undefined) facts.push(`camera ${t.camera_fps} fps`);
    if (t.last_seen_text) facts.push(`seen ${ago(t.last_seen_text)}`);
    facts.push(`kiosk ${t.kiosk_id}`, ATTESTATION_WORDS[t.attestation] || t.attestation);
    if (t.candidate_id) facts.push(`candidate ${t.candidate_id}`);
    $("#panel-who").textContent = facts.join(" · ");
    $("#panel-selection").hidden = true;
    $("#panel-links").hidden = false;
    $("#panel-timeline").href = `/kiosks/${encodeURIComponent(t.kiosk_id)}/timeline`;
    const offered = [...t.actions];
    if (t.candidate_id && t.recorded_state) offered.push("declare_conflict");
    setOffered(offered);
    $('form[data-action="extend"] button').textContent = "Extend";
    $('form[data-action="message"] button').textContent = "Send";
  }
  function bulkPanel(list) {
    $("#panel-title").textContent = `${list.length} seats selected`;
    $("#panel-who").textContent = "Extend the time of these seats or send them a message; each seat's other actions are on the seat.";
    $("#panel-selection").replaceChildren(...list.map((t) => el("li", {}, whoOnSeat(t))));
    $("#panel-selection").hidden = false;
    $("#panel-links").hidden = true;
    const can = (action) => list.filter((t) => t.actions.includes(action)).length;
    setOffered(["extend", "message"].filter((a) => can(a) > 0));
    $('form[data-action="extend"] button').textContent = `Extend for ${can("extend")} seat${can("extend") === 1 ? "" : "s"}`;
    $('form[data-action="message"] button').textContent = `Send to ${can("message")} seat${can("message") === 1 ? "" : "s"}`;
  }
  /** Beside the selected seat: to its right, else its left, else just below it. */
  function placePanel() {
    const node = panel();
    if (node.hidden || !anchor) return;
    const button = document.getElementById("tile-" + anchor);
    if (!button || button.parentElement.hidden) { node.style.left = "0px"; node.style.top = "0px"; return; }
    const area = $("#map-area").getBoundingClientRect(), tile = button.getBoundingClientRect();
    const width = node.offsetWidth, gap = 8;
    let left = tile.right - area.left + gap, top = tile.top - area.top;
    if (left + width > area.width) left = tile.left - area.left - width - gap;
    if (left < 0) { left = Math.max(0, Math.min(tile.left - area.left, area.width - width)); top = tile.bottom - area.top + gap; }
    node.style.left = `${Math.round(left)}px`;
    node.style.top = `${Math.round(top)}px`;
  }
  function closePanel() {
    const back = anchor;
    clearSelection();
    const button = back && document.getElementById("tile-" + back);
    if (button) button.focus();
  }

  // --- acting -----------------------------------------------------------------------------------------
  function act(payload) {
    return new Promise((resolve) => {
      socket.emit("action", { csrf, request_id: requestId(), ...payload }, (reply) => resolve(reply || { ok: false, error: "no answer" }));
    });
  }
  function actionName(kind) { return ACTION_WORDS[kind] || words(kind); }
  /** One action on each seat it fits; a summary names what was refused and why. ``onReply(done,
   * total)`` is told each reply as it comes (the console answers queued starts one by one). */
  async function actOnSeats(kind, seats, extra, onReply) {
    const fitting = seats.filter((t) => t.actions.includes(kind));
    const skipped = seats.filter((t) => !t.actions.includes(kind));
    let answered = 0;
    const replies = await Promise.all(fitting.map((t) => act({ type: kind, kiosk_id: t.kiosk_id, ...extra })
      .then((reply) => { answered += 1; if (onReply) onReply(answered, fitting.length); return [t, reply]; })));
    const refused = replies.filter(([, r]) => !r.ok);
    const done = replies.length - refused.length;
    if (seats.length === 1 && fitting.length === 1) {
      const [t, reply] = replies[0];
      showResult(reply.ok ? `${actionName(kind)}, ${whoOnSeat(t)}: sent, waiting for the kiosk.` : `Not done: ${reply.error}`, reply.ok);
    } else {
      const notes = [...refused.map(([t, r]) => `${whoOnSeat(t)}: ${r.error}`),
                     ...skipped.map((t) => `${whoOnSeat(t)}: does not fit (${SEAT_WORDS[t.seat_state]})`)];
      showResult(`${actionName(kind)}: sent to ${done} seat${done === 1 ? "" : "s"}.` +
                 (notes.length ? ` Not done: ${notes.join("; ")}.` : ""), notes.length === 0);
    }
    return refused.length === 0 && skipped.length === 0;
  }
  function afterAction() {
    // A button that no longer fits is hidden now: keep the focus in the panel, on its title.
    if (!panel().hidden && (!document.activeElement || document.activeElement === document.body ||
                            document.activeElement.closest("[hidden]"))) $("#panel-title").focus();
  }
  async function onPanelForm(ev) {
    ev.preventDefault();
    const form = ev.currentTarget, kind = form.dataset.action, data = formData(form);
    const seats = [...selection].map((id) => tiles.get(id)).filter(Boolean);
    if (!seats.length) return;
    let ok;
    if (kind === "admit") {
      const reply = await act({ type: "admit", kiosk_id: anchor, candidate_id: data.candidate_id, package_id: data.package_id,
                                identity_checked: form.identity_checked.checked });
      showResult(reply.ok ? `Admitted to ${seatName(seats[0])}: sent, waiting for the kiosk.` : `Not done: ${reply.error}`, reply.ok);
      ok = reply.ok;
    } else if (kind === "declare_conflict") {
      const t = seats[0];
      const reply = await act({ type: kind, candidate_id: t.candidate_id, reason: data.reason });
      showResult(reply.ok ? `Conflict of interest with ${person(t.candidate_name, t.candidate_id)} recorded.` : `Not done: ${reply.error}`, reply.ok);
      ok = reply.ok;
    } else {
      if (kind === "end" && !(await confirmEnd(seats[0], data.reason))) return;
      if (kind === "cancel_admission" && !(await confirmCancel(seats[0], data.reason))) return;
      if (data.minutes !== undefined) data.minutes = parseInt(data.minutes, 10);
      ok = await actOnSeats(kind, seats, data);
    }
    if (ok) form.reset();
    afterAction();
  }
  async function onPanelButton(ev) {
    const kind = ev.currentTarget.dataset.action;
    await actOnSeats(kind, [tiles.get(anchor)], {});
    afterAction();
  }

  // --- confirmations ---------------------------------------------------------------------------------
  function confirmDialog({ title, text, items, ok, danger, reason, keep }) {
    const dialog = $("#confirm");
    $("#confirm-title").textContent = title;
    $("#confirm-text").textContent = text;
    $("#confirm-list").replaceChildren(...(items || []).map((item) => el("li", {}, item)));
    $("#confirm-list").hidden = !(items && items.length);
    $("#confirm-ok").textContent = ok;
    $("#confirm-cancel").textContent = keep || "Cancel";  // "Cancel" would be ambiguous beside "Cancel admission"
    $("#confirm-ok").className = danger ? "danger" : "";
    $("#confirm-reason-label").hidden = !reason;
    $("#confirm-reason").required = !!reason;
    $("#confirm-reason").value = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve({ ok: dialog.returnValue === "ok", reason: $("#confirm-reason").value.trim() }),
                              { once: true });
      dialog.returnValue = "cancel";
      dialog.showModal();
      (reason ? $("#confirm-reason") : $("#confirm-cancel")).focus();
    });
  }
  async function confirmEnd(t, reason) {
    const name = t.candidate_name || t.candidate_id;
    const answer = await confirmDialog({
      title: `End ${name}'s exam?`,
      text: `${whoOnSeat(t)}: the answers given so far are sealed and submitted, and the candidate cannot continue. Reason: ${reason}`,
      ok: `End ${name}'s exam`, danger: true });
    return answer.ok;
  }
  async function confirmCancel(t, reason) {
    const name = t.candidate_name || t.candidate_id;
    const answer = await confirmDialog({
      title: `Cancel ${name}'s admission?`,
      text: `${whoOnSeat(t)}: the exam has not started; the kiosk forgets the admission and waits again, ` +
            `nothing is sealed, and ${name} can be admitted again here or on another kiosk. Reason: ${reason}`,
      ok: `Cancel ${name}'s admission`, keep: "Keep the admission", danger: true });
    return answer.ok;
  }
  async function massPause() {
    const running = [...tiles.values()].filter((t) => t.recorded_state === "in_progress").sort((a, b) => seatOrder.compare(a.seat || "", b.seat || ""));
    if (!running.length) { showResult("Nobody is in progress: nothing to pause.", false); return; }
    const answer = await confirmDialog({
      title: `Pause all ${running.length} candidates in progress?`,
      text: "Each exam clock stops until you resume that seat. These candidates are paused:",
      items: running.map(whoOnSeat), ok: `Pause ${running.length} candidate${running.length === 1 ? "" : "s"}`,
      danger: true, reason: true });
    if (!answer.ok) return;
    const reply = await act({ type: "mass_pause", reason: answer.reason });
    showResult(reply.ok ? `Pause sent to ${reply.result.paused} candidates.` : `Not done: ${reply.error}`, reply.ok);
  }
  async function startAll() {
    const ready = [...tiles.values()].filter((t) => t.actions.includes("start")).sort((a, b) => seatOrder.compare(a.seat || "", b.seat || ""));
    if (!ready.length) return;
    const answer = await confirmDialog({
      title: `Start the exam for ${ready.length} admitted candidate${ready.length === 1 ? "" : "s"}?`,
      text: "Each kiosk receives its content key and shows its candidate the agreement:", items: ready.map(whoOnSeat),
      ok: `Start ${ready.length} exam${ready.length === 1 ? "" : "s"}`, danger: false });
    if (!answer.ok) return;
    // The console releases the keys one seat at a time (its start queue): say how far it has got,
    // at most once a second so a screen reader is not flooded; the summary replaces it at the end.
    let shown = 0;
    showResult(`Starting: 0 of ${ready.length} sent.`, true);
    await actOnSeats("start", ready, {}, (done, total) => {
      if (done < total && Date.now() - shown >= 1000) {
        shown = Date.now();
        showResult(`Starting: ${done} of ${total} sent.`, true);
      }
    });
  }

  // --- alerts ------------------------------------------------------------------------------------
  function alertWho(a) {
    if (!a.candidate_id) return `Kiosk ${a.kiosk_id} (no candidate's attempt)`;
    return `${a.seat ? `Seat ${a.seat} · ` : ""}${a.candidate_name || a.candidate_id}`;
  }
  function pairsList(title, record) {
    const pairs = readable(record || {});
    return el("div", { class: "pairs" }, el("span", { class: "pairs-title" }, title),
              pairs.length ? el("ul", {}, ...pairs.map(([k, v]) => el("li", {}, `${k}: `, el("strong", {}, v)))) : " none");
  }
  function alertCard(a) {
    const head = `alert-head-${a.alert_id}`, details = `alert-details-${a.alert_id}`;
    const reason = el("input", { name: "reason", placeholder: "reason", maxLength: 1000, "aria-label": "Reason", "aria-describedby": head });
    const resolve = (type) => async () => {
      const reply = await act({ type, alert_id: a.alert_id, reason: reason.value });
      showResult(reply.ok ? `${actionName(type)}: ${alertWho(a)}, ${eventWords(a.type)}.` : `Not done: ${reply.error}`, reply.ok);
      if (!reply.ok) reason.focus();
    };
    return el("li", { class: `alert sev-${a.severity}`, id: "alert-" + a.alert_id, "data-alert": a.alert_id },
      a.snapshot_url ? el("a", { href: a.snapshot_url, target: "_blank", rel: "noopener", class: "snap" },
                          el("img", { src: a.snapshot_url, alt: `Evidence snapshot, ${alertWho(a)} (opens the full image)` })) : null,
      el("div", { class: "alert-head", id: head },
         el("span", { class: "sev" }, a.severity.toUpperCase()), " ",
         el("strong", { class: "alert-who" }, alertWho(a)),
         a.candidate_id ? el("span", { class: "muted" }, ` (${a.candidate_id})`) : null),
      el("div", { class: "alert-what" }, el("span", { class: "alert-rule" }, eventWords(a.type)), ""),
      el("div", { class: "alert-do" }, reason,
         el("button", { type: "button", onclick: resolve("alert_ack"), "aria-describedby": head }, "Acknowledge"),
         el("button", { type: "button", onclick: resolve("alert_dismiss"), "aria-describedby": head }, "Dismiss"),
         el("button", { type: "button", class: "details-toggle", "aria-expanded": "false", "aria-controls": details,
                        "aria-describedby": head, onclick: toggleDetails }, "Details")),
      el("div", { class: "alert-details", id: details, hidden: true },
         pairsList("Rule's thresholds:", a.thresholds), pairsList("Measured:", a.evidence),
         el("div", { class: "muted" }, `rule ${a.rule} · attempt ${a.attempt_id || "none"} · kiosk ${a.kiosk_id}`)));
  }
  function toggleDetails(ev) {
    const button = ev.currentTarget, box = document.getElementById(button.getAttribute("aria-controls"));
    box.hidden = !box.hidden;
    button.setAttribute("aria-expanded", String(!box.hidden));
  }
  function updateAlertCard(li, a) {
    li.className = `alert sev-${a.severity}${li.classList.contains("flash") ? " flash" : ""}`;
    $(".sev", li).textContent = a.severity.toUpperCase();
    const when = el("span", { class: "alert-when" }, ` · ${a.count}× · since ${clockTime(a.opened)}, `,
                    el("span", { class: "ago", "data-time": a.opened }, ago(a.opened)));
    const what = $(".alert-what", li);
    what.replaceChildren($(".alert-rule", what), when);
  }
  function renderAlerts() {
    const list = $("#alert-queue");
    const open = [...alerts.values()].filter((a) => a.status === "open")
      .sort((a, b) => b.rank - a.rank || (a.updated < b.updated ? 1 : a.updated > b.updated ? -1 : 0));
    const keep = new Set(open.map((a) => "alert-" + a.alert_id));
    for (const li of [...list.children]) if (!keep.has(li.id)) li.remove();
    const focused = document.activeElement;
    const nodes = open.map((a) => {
      const li = document.getElementById("alert-" + a.alert_id) || alertCard(a);
      updateAlertCard(li, a);
      return li;
    });
    if (nodes.some((li, i) => list.children[i] !== li)) {
      list.append(...nodes);
      if (focused && focused !== document.activeElement && document.contains(focused)) focused.focus();
    }
    $("#alert-count").textContent = String(open.length);
    $("#no-alerts").hidden = open.length > 0;
  }
  function onAlert(a) {
    const before = alerts.get(a.alert_id);
    alerts.set(a.alert_id, a);
    if (a.status !== "open") alerts.delete(a.alert_id);
    renderAlerts();
    const fresh = a.status === "open" && (!before || SEVERITY_RANK[a.severity] > SEVERITY_RANK[before.severity]);
    if (!fresh) return;
    const urgent = SEVERITY_RANK[a.severity] >= SEVERITY_RANK.high;
    announce(`${a.severity} alert: ${alertWho(a)}${a.candidate_id ? ` (${a.candidate_id})` : ""}: ${eventWords(a.type)}.`, urgent);
    if (urgent) alarm(a);
  }

  // --- sound and flash ----------------------------------------------------------------------------
  const SETTINGS = { sound: "invigil.alarm.sound", flash: "invigil.alarm.flash" };
  function setting(name) { return localStorage.getItem(SETTINGS[name]) !== "off"; }
  function wakeAudio() {
    // Browsers let a page make sound only after a user gesture: the first click or key wakes it.
    try {
      audio = audio || new AudioContext();
      if (audio.state === "suspended") audio.resume();
    } catch (err) { audio = null; }
  }
  /** Two or three short tones made on the spot (no sound file is fetched). */
  function beep(times) {
    if (!audio) return false;
    const start = audio.currentTime + 0.02;
    for (let i = 0; i < times; i++) {
      const tone = audio.createOscillator(), gain = audio.createGain();
      tone.type = "square";
      tone.frequency.value = i % 2 ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, start + i * 0.25);
      gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.25 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.25 + 0.2);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + i * 0.25);
      tone.stop(start + i * 0.25 + 0.22);
    }
    return true;
  }
  function flash(node) {
    if (!node) return;
    node.classList.remove("flash");
    void node.offsetWidth;  // restart the animation
    node.classList.add("flash");
    window.setTimeout(() => node.classList.remove("flash"), 4000);
  }
  function alarm(a) {
    const record = { alert_id: a.alert_id, severity: a.severity, sound: false, flash: false,
                     audio: audio ? audio.state : "none" };
    if (setting("sound")) record.sound = beep(a.severity === "critical" ? 3 : 2);
    if (setting("flash")) {
      flash(document.getElementById("alert-" + a.alert_id));
      flash(document.getElementById("tile-" + a.kiosk_id));
      flash($("#alerts-title"));
      record.flash = true;
    }
    (window.invigilAlarms = window.invigilAlarms || []).push(record);  // read by the tests
  }

  // --- incidents, events ------------------------------------------------------------------------------
  /** The incident form says whose attempt a report attaches to: the selected seat's, or the room. */
  function syncIncidentAbout() {
    const select = $("#incident-about");
    const t = selection.size === 1 ? tiles.get(anchor) : null;
    const options = [el("option", { value: "" }, "The whole room (no candidate)")];
    if (t) {
      const what = t.shown_attempt_id ? `${whoOnSeat(t)}, attempt ${t.shown_attempt_id}` : `${seatName(t)}, kiosk ${t.kiosk_id} (no candidate)`;
      options.unshift(el("option", { value: `${t.kiosk_id}|${t.shown_attempt_id || ""}` }, what));
    }
    const keep = select.value;
    select.replaceChildren(...options);
    if ([...select.options].some((o) => o.value === keep) && keep !== "") select.value = keep;
    else select.selectedIndex = 0;
  }
  async function onIncident(ev) {
    ev.preventDefault();
    const form = ev.currentTarget, data = formData(form);
    const [kioskId, attemptId] = (data.about || "|").split("|");
    const reply = await act({ type: "incident", kiosk_id: kioskId || "", attempt_id: attemptId || "", category: data.category, text: data.text });
    if (!reply.ok) { showResult(`Not done: ${reply.error}`, false); return; }
    const r = reply.result;
    const about = r.candidate_id ? `${person(r.candidate_name, r.candidate_id)}${r.seat ? `, seat ${r.seat}` : ""}, attempt ${r.attempt_id}`
      : r.kiosk_id ? `kiosk ${r.kiosk_id}` : "the whole room";
    showResult(`Incident report ${r.incident_id} recorded about ${about}.`, true);
    form.reset();
    syncIncidentAbout();
  }
  function onEvent(e) {
    const t = tiles.get(e.kiosk_id);
    const feed = $("#event-feed");
    feed.prepend(el("li", { class: "sev-" + e.severity },
      `${clockTime(e.wall_time)} · ${t ? whoOnSeat(t) : e.kiosk_id} · ${eventWords(e.type)} (${e.severity})`));
    while (feed.children.length > 100) feed.lastChild.remove();
  }
  function onCommand(c) {
    const t = tiles.get(c.kiosk_id);
    const who = t ? whoOnSeat(t) : `kiosk ${c.kiosk_id}`;
    const kind = actionName(COMMAND_ACTION[c.type] || c.type);
    const text = c.status === "acked" ? `${kind}, ${who}: done.`
      : `${kind}, ${who}: ${c.status === "failed" ? "refused by the kiosk" : c.status}${c.error ? ` (${c.reason || c.error})` : ""}.`;
    showResult(text, c.status === "acked");
  }

  // --- start --------------------------------------------------------------------------------------
  function refreshAgo() {
    for (const node of $$(".ago[data-time]")) node.textContent = ago(node.dataset.time);
    if (!panel().hidden && selection.size === 1) seatPanel(tiles.get(anchor));
  }
  function onTileMessage(t) {
    renderTile(t);
    applyFilter();
    if (selection.has(t.kiosk_id)) showPanel();
  }
  function connect() {
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
      alerts.clear();
      snap.alerts.forEach((a) => alerts.set(a.alert_id, a));
      renderAlerts();
      applyFilter();
      showPanel();
    });
    socket.on("kiosk", onTileMessage);
    socket.on("alert", onAlert);
    socket.on("command_status", onCommand);
    socket.on("kiosk_event", onEvent);
  }
  function showAdmitPhoto() {
    // The signed roster's photo of the chosen candidate, to compare with the person and their ID.
    const option = $('#admit-form select[name="candidate_id"]').selectedOptions[0];
    const figure = $("#admit-photo"), img = $("#admit-photo-img");
    figure.hidden = !option || !option.value;
    if (figure.hidden) return;
    const src = option.dataset.photo;
    img.hidden = !src;
    if (src) { img.src = src; img.alt = `Photo of ${option.dataset.name} from the signed roster`; }
    else { img.removeAttribute("src"); img.alt = ""; }
    $("#admit-photo-caption").textContent = src
      ? "Compare the photo with the candidate and their identity document."
      : "No photo on the roster: check the identity document.";
  }
  function wire() {
    $('#admit-form select[name="candidate_id"]').addEventListener("change", showAdmitPhoto);
    $("#seat-map").addEventListener("keydown", onSeatKey);
    $("#seat-search").addEventListener("input", applyFilter);
    for (const radio of $$('input[name="seat-filter"]')) radio.addEventListener("change", applyFilter);
    $("#select-shown").addEventListener("click", () => {
      for (const b of visibleTiles()) selection.add(b.dataset.kiosk);
      anchor = anchor && selection.has(anchor) ? anchor : [...selection].pop() || null;
      markSelection(); showPanel();
      announce(`${selection.size} seats selected.`);
    });
    $("#clear-selection").addEventListener("click", clearSelection);
    $("#start-all").addEventListener("click", startAll);
    $("#mass-pause-open").addEventListener("click", massPause);
    $("#panel-close").addEventListener("click", closePanel);
    $("#panel").addEventListener("keydown", (ev) => { if (ev.key === "Escape") { ev.preventDefault(); closePanel(); } });
    for (const form of $$("#panel form[data-action]")) form.addEventListener("submit", onPanelForm);
    for (const button of $$("#panel button[data-action]")) button.addEventListener("click", onPanelButton);
    $("#incident-form").addEventListener("submit", onIncident);
    for (const [name, id] of [["sound", "#alarm-sound"], ["flash", "#alarm-flash"]]) {
      const box = $(id);
      box.checked = setting(name);
      box.addEventListener("change", () => localStorage.setItem(SETTINGS[name], box.checked ? "on" : "off"));
    }
    $("#alarm-test").addEventListener("click", () => { wakeAudio(); beep(2); });
    document.addEventListener("pointerdown", wakeAudio, { capture: true });
    document.addEventListener("keydown", wakeAudio, { capture: true });
    window.addEventListener("resize", placePanel);
    window.setInterval(refreshAgo, 15000);
  }
  document.addEventListener("DOMContentLoaded", () => { wire(); connect(); });
})();
