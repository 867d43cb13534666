// Small DOM helpers shared by the page's modules. Nothing here parses HTML into the live document
// except fragment(), which takes only server-sanitised HTML (exam_core.presentation.clean) and runs
// nothing (DOMParser documents execute no script).

export const $ = (id) => document.getElementById(id);

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'className') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of [].concat(children)) if (child) node.append(child);
  return node;
}

// Server-sanitised HTML parsed without executing anything.
export function fragment(html) {
  const doc = new DOMParser().parseFromString(`<div>${html || ''}</div>`, 'text/html');
  const holder = doc.body.firstElementChild;
  const out = document.createDocumentFragment();
  while (holder.firstChild) out.append(document.adoptNode(holder.firstChild));
  return out;
}

export function plain(html) {
  const holder = document.createElement('div');
  holder.append(fragment(html));
  return holder.textContent.replace(/\s+/g, ' ').trim();
}

// Assertive announcements interrupt (time warnings, errors); polite ones wait their turn.
export function announce(text, polite = false) {
  const region = $(polite ? 'polite' : 'announcer');
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 30);
}
