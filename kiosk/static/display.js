// Display settings: text size and contrast for every candidate (self-service, no accommodation
// needed), larger text sizes and zoom for those the roster grants them to.
//
// Why the page holds the settings: a candidate may change them on the waiting and identity
// screens, before the attempt's journal exists. Once it does (the agreement screen on), every
// change is posted and journaled (``accommodation`` rows), so a reload or a kiosk restart brings
// them back and the sealed result records what was used. What a person chose on the waiting screen
// stays with them when they are admitted; a new candidate after that starts from the defaults again
// (or from their own granted accommodations): nothing of the previous candidate's carries over.
import { api } from './api.js';
import { $, el } from './dom.js';

const SIZE_NAMES = { 100: 'Standard', 125: 'Large', 150: 'Larger', 175: 'Very large', 200: 'Largest' };

const display = {
  attempt: undefined,
  textSize: 100,
  highContrast: false,
  zoom: 100,
  sizes: [100, 125, 150],
  zoomGranted: 100,
  touched: false,      // changed by hand since the last candidate
  unsynced: new Set(), // settings changed before the journal existed, posted once it does
};

function apply() {
  const root = document.documentElement;
  // Zoom multiplies the text size and scales the question's images, so the layout reflows at any
  // size (the browser's own zoom, or CSS zoom on the page, would make it overflow a 1024 px screen).
  root.style.setProperty('--text-scale', String((display.textSize / 100) * (display.zoom / 100)));
  root.style.setProperty('--img-zoom', String(display.zoom / 100));
  root.classList.toggle('high-contrast', display.highContrast);
  for (const radio of document.querySelectorAll('input[name="text-size"]')) radio.checked = Number(radio.value) === display.textSize;
  for (const radio of document.querySelectorAll('input[name="contrast"]')) {
    radio.checked = (radio.value === 'high') === display.highContrast;
  }
  $('zoom-toggle').checked = display.zoom !== 100;
  onLayout();
}

function drawSizes() {
  const holder = $('text-sizes');
  if (holder.dataset.sizes === display.sizes.join(',')) return;
  holder.dataset.sizes = display.sizes.join(',');
  holder.replaceChildren(...display.sizes.map((size) => {
    const input = el('input', { type: 'radio', name: 'text-size', value: size });
    input.addEventListener('change', () => change('text_size', size));
    return el('label', { className: 'option' }, [input, ` ${SIZE_NAMES[size]} (${size}%)`]);
  }));
}

function setLocal(name, value) {
  if (name === 'text_size') display.textSize = value;
  else if (name === 'high_contrast') display.highContrast = value;
  else if (name === 'zoom') display.zoom = value;
}

function current(name) {
  return { text_size: display.textSize, high_contrast: display.highContrast, zoom: display.zoom }[name];
}

let sessionOpen = false;
let onLayout = () => {};

// The page's layout depends on the text size: ``fn`` runs after every change of the settings.
export function onLayoutChange(fn) { onLayout = fn; }

async function post(name) {
  try {
    await api.post('accommodation', { name, value: current(name) });
    display.unsynced.delete(name);
  } catch (err) {
    display.unsynced.add(name); // retried with the next state
  }
}

function change(name, value) {
  display.touched = true;
  setLocal(name, value);
  apply();
  display.unsynced.add(name);
  if (sessionOpen) post(name);
}

// A new candidate: defaults, or what the roster grants (switched on for them, switchable off).
function reset(state) {
  const granted = (state.accommodations && state.accommodations.granted) || {};
  const active = (state.accommodations && state.accommodations.active) || {};
  display.unsynced = new Set();
  display.touched = false;
  display.textSize = active.text_size ?? (granted.large_text ? 175 : 100);
  display.highContrast = active.high_contrast ?? (granted.high_contrast === true);
  display.zoom = active.zoom ?? 100; // offered, not imposed: with large text it would multiply
  for (const name of ['text_size', 'high_contrast', 'zoom']) {
    if (!(name in active) && current(name) !== { text_size: 100, high_contrast: false, zoom: 100 }[name]) display.unsynced.add(name);
  }
}

// Called with every polled state.
export function updateDisplay(state) {
  const key = state.attempt_key || null;
  if (key !== display.attempt) {
    // The person who changed the settings while waiting is the one admitted now: theirs to keep.
    const theirs = display.attempt === null && key !== null && display.touched;
    display.attempt = key;
    if (theirs) ['text_size', 'high_contrast', 'zoom'].forEach((name) => display.unsynced.add(name));
    else reset(state);
  }
  const options = state.display || {};
  display.sizes = options.text_sizes || [100, 125, 150];
  display.zoomGranted = options.zoom_percent || 100;
  if (!display.sizes.includes(display.textSize)) display.textSize = 100;
  drawSizes();
  $('zoom-row').hidden = display.zoomGranted === 100;
  $('zoom-label').textContent = `Zoom the whole page to ${display.zoomGranted}%`;
  sessionOpen = state.session_open === true;
  if (sessionOpen) for (const name of [...display.unsynced]) post(name);
  apply();
}

function togglePanel(open) {
  const panel = $('display-panel');
  const button = $('btn-display');
  panel.hidden = !open;
  button.setAttribute('aria-expanded', String(open));
  if (open) panel.querySelector('input:checked, input').focus();
  else button.focus();
}

export function wireDisplay() {
  $('btn-display').addEventListener('click', () => togglePanel($('display-panel').hidden));
  $('btn-display-close').addEventListener('click', () => togglePanel(false));
  $('display-panel').addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); togglePanel(false); } });
  for (const radio of document.querySelectorAll('input[name="contrast"]')) {
    radio.addEventListener('change', () => change('high_contrast', radio.value === 'high'));
  }
  $('zoom-toggle').addEventListener('change', (e) => change('zoom', e.target.checked ? display.zoomGranted : 100));
}
