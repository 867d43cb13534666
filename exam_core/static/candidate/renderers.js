// One renderer per interaction type of exam_core.model.INTERACTION_TYPES. Each renders into a
// container, shows the saved value, and calls onChange(value) with a value in the JSON shape the
// model's docstring fixes (identifier, [ids], [[a, b], ...], [x, y], text). Every control is a
// native form control or a button, so it works with the keyboard and has an accessible name; a
// group of options is named by its question (the item's own text before it, then its prompt), so
// a screen reader announces what is asked, not "Choose one answer."
import { el, fragment, nextId, plain } from './dom.js';

export { fragment };

function promptBlock(interaction) {
  if (!interaction.prompt_html) return null;
  const id = nextId('prompt');
  return [el('div', { className: 'prompt', id }, [fragment(interaction.prompt_html)]), id];
}

function choiceLabel(choice) {
  const span = el('span', { className: 'choice-text' });
  span.append(fragment(choice.html || choice.id));
  return span;
}

function groupName(interaction) {
  return plain(interaction.prompt_html) || 'Answer options';
}

// aria-labelledby for a group: the question's own text (ctx.stemIds), then the group's label.
function labelledBy(ctx, ownId) {
  return [...((ctx && ctx.stemIds) || []), ownId].filter(Boolean).join(' ') || undefined;
}

// --- choice (single: radio buttons, multiple: check boxes) --------------------------------------
// With the strike-through tool each option gets a toggle that crosses it out (a note to self:
// the option stays selectable, and its name says it is struck out).
function strikeButton(row, choice, strike) {
  const name = plain(choice.html) || choice.id;
  const button = el('button', { type: 'button', className: 'strike', 'aria-pressed': String(strike.struck.has(choice.id)),
                                'aria-label': `Strike out ${name}`, text: 'Strike out' });
  const mark = el('span', { className: 'visually-hidden', text: ' (struck out)' });
  const apply = (on) => {
    button.setAttribute('aria-pressed', String(on));
    row.classList.toggle('struck', on);
    mark.hidden = !on;
  };
  button.addEventListener('click', () => {
    const on = button.getAttribute('aria-pressed') !== 'true';
    apply(on);
    strike.toggle(choice.id, on);
  });
  apply(strike.struck.has(choice.id));
  return [button, mark];
}

function renderChoice(box, it, value, onChange, announce, ctx) {
  const multiple = it.cardinality !== 'single';
  const chosen = new Set(multiple ? (value || []) : (value ? [value] : []));
  const legendId = nextId('legend');
  const fieldset = el('fieldset', { className: 'choices', 'aria-labelledby': labelledBy(ctx, legendId) },
                      [el('legend', { id: legendId, text: groupName(it) })]);
  const name = nextId(`r-${it.response_id}`);
  const inputs = [];
  const limit = multiple && it.max_choices > 0 ? it.max_choices : Infinity;
  const enforce = () => {
    const count = inputs.filter((i) => i.checked).length;
    for (const input of inputs) input.disabled = !input.checked && count >= limit;
  };
  for (const choice of it.choices) {
    const input = el('input', { type: multiple ? 'checkbox' : 'radio', name, value: choice.id });
    input.checked = chosen.has(choice.id);
    inputs.push(input);
    input.addEventListener('change', () => {
      enforce();
      if (multiple) onChange(inputs.filter((i) => i.checked).map((i) => i.value));
      else onChange(input.value);
    });
    const label = el('label', { className: 'choice' }, [input, choiceLabel(choice)]);
    const row = el('div', { className: 'choice-row', 'data-choice': choice.id }, [label]);
    if (ctx && ctx.strike) {
      const [button, mark] = strikeButton(row, choice, ctx.strike);
      label.append(mark);
      row.append(button);
    }
    fieldset.append(row);
  }
  if (multiple && limit !== Infinity) {
    fieldset.append(el('p', { className: 'hint', text: `Choose up to ${limit}.` }));
  }
  enforce();
  box.append(fieldset);
}

// --- inline choice: a select inside the sentence --------------------------------------------------
function renderInlineChoice(box, it, value, onChange) {
  const select = el('select', { 'aria-label': plain(it.prompt_html) || 'Choose the missing word' });
  select.append(el('option', { value: '', text: 'Choose…' }));
  for (const choice of it.choices) {
    const option = el('option', { value: choice.id, text: plain(choice.html) || choice.id });
    option.selected = choice.id === value;
    select.append(option);
  }
  select.addEventListener('change', () => onChange(select.value || null));
  box.append(select);
}

// --- text entry and extended text: saved while typing (debounced) and on leaving the field ------
function textValue(it, raw) {
  if (raw === '') return null;
  if (it.base_type === 'integer') {
    const n = Number(raw);
    return Number.isInteger(n) ? n : undefined;
  }
  if (it.base_type === 'float') {
    const n = Number(raw);
    return Number.isFinite(n) ? n : undefined;
  }
  return raw;
}

function bindText(control, it, onChange) {
  let timer = null;
  let last = control.value;
  const flush = () => {
    clearTimeout(timer);
    if (control.value === last) return;
    last = control.value;
    const v = textValue(it, control.value);
    if (v === undefined) { control.setAttribute('aria-invalid', 'true'); return; }
    control.removeAttribute('aria-invalid');
    onChange(v);
  };
  control.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(flush, 400); });
  control.addEventListener('blur', flush);
  control.addEventListener('change', flush);
}

function renderTextEntry(box, it, value, onChange) {
  const input = el('input', {
    type: 'text', className: 'text-entry', autocomplete: 'off', spellcheck: 'false',
    'aria-label': plain(it.prompt_html) || 'Your answer',
    size: Math.min(Math.max(it.expected_length || 12, 6), 40),
    inputmode: it.base_type === 'integer' || it.base_type === 'float' ? 'decimal' : undefined,
  });
  input.value = value === null || value === undefined ? '' : String(value);
  bindText(input, it, onChange);
  box.append(input);
}

function renderExtendedText(box, it, value, onChange) {
  const prompt = promptBlock(it);
  const area = el('textarea', {
    className: 'extended', rows: Math.min(it.expected_lines || 8, 30), spellcheck: 'false',
    'aria-label': prompt ? undefined : 'Your answer', 'aria-labelledby': prompt ? prompt[1] : undefined,
  });
  area.value = value || '';
  bindText(area, it, onChange);
  if (prompt) box.append(prompt[0]);
  box.append(area);
}

// --- order: a list with move buttons --------------------------------------------------------------
// entries: [{id, name (plain text), label (a node)}]; onDraw(order) lets a caller show the order
// elsewhere too (graphic order numbers the image's areas).
function orderList(box, entries, value, onChange, announce, prompt, onDraw = () => {}) {
  const byId = Object.fromEntries(entries.map((e) => [e.id, e]));
  let order = Array.isArray(value) && value.length === entries.length ? value.slice() : entries.map((e) => e.id);
  const list = el('ol', { className: 'order no-mark', 'aria-labelledby': prompt ? prompt[1] : undefined,
                          'aria-label': prompt ? undefined : 'Items to put in order' });
  const draw = (focusId, direction) => {
    list.replaceChildren();
    order.forEach((id, pos) => {
      const name = byId[id].name;
      const up = el('button', { type: 'button', className: 'mini', 'data-dir': 'up', 'aria-label': `Move ${name} up`, text: '↑' });
      const down = el('button', { type: 'button', className: 'mini', 'data-dir': 'down', 'aria-label': `Move ${name} down`, text: '↓' });
      up.disabled = pos === 0;
      down.disabled = pos === order.length - 1;
      up.addEventListener('click', () => move(pos, -1));
      down.addEventListener('click', () => move(pos, +1));
      list.append(el('li', { className: 'order-item', 'data-id': id }, [byId[id].label.cloneNode(true), up, down]));
      if (id === focusId) {
        const target = direction < 0 ? (up.disabled ? down : up) : (down.disabled ? up : down);
        setTimeout(() => target.focus(), 0);
      }
    });
    onDraw(order);
  };
  const move = (pos, delta) => {
    const to = pos + delta;
    if (to < 0 || to >= order.length) return;
    const id = order[pos];
    [order[pos], order[to]] = [order[to], order[pos]];
    draw(id, delta);
    announce(`${byId[id].name} moved to position ${to + 1} of ${order.length}`);
    onChange(order.slice());
  };
  const keep = el('button', { type: 'button', className: 'secondary', text: 'Keep this order' });
  keep.addEventListener('click', () => { announce('Order saved as shown'); onChange(order.slice()); });
  draw();
  box.append(list, keep);
}

function renderOrder(box, it, value, onChange, announce) {
  const entries = it.choices.map((c) => ({ id: c.id, name: plain(c.html) || c.id, label: choiceLabel(c) }));
  const prompt = promptBlock(it);
  if (prompt) box.append(prompt[0]);
  orderList(box, entries, value, onChange, announce, prompt);
}

// --- match: a grid of check boxes, sources by targets -------------------------------------------
function renderMatch(box, it, value, onChange, announce, ctx) {
  const pairs = new Set((value || []).map((p) => `${p[0]} ${p[1]}`));
  const prompt = plain(it.prompt_html) || 'Match each item';
  const captionId = nextId('caption');
  const table = el('table', { className: 'match', 'aria-labelledby': labelledBy(ctx, captionId) },
                   [el('caption', { id: captionId, text: prompt })]);
  const head = el('tr', {}, [el('td')]);
  for (const t of it.targets) head.append(el('th', { scope: 'col' }, [choiceLabel(t)]));
  table.append(el('thead', {}, [head]));
  const body = el('tbody');
  const boxes = [];
  const limits = Object.fromEntries([...it.choices, ...it.targets].map((c) => [c.id, c.match_max]));
  const enforce = () => {
    const used = {};
    for (const b of boxes) if (b.checked) {
      used[b.dataset.s] = (used[b.dataset.s] || 0) + 1;
      used[b.dataset.t] = (used[b.dataset.t] || 0) + 1;
    }
    for (const b of boxes) {
      const full = (id) => limits[id] > 0 && (used[id] || 0) >= limits[id];
      b.disabled = !b.checked && (full(b.dataset.s) || full(b.dataset.t));
    }
  };
  for (const s of it.choices) {
    const row = el('tr', {}, [el('th', { scope: 'row' }, [choiceLabel(s)])]);
    for (const t of it.targets) {
      const cb = el('input', { type: 'checkbox', 'aria-label': `Match ${plain(s.html) || s.id} with ${plain(t.html) || t.id}` });
      cb.dataset.s = s.id;
      cb.dataset.t = t.id;
      cb.checked = pairs.has(`${s.id} ${t.id}`);
      cb.addEventListener('change', () => {
        enforce();
        onChange(boxes.filter((b) => b.checked).map((b) => [b.dataset.s, b.dataset.t]));
      });
      boxes.push(cb);
      row.append(el('td', {}, [cb]));
    }
    body.append(row);
  }
  table.append(body);
  enforce();
  box.append(table);
}

// --- associate: pick two options, add the pair; remove pairs --------------------------------------
// options: [{id, name, match_max}]; with enforceMax a pair that would use an option more than its
// match_max allows is refused on the page (graphic associate); onDraw(pairs) shows pairs elsewhere.
function pairPicker(box, it, options, value, onChange, announce, ctx, { enforceMax = false, onDraw = () => {} } = {}) {
  let pairs = (value || []).map((p) => p.slice());
  const byId = Object.fromEntries(options.map((o) => [o.id, o]));
  const name = (id) => (byId[id] || {}).name || id;
  const prompt = promptBlock(it);
  const legendId = nextId('legend');
  const group = el('fieldset', { className: 'associate', 'aria-labelledby': labelledBy(ctx, legendId) },
                   [el('legend', { id: legendId, text: plain(it.prompt_html) || 'Make pairs' })]);
  const makeSelect = (label) => {
    const select = el('select', { 'aria-label': label });
    select.append(el('option', { value: '', text: 'Choose…' }));
    for (const o of options) select.append(el('option', { value: o.id, text: o.name }));
    return select;
  };
  const first = makeSelect('First item of the pair');
  const second = makeSelect('Second item of the pair');
  const add = el('button', { type: 'button', className: 'secondary', text: 'Add pair' });
  const list = el('ul', { className: 'pairs no-mark', 'aria-label': 'Your pairs' });
  const draw = () => {
    list.replaceChildren();
    if (!pairs.length) list.append(el('li', { className: 'hint', text: 'No pairs yet.' }));
    pairs.forEach((p, i) => {
      const remove = el('button', { type: 'button', className: 'mini', text: 'Remove',
                                    'aria-label': `Remove pair ${name(p[0])} and ${name(p[1])}` });
      remove.addEventListener('click', () => {
        pairs.splice(i, 1);
        draw();
        announce('Pair removed');
        onChange(pairs.length ? pairs.map((x) => x.slice()) : null);
        add.focus();
      });
      list.append(el('li', {}, [el('span', { text: `${name(p[0])} — ${name(p[1])} ` }), remove]));
    });
    onDraw(pairs);
  };
  const full = (id) => {
    const limit = (byId[id] || {}).match_max || 0;
    return enforceMax && limit > 0 && pairs.filter((p) => p.includes(id)).length >= limit;
  };
  add.addEventListener('click', () => {
    const a = first.value;
    const b = second.value;
    if (!a || !b || a === b) { announce('Choose two different items'); return; }
    if (pairs.some((p) => (p[0] === a && p[1] === b) || (p[0] === b && p[1] === a))) { announce('That pair exists already'); return; }
    if (it.max_choices > 0 && pairs.length >= it.max_choices) { announce(`At most ${it.max_choices} pairs`); return; }
    const used = [a, b].find(full);
    if (used) { announce(`${name(used)} is already in as many pairs as it may be`); return; }
    pairs.push([a, b]);
    draw();
    announce(`Pair added: ${name(a)} and ${name(b)}`);
    onChange(pairs.map((x) => x.slice()));
  });
  group.append(el('div', { className: 'pair-pickers' }, [first, second, add]), list);
  if (prompt) box.append(prompt[0]);
  draw();
  box.append(group);
}

function renderAssociate(box, it, value, onChange, announce, ctx) {
  const options = it.choices.map((c) => ({ id: c.id, name: plain(c.html) || c.id, match_max: c.match_max }));
  pairPicker(box, it, options, value, onChange, announce, ctx);
}

// A choice's name in a list: its text, or for a picture (QTI gapImg) the picture's alt text.
function choiceName(c) {
  const text = plain(c.html);
  if (text) return text;
  const holder = el('div');
  holder.append(fragment(c.html));
  const pic = holder.querySelector('img');
  return (pic && pic.getAttribute('alt')) || c.id;
}

// Picture choices shown with their names, so the lists that offer them by name can be matched to
// what they show (null when no choice is a picture).
function imagePalette(choices) {
  const pictures = choices.filter((c) => !plain(c.html) && /<img\b/.test(c.html));
  if (!pictures.length) return null;
  const list = el('ul', { className: 'gap-pictures no-mark', 'aria-label': 'Pictures to place' });
  for (const c of pictures) {
    list.append(el('li', {}, [el('figure', {}, [fragment(c.html), el('figcaption', { 'aria-hidden': 'true', text: choiceName(c) })])]));
  }
  return list;
}

// --- gap match: a select in each gap of the text --------------------------------------------------
function renderGapMatch(box, it, value, onChange) {
  const filled = Object.fromEntries((value || []).map((p) => [p[1], p[0]]));
  const prompt = promptBlock(it);
  const text = el('div', { className: 'gap-text' });
  text.append(fragment(it.content_html));
  const selects = [];
  let n = 0;
  for (const gap of text.querySelectorAll('[data-gap]')) {
    n += 1;
    const select = el('select', { 'aria-label': `Gap ${n}` });
    select.dataset.gap = gap.getAttribute('data-gap');
    select.append(el('option', { value: '', text: `Gap ${n}…` }));
    for (const c of it.choices) {
      const option = el('option', { value: c.id, text: choiceName(c) });
      option.selected = filled[select.dataset.gap] === c.id;
      select.append(option);
    }
    select.addEventListener('change', () => {
      const pairs = selects.filter((s) => s.value).map((s) => [s.value, s.dataset.gap]);
      onChange(pairs.length ? pairs : null);
    });
    selects.push(select);
    gap.replaceWith(select);
  }
  if (prompt) box.append(prompt[0]);
  const palette = imagePalette(it.choices);
  if (palette) box.append(palette);
  box.append(text);
}

// --- hot text: words in the text become toggle buttons ---------------------------------------------
function renderHottext(box, it, value, onChange, announce, ctx) {
  const multiple = it.cardinality !== 'single';
  const chosen = new Set(multiple ? (value || []) : (value ? [value] : []));
  const prompt = promptBlock(it);
  const text = el('div', { className: 'hottext', role: 'group',
                           'aria-labelledby': prompt ? labelledBy(ctx, prompt[1]) : undefined,
                           'aria-label': prompt ? undefined : 'Select words in the text' });
  text.append(fragment(it.content_html));
  const buttons = [];
  for (const span of text.querySelectorAll('[data-hottext]')) {
    const id = span.getAttribute('data-hottext');
    const button = el('button', { type: 'button', className: 'hot', 'aria-pressed': String(chosen.has(id)) });
    button.dataset.id = id;
    button.append(...span.childNodes);
    button.addEventListener('click', () => {
      const on = button.getAttribute('aria-pressed') !== 'true';
      if (!multiple) for (const b of buttons) b.setAttribute('aria-pressed', 'false');
      const count = buttons.filter((b) => b.getAttribute('aria-pressed') === 'true').length;
      if (on && multiple && it.max_choices > 0 && count >= it.max_choices) return;
      button.setAttribute('aria-pressed', String(on));
      const ids = buttons.filter((b) => b.getAttribute('aria-pressed') === 'true').map((b) => b.dataset.id);
      onChange(multiple ? ids : (ids[0] || null));
    });
    buttons.push(button);
    span.replaceWith(button);
  }
  if (prompt) box.append(prompt[0]);
  box.append(text);
}

// --- hotspot: focusable areas drawn over the image ---------------------------------------------------
const SVG = 'http://www.w3.org/2000/svg';

function shape(h) {
  const c = h.coords;
  let node;
  if (h.shape === 'rect') {
    node = document.createElementNS(SVG, 'rect');
    node.setAttribute('x', c[0]); node.setAttribute('y', c[1]);
    node.setAttribute('width', c[2] - c[0]); node.setAttribute('height', c[3] - c[1]);
  } else if (h.shape === 'circle') {
    node = document.createElementNS(SVG, 'circle');
    node.setAttribute('cx', c[0]); node.setAttribute('cy', c[1]); node.setAttribute('r', c[2]);
  } else if (h.shape === 'ellipse') {
    node = document.createElementNS(SVG, 'ellipse');
    node.setAttribute('cx', c[0]); node.setAttribute('cy', c[1]);
    node.setAttribute('rx', c[2]); node.setAttribute('ry', c[3]);
  } else {
    node = document.createElementNS(SVG, 'polygon');
    const pts = [];
    for (let i = 0; i + 1 < c.length; i += 2) pts.push(`${c[i]},${c[i + 1]}`);
    node.setAttribute('points', pts.join(' '));
  }
  return node;
}

function renderHotspot(box, it, value, onChange, announce, ctx) {
  if (it.base_type === 'point') { renderSelectPoint(box, it, value, onChange, announce); return; }
  const multiple = it.cardinality !== 'single';
  const prompt = promptBlock(it);
  const img = it.image || {};
  const width = img.width || 400;
  const height = img.height || 300;
  const stage = el('div', { className: 'hotspot-stage' });
  stage.append(el('img', { src: img.src, alt: img.alt || 'Image to select areas on', width, height }));
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'hotspot-layer');
  svg.setAttribute('role', multiple ? 'group' : 'radiogroup');
  if (prompt) svg.setAttribute('aria-labelledby', labelledBy(ctx, prompt[1]));
  else svg.setAttribute('aria-label', 'Areas of the image');
  const chosen = new Set(multiple ? (value || []) : (value ? [value] : []));
  const areas = [];
  it.hotspots.forEach((h, i) => {
    const node = shape(h);
    node.setAttribute('class', 'area');
    node.setAttribute('tabindex', '0');
    node.setAttribute('role', multiple ? 'checkbox' : 'radio');
    node.setAttribute('aria-label', h.label || `Area ${i + 1}`);
    node.setAttribute('aria-checked', String(chosen.has(h.id)));
    node.dataset.id = h.id;
    const toggle = () => {
      const on = node.getAttribute('aria-checked') !== 'true' || !multiple;
      if (!multiple) for (const a of areas) a.setAttribute('aria-checked', 'false');
      const count = areas.filter((a) => a.getAttribute('aria-checked') === 'true').length;
      if (on && multiple && it.max_choices > 0 && count >= it.max_choices) return;
      node.setAttribute('aria-checked', String(on));
      const ids = areas.filter((a) => a.getAttribute('aria-checked') === 'true').map((a) => a.dataset.id);
      onChange(multiple ? ids : (ids[0] || null));
    };
    node.addEventListener('click', toggle);
    node.addEventListener('keydown', (e) => {
      if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); toggle(); }
    });
    areas.push(node);
    svg.append(node);
  });
  stage.append(svg);
  if (prompt) box.append(prompt[0]);
  box.append(stage);
  const list = el('p', { className: 'hint', text: `Use Tab to reach each area and Space to select it (${it.hotspots.length} areas).` });
  box.append(list);
}

// --- select point (QTI selectPointInteraction: a hotspot interaction of base type point, no areas) ---
// The image is drawn at the size the server checks points against (image pixel coordinates). A
// click places a point; so does the keyboard: the arrow keys move a cross (Shift: one pixel at a
// time), Enter or Space places a point there, Delete or Backspace removes the last one. Where the
// cross is, and each point placed, is said in words (pixels, percentages and a rough region).
const svgEl = (tag, attrs = {}) => {
  const node = document.createElementNS(SVG, tag);
  for (const [key, v] of Object.entries(attrs)) node.setAttribute(key, String(v));
  return node;
};

function region(x, y, width, height) {
  const col = ['left', 'centre', 'right'][Math.min(2, Math.floor((3 * x) / (width + 1)))];
  const row = ['top', 'middle', 'bottom'][Math.min(2, Math.floor((3 * y) / (height + 1)))];
  return row === 'middle' && col === 'centre' ? 'centre' : `${row} ${col}`;
}

// A pixel position on a picture: rounded, and kept within 0..hi.
const clamp = (v, hi) => Math.min(hi, Math.max(0, Math.round(v)));

function renderSelectPoint(box, it, value, onChange, announce) {
  const img = it.image || {};
  const { width, height } = img;
  if (!img.src || !width || !height) {
    box.append(el('p', { text: 'This image cannot be shown. Please tell the proctor.' }));
    return;
  }
  const multiple = it.cardinality !== 'single';
  const limit = !multiple ? 1 : (it.max_choices > 0 ? it.max_choices : Infinity);
  let points = multiple ? (value || []).map((p) => p.slice()) : (value ? [value.slice()] : []);
  let cross = points.length ? points[points.length - 1].slice() : [Math.round(width / 2), Math.round(height / 2)];
  const step = Math.max(1, Math.round(Math.min(width, height) / 40));
  const pct = (v, of) => `${Math.round((100 * v) / of)}%`;
  const describe = ([x, y]) => `x ${x}, y ${y} of ${width} by ${height} pixels, `
    + `${pct(x, width)} from the left and ${pct(y, height)} from the top (${region(x, y, width, height)})`;

  const prompt = promptBlock(it);
  const helpId = nextId('point-help');
  const whereId = nextId('point-where');
  const stage = el('div', {
    className: 'point-stage', tabindex: 0, role: 'application', 'aria-roledescription': 'point picker',
    'aria-label': plain(it.prompt_html) || 'Place a point on the image', 'aria-describedby': `${helpId} ${whereId}`,
  });
  stage.append(el('img', { src: img.src, alt: img.alt || 'Image to place points on', width, height, draggable: 'false' }));
  const layer = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, class: 'point-layer', preserveAspectRatio: 'none',
                               'aria-hidden': 'true' });
  const marks = svgEl('g');
  const h = svgEl('line', { class: 'cross', x1: 0, x2: width });
  const v = svgEl('line', { class: 'cross', y1: 0, y2: height });
  layer.append(marks, h, v);
  stage.append(layer);
  const where = el('p', { id: whereId, className: 'point-where no-mark', 'aria-live': 'polite' });
  const more = limit === Infinity ? ' You may place several points.' : (limit > 1 ? ` You may place up to ${limit} points.` : '');
  const help = el('p', { id: helpId, className: 'hint',
    text: 'Click the image, or use the arrow keys to move the cross (with Shift, one pixel at a time) and press '
      + `Enter to place a point there. Delete removes the last point.${more}` });
  const list = el('ol', { className: 'points no-mark', 'aria-label': 'Your points' });

  const emit = () => {
    const copy = points.map((p) => p.slice());
    onChange(copy.length ? (multiple ? copy : copy[0]) : null);
  };
  const draw = () => {
    h.setAttribute('y1', cross[1]); h.setAttribute('y2', cross[1]);
    v.setAttribute('x1', cross[0]); v.setAttribute('x2', cross[0]);
    where.textContent = `Cross at ${describe(cross)}.`;
    marks.replaceChildren(...points.map((p, i) => {
      const g = svgEl('g', { class: 'mark' });
      g.append(svgEl('circle', { cx: p[0], cy: p[1], r: Math.max(3, step) }));
      const label = svgEl('text', { x: p[0] + Math.max(4, step) + 2, y: p[1] - Math.max(4, step) });
      label.textContent = String(i + 1);
      g.append(label);
      return g;
    }));
    list.replaceChildren();
    if (!points.length) list.append(el('li', { className: 'hint', text: 'No point placed yet.' }));
    points.forEach((p, i) => {
      const remove = el('button', { type: 'button', className: 'mini', text: 'Remove', 'aria-label': `Remove point ${i + 1}` });
      remove.addEventListener('click', () => { points.splice(i, 1); draw(); announce(`Point ${i + 1} removed`); emit(); stage.focus(); });
      list.append(el('li', { 'data-x': p[0], 'data-y': p[1] }, [el('span', { text: `Point ${i + 1}: ${describe(p)} ` }), remove]));
    });
  };
  const place = (p) => {
    if (multiple && points.length >= limit) { announce(`At most ${limit} points: remove one first`); return; }
    points = multiple ? [...points, p] : [p];
    cross = p.slice();
    draw();
    announce(`Point ${points.length} placed at ${describe(p)}`);
    emit();
  };
  layer.addEventListener('click', (e) => {
    const at = new DOMPoint(e.clientX, e.clientY).matrixTransform(layer.getScreenCTM().inverse());
    stage.focus();
    place([clamp(at.x, width), clamp(at.y, height)]);
  });
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  stage.addEventListener('keydown', (e) => {
    if (moves[e.key]) {
      e.preventDefault();
      const d = e.shiftKey ? 1 : step;
      cross = [clamp(cross[0] + moves[e.key][0] * d, width), clamp(cross[1] + moves[e.key][1] * d, height)];
      draw();
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      place(cross.slice());
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && points.length) {
      e.preventDefault();
      points.pop();
      draw();
      announce(`Point ${points.length + 1} removed`);
      emit();
    }
  });
  if (prompt) box.append(prompt[0]);
  draw();
  box.append(stage, where, help, list);
}

// --- graphic order (QTI graphicOrderInteraction): areas of an image put in order -------------------
// The list below the image is the control (move buttons, as for an order item): it works by
// keyboard and pointer alike and names each area by its label. The image shows each area's
// current position as a number, so what the list says can be seen on the picture.
function centre(h) {
  const c = h.coords;
  if (h.shape === 'rect') return [(c[0] + c[2]) / 2, (c[1] + c[3]) / 2];
  if (h.shape === 'circle' || h.shape === 'ellipse') return [c[0], c[1]];
  const xs = c.filter((_, i) => i % 2 === 0);
  const ys = c.filter((_, i) => i % 2 === 1);
  const mean = (v) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  return [mean(xs), mean(ys)];
}

// The image of a graphic interaction with its areas outlined and numbered (aria-hidden: the lists
// below it are the controls); ``numbers`` lets a renderer renumber them, ``marks`` draw on top.
function graphicStage(it, altText) {
  const img = it.image || {};
  const width = img.width || 400;
  const height = img.height || 300;
  const stage = el('div', { className: 'hotspot-stage' });
  stage.append(el('img', { src: img.src, alt: img.alt || altText, width, height }));
  const layer = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, class: 'hotspot-layer', 'aria-hidden': 'true' });
  const marks = svgEl('g', { class: 'marks' });
  const numbers = {};
  it.hotspots.forEach((h, i) => {
    const area = shape(h);
    area.setAttribute('class', 'area');
    const [x, y] = centre(h);
    const badge = svgEl('g', { class: 'order-badge' });
    badge.append(svgEl('circle', { cx: x, cy: y, r: 12 }));
    const number = svgEl('text', { x, y, 'text-anchor': 'middle', 'dominant-baseline': 'central' });
    number.textContent = String(i + 1);
    numbers[h.id] = number;
    badge.append(number);
    layer.append(area, badge);
  });
  layer.append(marks);
  stage.append(layer);
  return { stage, marks, numbers };
}

function renderGraphicOrder(box, it, value, onChange, announce) {
  const prompt = promptBlock(it);
  const { stage, numbers } = graphicStage(it, 'Image with areas to put in order');
  stage.classList.add('graphic-order-stage');
  const entries = it.hotspots.map((h, i) => {
    const name = h.label || `Area ${i + 1}`;
    return { id: h.id, name, label: el('span', { className: 'choice-text', text: name }) };
  });
  if (prompt) box.append(prompt[0]);
  box.append(stage, el('p', { className: 'hint', text: 'Put the areas in order with the move buttons; '
    + 'the numbers on the image show the order.' }));
  orderList(box, entries, value, onChange, announce, prompt, (order) => {
    order.forEach((id, pos) => { numbers[id].textContent = String(pos + 1); });
  });
}

// --- slider (QTI sliderInteraction): a native range control and, for exact values, a number box ---
// Both are keyboard controls (arrows, Page Up/Down, Home/End on the slider; typing in the box) and
// stay in step. Nothing is saved until the candidate moves one: an untouched slider is no answer.
function sliderText(v) {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
}

function renderSlider(box, it, value, onChange, announce) {
  const range = it.slider;
  const step = range.step || 1;
  const prompt = promptBlock(it);
  const name = plain(it.prompt_html) || 'Choose a value';
  const outId = nextId('slider-value');
  const answered = value !== null && value !== undefined;
  const start = answered ? value : range.lower;
  const slider = el('input', { type: 'range', min: range.lower, max: range.upper, step,
                               className: `slider ${range.orientation}${range.reverse ? ' reverse' : ''}`,
                               'aria-labelledby': prompt ? prompt[1] : undefined,
                               'aria-label': prompt ? undefined : name, 'aria-describedby': outId });
  slider.value = String(start);
  const exact = el('input', { type: 'number', min: range.lower, max: range.upper, step, className: 'slider-exact',
                              'aria-label': `${name}: exact value` });
  exact.value = answered ? String(value) : '';
  const shown = el('output', { id: outId, className: 'slider-value', 'aria-live': 'polite',
                               text: answered ? `Your answer: ${sliderText(value)}` : 'No answer yet' });
  const offered = (v) => Number.isFinite(v) && v >= range.lower && v <= range.upper
    && Math.abs((v - range.lower) / step - Math.round((v - range.lower) / step)) < 1e-6;
  const save = (v) => {
    const clean = it.base_type === 'integer' ? Math.round(v) : Number(sliderText(v));
    shown.textContent = `Your answer: ${sliderText(clean)}`;
    onChange(clean);
  };
  slider.addEventListener('change', () => { exact.value = slider.value; save(Number(slider.value)); });
  slider.addEventListener('input', () => { shown.textContent = `Your answer: ${sliderText(Number(slider.value))}`; });
  exact.addEventListener('change', () => {
    const v = Number(exact.value);
    if (exact.value === '' || !offered(v)) {
      exact.setAttribute('aria-invalid', 'true');
      announce(`Enter a value from ${sliderText(range.lower)} to ${sliderText(range.upper)} in steps of ${sliderText(step)}`);
      return;
    }
    exact.removeAttribute('aria-invalid');
    slider.value = String(v);
    save(v);
  });
  // the ends as drawn: left to right (top to bottom when vertical, where the lower end is at the bottom)
  const ends = [range.lower, range.upper];
  if (range.reverse !== (range.orientation === 'vertical')) ends.reverse();
  const scale = el('div', { className: `slider-scale no-mark ${range.orientation}` },
                   [el('span', { 'aria-hidden': 'true', text: sliderText(ends[0]) }), slider,
                    el('span', { 'aria-hidden': 'true', text: sliderText(ends[1]) })]);
  if (prompt) box.append(prompt[0]);
  box.append(scale, el('label', { className: 'slider-exact-label' }, ['Exact value: ', exact]), shown);
}

// --- graphic associate and graphic gap match: areas of an image, answered from lists ----------------
// The image shows the areas, each with a number, and what the candidate has done (lines between
// paired areas; the name of what was placed on an area). The answering is done in the lists below
// it, which name each area by its label: keyboard and screen reader users answer the same way as
// everyone else, and no dragging is needed (the image is drawn by graphicStage, above).
const areaName = (h, i) => `${i + 1}. ${h.label || `Area ${i + 1}`}`;

function renderGraphicAssociate(box, it, value, onChange, announce, ctx) {
  const { stage, marks } = graphicStage(it, 'Image with areas to pair');
  const centres = Object.fromEntries(it.hotspots.map((h) => [h.id, centre(h)]));
  const options = it.hotspots.map((h, i) => ({ id: h.id, name: areaName(h, i), match_max: h.match_max }));
  box.append(stage, el('p', { className: 'hint', text: 'Pair areas with the two lists: the numbers match the image.' }));
  pairPicker(box, it, options, value, onChange, announce, ctx, {
    enforceMax: true,
    onDraw: (pairs) => marks.replaceChildren(...pairs.map(([a, b]) => svgEl('line', {
      class: 'pair-line', x1: centres[a][0], y1: centres[a][1], x2: centres[b][0], y2: centres[b][1] }))),
  });
}

function renderGraphicGapMatch(box, it, value, onChange, announce, ctx) {
  const placed = Object.fromEntries((value || []).map((p) => [p[1], p[0]]));
  const prompt = promptBlock(it);
  const { stage, marks } = graphicStage(it, 'Image with areas to place choices on');
  const byId = Object.fromEntries(it.choices.map((c) => [c.id, c]));
  const legendId = nextId('legend');
  const group = el('fieldset', { className: 'graphic-gaps', 'aria-labelledby': labelledBy(ctx, legendId) },
                   [el('legend', { id: legendId, text: plain(it.prompt_html) || 'Place the choices on the image' })]);
  const selects = [];
  const used = () => {
    const count = {};
    for (const s of selects) if (s.value) count[s.value] = (count[s.value] || 0) + 1;
    return count;
  };
  const draw = () => {
    const count = used();
    for (const s of selects) {
      for (const option of s.options) {
        const limit = option.value ? byId[option.value].match_max : 0;
        option.disabled = Boolean(option.value) && option.value !== s.value && limit > 0 && (count[option.value] || 0) >= limit;
      }
    }
    marks.replaceChildren(...selects.filter((s) => s.value).map((s) => {
      const [x, y] = centre(it.hotspots.find((h) => h.id === s.dataset.gap));
      const label = svgEl('text', { class: 'placed', x, y: y + 26, 'text-anchor': 'middle' });
      label.textContent = choiceName(byId[s.value]);
      return label;
    }));
  };
  it.hotspots.forEach((h, i) => {
    const select = el('select', { 'aria-label': areaName(h, i) });
    select.dataset.gap = h.id;
    select.append(el('option', { value: '', text: 'Nothing placed' }));
    for (const c of it.choices) {
      const option = el('option', { value: c.id, text: choiceName(c) });
      option.selected = placed[h.id] === c.id;
      select.append(option);
    }
    select.addEventListener('change', () => {
      draw();
      const pairs = selects.filter((s) => s.value).map((s) => [s.value, s.dataset.gap]);
      announce(select.value ? `${choiceName(byId[select.value])} placed on ${areaName(h, i)}` : `${areaName(h, i)} cleared`, true);
      onChange(pairs.length ? pairs : null);
    });
    selects.push(select);
    group.append(el('label', { className: 'graphic-gap' }, [el('span', { text: `${areaName(h, i)}: ` }), select]));
  });
  if (prompt) box.append(prompt[0]);
  box.append(stage);
  const palette = imagePalette(it.choices);
  if (palette) box.append(palette);
  box.append(group);
  draw();
}

// --- media (QTI mediaInteraction): sound or video from the form package, with its play limit --------
// The page's own Play / Pause buttons (no native controls, which cannot count plays): each start
// from the beginning is a play, saved at once as the response (the server refuses a count above the
// limit or below the one saved). The file is fetched once into a blob URL (the page's media-src).
// Nothing starts by itself: sound would talk over a screen reader (WCAG 1.4.2).
function renderMedia(box, it, value, onChange, announce) {
  const p = it.player;
  if (!p) { box.append(el('p', { text: 'This recording cannot be played. Please tell the proctor.' })); return; }
  let plays = Number.isInteger(value) ? value : 0;
  const prompt = promptBlock(it);
  const media = el(p.video ? 'video' : 'audio', { preload: 'none', className: 'media-player',
                                                  width: p.video ? p.width : undefined,
                                                  height: p.video ? p.height : undefined,
                                                  'aria-label': p.video ? (p.alt || 'the recording') : undefined });
  media.loop = Boolean(p.loop) && !p.max_plays;
  const play = el('button', { type: 'button', className: 'secondary', 'aria-label': `Play: ${p.alt || 'the recording'}`, text: 'Play' });
  const pause = el('button', { type: 'button', className: 'secondary', text: 'Pause', disabled: true });
  const status = el('p', { className: 'media-status', 'aria-live': 'polite', tabindex: -1 });
  const left = () => (p.max_plays ? p.max_plays - plays : Infinity);
  let started = false;   // a play under way (playing, or paused part-way)
  const draw = () => {
    const limit = p.max_plays ? ` of ${p.max_plays}` : '';
    const least = p.min_plays > plays
      ? ` Play it at least ${p.min_plays === 1 ? 'once' : `${p.min_plays} times`} before answering.` : '';
    status.textContent = `Played ${plays}${limit} time${plays === 1 && !limit ? '' : 's'}.`
      + (!started && left() <= 0 ? ' No plays left.' : '') + least;
    play.textContent = started && media.paused ? 'Resume' : 'Play';
    play.disabled = started ? !media.paused : left() <= 0;
    pause.disabled = !started || media.paused;
  };
  const captions = captionTracks(media, p.tracks || []);
  let loaded = null;
  const load = () => {
    loaded = loaded || Promise.all([
      blobUrl(p.src).then((url) => { media.src = url; }),
      ...captions.tracks.map(([track, t]) => blobUrl(t.src).then((url) => { track.src = url; })),
    ]);
    return loaded;
  };
  play.addEventListener('click', async () => {
    if (!started) {
      if (left() <= 0) { announce('No plays left'); return; }
      plays += 1;
      started = true;
      onChange(plays);
    }
    try {
      await load();
      await media.play();
    } catch (err) {
      announce('The recording could not be played. Please tell the proctor.');
    }
    draw();
    if (!pause.disabled) pause.focus();
  });
  pause.addEventListener('click', () => { media.pause(); draw(); play.focus(); });
  for (const name of ['play', 'pause']) media.addEventListener(name, draw);
  media.addEventListener('ended', () => {
    started = false;
    media.currentTime = 0;
    draw();
    announce(left() > 0 ? 'The recording has ended' : 'The recording has ended. No plays left.', true);
    (play.disabled ? status : play).focus();  // never leave focus on the disabled Pause
  });
  if (prompt) box.append(prompt[0]);
  box.append(el('div', { className: 'media-box' }, [media, captions.text, el('div', { className: 'media-buttons' }, [play, pause]),
                                                  captions.chooser, status]));
  if (captions.tracks.length) {
    captions.show();
    load().catch(() => {});  // cues ready before the first play
  }
  draw();
}

// A file of the form package as a blob URL: the page's media-src allows blob: only.
function blobUrl(src) {
  return fetch(src, { cache: 'no-store', credentials: 'same-origin' })
    .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.blob(); })
    .then((blob) => URL.createObjectURL(blob));
}

// Captions and subtitles (WebVTT <track>s): a labelled list chooses one or none (the item's default
// first). A video shows the chosen track's cues itself; under a recording without a picture the
// current cue is written in a box below the player.
function captionTracks(media, list) {
  const tracks = list.map((t) => [el('track', { kind: t.kind, srclang: t.srclang || undefined, label: t.label }), t]);
  if (!tracks.length) return { tracks, chooser: null, text: null, show: () => {} };
  for (const [track] of tracks) media.append(track);
  const video = media.tagName === 'VIDEO';
  const text = video ? null : el('p', { className: 'media-captions' });
  const select = el('select', { className: 'media-caption-choice' },
    [el('option', { value: '', text: 'Off' }), ...tracks.map(([, t], i) => el('option', { value: String(i), text: t.label }))]);
  const show = () => {
    tracks.forEach(([track], i) => {
      const mode = select.value === String(i) ? (video ? 'showing' : 'hidden') : 'disabled';
      if (track.track.mode !== mode) track.track.mode = mode;
    });
  };
  for (const [track] of tracks) {
    track.track.addEventListener('cuechange', () => {
      if (!text || track.track.mode !== 'hidden') return;
      text.textContent = Array.from(track.track.activeCues || [], (cue) => cue.text.replace(/<[^>]*>/g, '')).join(' ');
    });
  }
  const first = tracks.findIndex(([, t]) => t.default);
  select.value = first >= 0 ? String(first) : '';
  select.addEventListener('change', () => { show(); if (text) text.textContent = ''; });
  // the browser picks tracks by itself when the player joins the page and loads: the list decides
  media.textTracks.addEventListener('change', show);
  show();
  const chooser = el('label', { className: 'media-caption-label' }, [el('span', { text: 'Captions ' }), select]);
  return { tracks, chooser, text, show };
}

// --- drawing (QTI drawingInteraction): lines drawn on the item's picture, marked by people -----------
// Pointer: press, move, release draws a line. Keyboard: the arrow keys move a pen (Shift: one pixel
// at a time), Space or Enter puts the pen down and lifts it again; while it is down, moving draws.
// Each finished line is saved as the drawing (a PNG of the lines alone, the picture's size: small,
// and the marker sees it over the same picture). Undo and Clear are buttons.
function pngBitmap(dataUrl) {
  const bytes = Uint8Array.from(atob(dataUrl.split(',')[1]), (c) => c.charCodeAt(0));
  return createImageBitmap(new Blob([bytes], { type: 'image/png' }));
}

function renderDrawing(box, it, value, onChange, announce) {
  const img = it.image || {};
  const { width, height } = img;
  if (!img.src || !width || !height) {
    box.append(el('p', { text: 'This drawing cannot be shown. Please tell the proctor.' }));
    return;
  }
  const prompt = promptBlock(it);
  const helpId = nextId('draw-help');
  const whereId = nextId('draw-where');
  const stage = el('div', { className: 'point-stage drawing-stage', tabindex: 0, role: 'application',
                            'aria-roledescription': 'drawing area',
                            'aria-label': plain(it.prompt_html) || 'Draw on the image',
                            'aria-describedby': `${helpId} ${whereId}` });
  stage.append(el('img', { src: img.src, alt: img.alt || 'Image to draw on', width, height, draggable: 'false' }));
  const canvas = el('canvas', { width, height, className: 'drawing-layer', 'aria-hidden': 'true' });
  const pen = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, class: 'point-layer pen-layer', 'aria-hidden': 'true' });
  const mark = svgEl('circle', { class: 'pen', r: 5 });
  pen.append(mark);
  stage.append(canvas, pen);
  const ctx2d = canvas.getContext('2d');
  const step = Math.max(1, Math.round(Math.min(width, height) / 40));
  let base = null;          // the drawing saved before this page was drawn (restored as a picture)
  let strokes = [];         // lines drawn since: [[x, y], ...] each
  let current = null;       // the line being drawn
  let at = [Math.round(width / 2), Math.round(height / 2)];
  const where = el('p', { id: whereId, className: 'point-where no-mark', 'aria-live': 'polite' });
  const help = el('p', { id: helpId, className: 'hint', text: 'Draw with the mouse, or with the keyboard: the arrow '
    + 'keys move the pen (with Shift, one pixel at a time), Space puts the pen down and lifts it again.' });
  const undo = el('button', { type: 'button', className: 'secondary', text: 'Undo last line' });
  const clear = el('button', { type: 'button', className: 'secondary', text: 'Clear drawing' });
  const paint = () => {
    ctx2d.clearRect(0, 0, width, height);
    if (base) ctx2d.drawImage(base, 0, 0);
    ctx2d.lineWidth = 3;
    ctx2d.lineCap = 'round';
    ctx2d.lineJoin = 'round';
    ctx2d.strokeStyle = '#b00020';
    for (const line of current ? [...strokes, current] : strokes) {
      ctx2d.beginPath();
      ctx2d.moveTo(line[0][0], line[0][1]);
      for (const [x, y] of line.length > 1 ? line.slice(1) : line) ctx2d.lineTo(x, y);
      ctx2d.stroke();
    }
    mark.setAttribute('cx', at[0]);
    mark.setAttribute('cy', at[1]);
    mark.setAttribute('class', current ? 'pen down' : 'pen');
    where.textContent = `Pen ${current ? 'down' : 'up'} at x ${at[0]}, y ${at[1]} of ${width} by ${height} pixels `
      + `(${region(at[0], at[1], width, height)}). ${strokes.length + (base ? 1 : 0) ? 'The drawing has lines.' : 'Nothing drawn yet.'}`;
    undo.disabled = !strokes.length;
    clear.disabled = !strokes.length && !base;
  };
  const save = () => {
    if (!strokes.length && !base) { onChange(null); return; }
    const url = canvas.toDataURL('image/png');
    if (url.length > 100000) { announce('The drawing is too detailed to save: undo the last line'); return; }
    onChange(url);
  };
  const down = (p) => { current = [p.slice()]; at = p.slice(); paint(); };
  const move = (p) => { at = p.slice(); if (current) current.push(p.slice()); paint(); };
  const up = () => {
    if (!current) return;
    strokes.push(current);
    current = null;
    paint();
    save();
    announce(`Line ${strokes.length} drawn`, true);
  };
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [clamp(((e.clientX - r.left) * width) / r.width, width), clamp(((e.clientY - r.top) * height) / r.height, height)];
  };
  canvas.addEventListener('pointerdown', (e) => { e.preventDefault(); canvas.setPointerCapture(e.pointerId); stage.focus(); down(point(e)); });
  canvas.addEventListener('pointermove', (e) => { if (current) move(point(e)); });
  canvas.addEventListener('pointerup', up);
  canvas.addEventListener('pointercancel', up);
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  stage.addEventListener('keydown', (e) => {
    if (moves[e.key]) {
      e.preventDefault();
      const d = e.shiftKey ? 1 : step;
      move([clamp(at[0] + moves[e.key][0] * d, width), clamp(at[1] + moves[e.key][1] * d, height)]);
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      if (current) up(); else { down(at); announce('Pen down: move to draw, Space to lift', true); }
    }
  });
  undo.addEventListener('click', () => { strokes.pop(); paint(); save(); announce('Last line removed'); });
  clear.addEventListener('click', () => { strokes = []; base = null; paint(); save(); announce('Drawing cleared'); });
  if (typeof value === 'string' && value.startsWith('data:image/png;base64,')) {
    pngBitmap(value).then((bitmap) => { base = bitmap; paint(); }).catch(() => {});
  }
  if (prompt) box.append(prompt[0]);
  paint();
  box.append(stage, where, help, el('div', { className: 'media-buttons' }, [undo, clear]));
}

const RENDERERS = {
  choice: renderChoice,
  inline_choice: renderInlineChoice,
  text_entry: renderTextEntry,
  extended_text: renderExtendedText,
  order: renderOrder,
  match: renderMatch,
  associate: renderAssociate,
  gap_match: renderGapMatch,
  hottext: renderHottext,
  hotspot: renderHotspot,
  slider: renderSlider,
  graphic_order: renderGraphicOrder,
  graphic_associate: renderGraphicAssociate,
  graphic_gap_match: renderGraphicGapMatch,
  media: renderMedia,
  drawing: renderDrawing,
};

export const INTERACTION_TYPES = Object.keys(RENDERERS);

// The item's own text before its first interaction (its stem), given ids so that option groups
// can be named by it.
function stemIds(container) {
  const ids = [];
  for (const node of container.children) {
    if (node.matches('[data-interaction]') || node.querySelector('[data-interaction]')) break;
    if (!node.textContent.trim()) continue;
    if (!node.id) node.id = nextId('stem');
    ids.push(node.id);
  }
  return ids;
}

// Every image of an item can be enlarged (a modal viewer with its own zoom): low-vision candidates
// need detail that the page's text size cannot give.
function enlargeable(container, onEnlarge) {
  for (const img of container.querySelectorAll('img')) {
    const stage = img.closest('.hotspot-stage, .point-stage') || img;
    const name = img.getAttribute('alt') || 'image';
    const button = el('button', { type: 'button', className: 'enlarge', text: 'Enlarge image',
                                  'aria-label': `Enlarge image: ${name}` });
    button.addEventListener('click', () => onEnlarge(img.getAttribute('src'), name, button));
    const figure = el('span', { className: 'figure no-mark' });
    stage.replaceWith(figure);
    figure.append(stage, button);
  }
}

// Render an item's body with each interaction in its placeholder (or after the body if it has none).
// ``options``: {strike: {struck: Set, toggle(id, on)} | null, onEnlarge(src, alt, opener) | null}.
export function renderItem(container, item, onChange, announce, options = {}) {
  container.replaceChildren(fragment(item.body_html));
  const ctx = { stemIds: stemIds(container), strike: options.strike || null };
  for (const it of item.interactions) {
    const render = RENDERERS[it.type];
    let box = container.querySelector(`[data-interaction="${CSS.escape(it.response_id)}"]`);
    if (!box) {
      box = el('div');
      container.append(box);
    }
    box.classList.add('interaction', `interaction-${it.type}`);
    box.dataset.responseId = it.response_id;
    if (!render) {
      box.append(el('p', { text: `This question type (${it.type}) cannot be shown. Please tell the proctor.` }));
      continue;
    }
    const value = item.values[it.response_id] ?? null;
    render(box, it, value, (v) => onChange(it.response_id, v), announce, ctx);
    keepPromptPlayers(box, it);
  }
  mountPlayers(container, item.players || [], announce);
  if (options.onEnlarge) enlargeable(container, options.onEnlarge);
}

// A renderer that names its group by the prompt's plain text (a choice's legend) would lose a
// recording in the prompt: the prompt is then shown as written above the group, and the legend,
// hidden from sight, still names the group for a screen reader.
function keepPromptPlayers(box, it) {
  if (!/data-player=/.test(it.prompt_html || '') || box.querySelector('[data-player]')) return;
  const legend = box.querySelector('legend');
  if (legend) legend.classList.add('visually-hidden');
  box.prepend(promptBlock(it)[0]);
}

// Recordings in the body or a prompt that are not interactions (a listening item's "Listen, then
// choose"): the media interaction's own player (Play / Pause, captions), never the browser's
// controls; no play limit unless the item gives one, and nothing is saved when it is played.
function mountPlayers(container, players, announce) {
  for (const box of container.querySelectorAll('[data-player]')) {
    box.classList.add('body-player');
    renderMedia(box, { player: players[Number(box.dataset.player) - 1] || null }, 0, () => {}, announce);
  }
}
