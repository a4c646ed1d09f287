// A fetch()-based browser for the end-to-end scripts: a cookie jar per host, no automatic
// redirects (each script decides how to follow them and which forms to fill).
export class CookieBrowser {
  constructor() { this.jar = new Map(); }
  cookieHeader(url) {
    const cookies = this.jar.get(new URL(url).host) ?? new Map();
    return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  keep(url, response) {
    const host = new URL(url).host;
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...rest] = pair.split('=');
      const expired = attributes.some((a) => /max-age=0|expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired) this.jar.get(host).delete(name.trim());
      else this.jar.get(host).set(name.trim(), rest.join('='));
    }
  }
  async request(url, init = {}) {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers ?? {}), cookie: this.cookieHeader(url) },
    });
    this.keep(url, response);
    return response;
  }
}
