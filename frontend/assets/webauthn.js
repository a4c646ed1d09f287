// Helpers shared by login.js and account.js: WebAuthn options and credentials in the JSON
// shape webauthn-rs uses (binary as unpadded base64url), and JSON POSTs with the CSRF token.

/** Decodes base64url (padded or not) to an ArrayBuffer. */
export function base64urlToBuffer(text) {
  const base64 = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

/** Encodes an ArrayBuffer or typed array as base64url without padding. */
export function bufferToBase64url(buffer) {
  const bytes = ArrayBuffer.isView(buffer)
    ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    : new Uint8Array(buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function withBinaryIds(descriptors) {
  return (descriptors ?? []).map((d) => ({ ...d, id: base64urlToBuffer(d.id) }));
}

/** Registration options from the server, ready for navigator.credentials.create. */
export function toCreateOptions(publicKey) {
  return {
    ...publicKey,
    challenge: base64urlToBuffer(publicKey.challenge),
    user: { ...publicKey.user, id: base64urlToBuffer(publicKey.user.id) },
    excludeCredentials: withBinaryIds(publicKey.excludeCredentials),
  };
}

/** Authentication options from the server, ready for navigator.credentials.get. */
export function toGetOptions(publicKey) {
  return {
    ...publicKey,
    challenge: base64urlToBuffer(publicKey.challenge),
    allowCredentials: withBinaryIds(publicKey.allowCredentials),
  };
}

/** A new credential (registration) or an assertion, as JSON for the server. */
export function credentialToJSON(cred) {
  const r = cred.response;
  const json = { id: cred.id, rawId: bufferToBase64url(cred.rawId), type: cred.type };
  if ('attestationObject' in r) {
    json.response = {
      clientDataJSON: bufferToBase64url(r.clientDataJSON),
      attestationObject: bufferToBase64url(r.attestationObject),
    };
    if (typeof r.getTransports === 'function') json.response.transports = r.getTransports();
  } else {
    json.response = {
      clientDataJSON: bufferToBase64url(r.clientDataJSON),
      authenticatorData: bufferToBase64url(r.authenticatorData),
      signature: bufferToBase64url(r.signature),
      userHandle: r.userHandle ? bufferToBase64url(r.userHandle) : null,
    };
  }
  json.extensions = {};
  return json;
}

/** The page's CSRF token. */
export function csrf() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? '';
}

/** POSTs `body` as JSON; resolves to the JSON answer, or throws an Error with the server's message. */
export async function postJSON(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf() },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    // An empty or non-JSON body.
  }
  if (!response.ok) {
    const error = new Error(data?.message || `Something went wrong (HTTP ${response.status}). Please try again.`);
    error.code = data?.code;
    error.field = data?.field;
    throw error;
  }
  return data;
}

/** Shows `error` in #passkey-error, in words a person can act on. */
export function showError(error) {
  const box = document.getElementById('passkey-error');
  if (!box) return;
  let message = error?.message || String(error);
  if (error?.name === 'NotAllowedError') {
    message = 'The passkey request was cancelled or timed out.';
  } else if (error?.name === 'InvalidStateError') {
    message = 'This device already has a passkey for your account.';
  } else if (error?.name === 'NotSupportedError' || error?.name === 'SecurityError') {
    message = 'This browser cannot use passkeys here.';
  }
  box.textContent = message;
  box.hidden = false;
}

/** Hides #passkey-error. */
export function clearError() {
  const box = document.getElementById('passkey-error');
  if (box) {
    box.textContent = '';
    box.hidden = true;
  }
}

/** Whether this browser has WebAuthn at all. */
export function webauthnAvailable() {
  return typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}
