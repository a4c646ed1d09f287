// The console's only way to change anything: the public admin API (/api/v1). In the console the
// credential is the admin's session cookie (writes carry the page's CSRF token); behind a setup
// link it is the link's token, sent as a bearer token.

/** An admin API error: the status and the API's stable code, message, field and request id. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The server answered HTTP ${status}. Please try again.`);
    this.status = status;
    this.code = body?.code;
    this.field = body?.field;
    this.requestId = body?.request_id;
  }
}

function csrf() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? '';
}

/**
 * A client for `/api/v1`. `token`: a setup link's token (else the session cookie is used).
 * `org`: the organization named in `X-Tessera-Organization` on routes without one.
 */
export function createApi({ token, org } = {}) {
  async function request(method, path, body, { raw, contentType } = {}) {
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    else headers['x-csrf-token'] = csrf();
    if (org) headers['x-tessera-organization'] = org;
    let payload;
    if (raw !== undefined) {
      payload = raw;
      headers['content-type'] = contentType || 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`/api/v1${path}`, { method, headers, body: payload, credentials: 'same-origin' });
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's error page): the status says enough.
    }
    if (response.status === 401 && !token) {
      // The session ended: sign in again and come back here.
      location.assign(`/login?return_to=${encodeURIComponent(`/admin${location.hash}`)}`);
    }
    if (!response.ok) throw new ApiError(response.status, json);
    return json;
  }
  return {
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
    put: (path, body) => request('PUT', path, body),
    patch: (path, body) => request('PATCH', path, body),
    del: (path) => request('DELETE', path),
    upload: (path, file) => request('PUT', path, undefined, { raw: file, contentType: file.type }),
    /** Every item of a list, following `next_cursor` (at most `max` items). */
    async all(path, max = 1000) {
      const items = [];
      let after = null;
      do {
        const sep = path.includes('?') ? '&' : '?';
        const page = await request('GET', `${path}${sep}limit=200${after ? `&after=${encodeURIComponent(after)}` : ''}`);
        items.push(...page.data);
        after = page.next_cursor;
      } while (after && items.length < max);
      return items;
    },
    /** The same client acting in `org` on routes without `{org}`. */
    in: (other) => createApi({ token, org: other }),
    setupLink: Boolean(token),
  };
}

/** `/organizations/{org}` + `rest`, with the org's slug escaped. */
export function orgPath(org, rest = '') {
  return `/organizations/${encodeURIComponent(org)}${rest}`;
}
