// Passkeys (WebAuthn) on Gatehouse's pages. WebAuthn is a browser API, so this is the one part
// of signing in that needs JavaScript; everything else works without it. Elements with
// `data-passkey` say what they do:
//   register — a form on /account/security (field `name`): add a passkey;
//   signin   — "Sign in with a passkey" on /login (no password), plus the browser's autofill;
//   second   — "Use a passkey" as the second step after a password.
// The server keeps each ceremony's state (POST …/begin, then …/finish); this file only moves
// bytes between it and navigator.credentials, as base64url.
// What it says comes in the page's language from the element's `data-words` (JSON), with the
// English words as the fallback.
(function () {
  "use strict";
  const words = (el, key, fallback) => {
    try {
      return JSON.parse(el.dataset.words || "{}")[key] || fallback;
    } catch (_) {
      return fallback;
    }
  };
  if (!window.PublicKeyCredential) {
    for (const el of document.querySelectorAll("[data-passkey]")) {
      const s = el.querySelector("[data-passkey-status]");
      if (s) s.textContent = words(el, "unsupported", "This browser cannot use passkeys.");
      for (const b of el.querySelectorAll("button")) b.disabled = true;
    }
    return;
  }

  const enc = (buf) =>
    btoa(String.fromCharCode(...new Uint8Array(buf)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const dec = (s) => {
    const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
  };

  function creationOptions(o) {
    const pk = o.publicKey;
    pk.challenge = dec(pk.challenge);
    pk.user.id = dec(pk.user.id);
    for (const c of pk.excludeCredentials || []) c.id = dec(c.id);
    return { publicKey: pk };
  }

  function requestOptions(o, mediation, signal) {
    const pk = o.publicKey;
    pk.challenge = dec(pk.challenge);
    for (const c of pk.allowCredentials || []) c.id = dec(c.id);
    const out = { publicKey: pk };
    if (mediation) out.mediation = mediation;
    if (signal) out.signal = signal;
    return out;
  }

  function credentialJson(c) {
    const r = c.response;
    const base = {
      id: c.id,
      rawId: enc(c.rawId),
      type: c.type,
      extensions: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
    };
    if (r.attestationObject) {
      base.response = {
        attestationObject: enc(r.attestationObject),
        clientDataJSON: enc(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined,
      };
    } else {
      base.response = {
        authenticatorData: enc(r.authenticatorData),
        clientDataJSON: enc(r.clientDataJSON),
        signature: enc(r.signature),
        userHandle: r.userHandle ? enc(r.userHandle) : null,
      };
    }
    return base;
  }

  async function post(url, body) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.message || "The request failed (" + res.status + ").");
    return json;
  }

  function say(el, text) {
    const s = el.querySelector("[data-passkey-status]");
    if (s) s.textContent = text;
  }

  // The browser offers passkeys in the login name's autofill; a button press takes over.
  let autofill = null;

  async function signIn(el, mode, mediation) {
    const returnTo = el.dataset.returnTo || "/";
    const begun = await post("/login/passkey/begin", { mode });
    let controller = null;
    if (mediation === "conditional") {
      controller = new AbortController();
      autofill = controller;
    }
    const cred = await navigator.credentials.get(
      requestOptions(begun.options, mediation, controller && controller.signal),
    );
    say(el, words(el, "checking", "Checking…"));
    const done = await post("/login/passkey/finish", {
      ceremony: begun.ceremony,
      credential: credentialJson(cred),
      return_to: returnTo,
    });
    window.location.assign(done.go_to);
  }

  function failed(el, e) {
    if (e && e.name === "AbortError") return;
    if (e && e.name === "NotAllowedError") {
      say(el, words(el, "cancelled", "The passkey request was cancelled or timed out."));
      return;
    }
    say(el, (e && e.message) || words(el, "refused", "The passkey was not accepted."));
  }

  for (const el of document.querySelectorAll("[data-passkey]")) {
    const mode = el.dataset.passkey;
    if (mode === "register") {
      el.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const name = (new FormData(el).get("name") || "").toString().trim();
        try {
          say(el, words(el, "prompt", "Follow your browser's prompt…"));
          const begun = await post("/account/passkeys/begin", {});
          const cred = await navigator.credentials.create(creationOptions(begun.options));
          say(el, words(el, "saving", "Saving…"));
          await post("/account/passkeys/finish", {
            ceremony: begun.ceremony,
            name,
            credential: credentialJson(cred),
          });
          window.location.reload();
        } catch (e) {
          failed(el, e);
        }
      });
    } else if (mode === "signin" || mode === "second") {
      const button = el.querySelector("button");
      if (!button) continue;
      button.addEventListener("click", async () => {
        if (autofill) {
          autofill.abort();
          autofill = null;
        }
        try {
          say(el, words(el, "prompt", "Follow your browser's prompt…"));
          await signIn(el, mode, null);
        } catch (e) {
          failed(el, e);
        }
      });
    }
  }

  // Autofill: offer the person's passkeys in the login name field's suggestions.
  const field = document.querySelector('input[autocomplete~="webauthn"]');
  const signin = document.querySelector('[data-passkey="signin"]');
  if (field && signin && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((ok) => {
      if (ok && !autofill) signIn(signin, "signin", "conditional").catch((e) => failed(signin, e));
    });
  }
})();
