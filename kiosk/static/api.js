// Talks to the kiosk's local server. Every request carries the page token (CSRF); a 403 for a
// stale token (the kiosk restarted) reloads the page so it picks up the new one.
const token = document.querySelector('meta[name="kiosk-token"]').content;

export class ApiError extends Error {
  constructor(status, field, reason) {
    super(reason || `request failed (${status})`);
    this.status = status;
    this.field = field;
  }
}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-Kiosk-Token': token },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch (err) {
    throw new ApiError(0, 'network', 'the kiosk is not responding');
  }
  let data = {};
  try { data = await response.json(); } catch (err) { data = {}; }
  if (response.status === 403 && data.field === 'token') {
    window.location.reload();
  }
  if (!response.ok || data.ok === false) {
    throw new ApiError(response.status, data.field, data.reason);
  }
  return data;
}

// Audio of a question read aloud (text-to-speech on the kiosk, 127.0.0.1 only), as a blob URL
// for an <audio> element: the request needs the page token, which an <audio src> cannot send.
async function speech(index, rate) {
  let response;
  try {
    response = await fetch(`/api/speech/${index}?rate=${encodeURIComponent(rate)}`, {
      headers: { 'X-Kiosk-Token': token }, cache: 'no-store', credentials: 'same-origin',
    });
  } catch (err) {
    throw new ApiError(0, 'network', 'the kiosk is not responding');
  }
  if (!response.ok) {
    let data = {};
    try { data = await response.json(); } catch (err) { data = {}; }
    throw new ApiError(response.status, data.field, data.reason);
  }
  return URL.createObjectURL(await response.blob());
}

export const api = {
  state: () => call('GET', '/api/state'),
  item: (index) => call('GET', `/api/item/${index}`),
  scratch: () => call('GET', '/api/scratch'),
  post: (name, body = {}) => call('POST', `/api/${name}`, body),
  speech,
};
