// The cookie banner: keeps the choice in this browser, runs the inert scripts of agreed categories,
// deletes the cookies of the others, and posts every choice (queued while the service is down).
// It is the one reader of the stored choice: other scripts ask for it with "cc:ask" and hear it,
// and every change of it, as "cc:change"; "cc:forget" forgets it (its records were deleted) and
// asks again. While open, the page reserves room for it.
(() => {
  const script = document.currentScript;
  const root = document.getElementById("__consent");
  const form = document.forms.consent;
  if (!script || !root || !form) return;

  // From the build (consent_api.site.registry), like the lifetime below.
  const CHOICE = script.dataset.storageKey;
  const PENDING = CHOICE + ".pending";
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";
  const api = script.dataset.api;
  const version = meta("policy-version");
  const fingerprint = meta("banner-fingerprint");
  const lifetime = script.dataset.expiresAfterDays * 864e5;
  const gpc = !!navigator.globalPrivacyControl;
  const settings = document.getElementById("cc-consent-settings");
  const choose = form.querySelector("[data-cc-choose]");
  const more = form.querySelector("[data-cc-more]");
  const panel = root.querySelector(".md-consent__inner");
  const boxes = [...form.querySelectorAll("input[type=checkbox]")];
  let opener = null;
  let sending = false;

  const read = (key) => {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch {
      // Unreadable: no value.
    }
  };
  const write = (key, value) => {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      // Storage refused: the choice holds for this page only.
    }
  };

  // The stored choice, unless the policy or the banner changed since, or it expired.
  const current = () => {
    const choice = read(CHOICE);
    return choice?.policy_version === version &&
      choice.banner_fingerprint === fingerprint &&
      Date.now() < Date.parse(choice.expires)
      ? choice
      : null;
  };

  // The cookie notice (cookie-notice.js) shows the choice and follows its changes; wherever the
  // page says that an opt-out preference signal was honoured, it says so once a choice holds it.
  const changed = () => {
    const choice = current(); // a fresh copy each time: listeners cannot change the stored one
    for (const said of document.querySelectorAll("[data-cc-gpc-honoured]")) said.hidden = !choice?.gpc;
    document.dispatchEvent(new CustomEvent("cc:change", { detail: choice }));
  };

  const glob = (text) =>
    new RegExp(`^${text.replace(/[.+?^$|()[\]{}\\]/g, "\\$&").replaceAll("*", ".*")}$`);

  const forget = (name) => {
    for (const domain of ["", `; domain=${location.hostname}`]) {
      document.cookie = `${name}=; path=/; max-age=0${domain}`;
    }
  };

  // Deletes the cookies of every optional category not agreed to, from its configured list.
  function clean(choices) {
    for (const box of boxes.filter((box) => !choices[box.name])) {
      const patterns = box.dataset.cookies.split(" ").filter(Boolean).map(glob);
      for (const cookie of document.cookie.split(";")) {
        const name = cookie.split("=")[0].trim();
        if (patterns.some((pattern) => pattern.test(name))) forget(name);
      }
    }
  }

  function apply(choices) {
    for (const inert of document.querySelectorAll('script[type="text/plain"][data-category]')) {
      if (!choices[inert.dataset.category]) continue;
      const live = document.createElement("script");
      for (const { name, value } of inert.attributes) {
        if (name !== "type") live.setAttribute(name, value);
      }
      inert.replaceWith(live);
    }
    clean(choices);
    document.dispatchEvent(new CustomEvent("cc:consent", { detail: { ...choices } }));
  }

  async function send() {
    if (sending) return;
    sending = true;
    try {
      for (let next, last = null; (next = read(PENDING)?.[0]); ) {
        // A choice made before the first answer takes the consent ID that answer brings.
        const consent_id = next.body.consent_id ?? read(CHOICE)?.consent_id ?? null;
        // A consent ID is continued only with a receipt of it: the last answer's, or the stored.
        const previous_receipt = next.body.previous_receipt ?? last ?? read(CHOICE)?.receipt ?? null;
        const response = await fetch(`${api}/consent`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ ...next.body, consent_id, previous_receipt }),
        });
        // Busy or down: retry on a later page. Other refusals would not change.
        if ([408, 429].includes(response.status) || response.status >= 500) break;
        // A refused record is dropped: sending it again would be refused again.
        write(PENDING, read(PENDING).slice(1));
        if (!response.ok) continue;
        const record = await response.json();
        last = record.receipt;
        const choice = read(CHOICE);
        if (!choice) continue;
        choice.consent_id = record.consent_id;
        if (choice.chosen_at === next.chosen_at) {
          Object.assign(choice, { receipt: record.receipt, recorded_at: record.created_at });
        }
        write(CHOICE, choice);
        changed();
      }
    } catch {
      // Unreachable: the queue waits for the next page.
    } finally {
      sending = false;
    }
  }

  function decide(action) {
    const choices = { necessary: true };
    for (const box of boxes) {
      choices[box.name] = action === "accept_all" || (action === "save_choices" && box.checked);
    }
    const now = Date.now();
    const chosen_at = new Date(now).toISOString();
    const stored = read(CHOICE);
    const previous_receipt = stored?.receipt ?? null;
    const record = {
      consent_id: stored?.consent_id ?? null,
      choices,
      action,
      policy_version: version,
      banner_fingerprint: fingerprint,
      gpc,
    };
    write(CHOICE, { ...record, chosen_at, expires: new Date(now + lifetime).toISOString() });
    const body = { ...record, page: location.pathname, previous_receipt };
    write(PENDING, [...(read(PENDING) ?? []), { chosen_at, body }]);
    apply(choices);
    close();
    changed();
    send();
  }

  const expanded = (button, open) => button.setAttribute("aria-expanded", open);
  const expand = (open) => {
    settings.hidden = !open;
    expanded(choose, open);
  };

  function show(manage, from) {
    const choice = current();
    for (const box of boxes) box.checked = choice?.choices[box.name];
    root.querySelector("[data-cc-gpc]").hidden = !gpc;
    expand(manage);
    opener = from;
    root.hidden = false;
    if (manage) document.getElementById("cc-consent-title").focus();
  }

  // Closing decides nothing. Focus goes back where it came from, or to what follows the banner.
  function close() {
    const inside = root.contains(document.activeElement);
    root.hidden = true;
    if (inside) (opener ?? document.querySelector(".md-skip, .md-header a[href]"))?.focus();
    opener = null;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    decide("save_choices");
  });
  form.addEventListener("click", (event) => {
    const button = event.target.closest("button[type=button]");
    if (!button) return;
    if (button.hasAttribute("data-cc-close")) close();
    else if (button === choose) expand(settings.hidden);
    else if (button === more) expanded(more, root.classList.toggle("cc-consent--more"));
    else decide(button.value);
  });
  root.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-cc-open]");
    if (!target) return;
    event.preventDefault();
    show(true, target);
  });
  document.addEventListener("cc:ask", changed);
  // The visitor deleted the records of the choice (cookie-notice.js): no choice, nothing queued.
  document.addEventListener("cc:forget", () => {
    write(CHOICE, null);
    write(PENDING, null);
    start();
  });
  // The browser scrolls a focused element into view only when none of it is in view: one the
  // open banner covers in part is scrolled clear of it too (to the scroll padding the room sets).
  document.addEventListener("focusin", ({ target }) => {
    if (!root.hidden && !root.contains(target) && target.getBoundingClientRect?.().bottom > panel.getBoundingClientRect().top) {
      target.scrollIntoView({ block: "nearest" });
    }
  });

  // The page keeps room for the open banner below its content (carecaller.css), so the banner
  // covers no text, no footer and no focus target; it follows every change of the banner's size.
  new ResizeObserver(() => {
    const height = root.hidden ? 0 : Math.ceil(panel.getBoundingClientRect().height);
    document.documentElement.style.setProperty("--cc-banner-height", `${height}px`);
  }).observe(panel);

  // Material's bundle would hide the banner on every hash change.
  root.removeAttribute("data-md-component");
  panel.role = "region";
  panel.setAttribute("aria-labelledby", "cc-consent-title");
  // First in the document: keyboard users reach it first. Its links would come before the skip
  // link, which then no longer counts as one, outside every landmark: it moves into the header.
  document.body.prepend(root);
  const skip = document.querySelector('[data-md-component="skip"]');
  if (skip) document.querySelector(".md-header")?.prepend(skip);

  // A choice that no longer counts (policy or banner changed, or expired, or forgotten) takes
  // the optional cookies with it, at first before any other script of the page runs.
  function start() {
    const choice = current();
    apply(choice?.choices ?? {});
    changed();
    if (location.hash === "#__consent") show(true);
    else if (!choice) show(false);
  }
  start();
  send();
})();
