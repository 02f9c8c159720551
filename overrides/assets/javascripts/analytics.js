// First-party analytics, run only once the visitor agrees (consent.js turns this inert script
// on). It sets no cookie and stores nothing in the browser: it sends one page view per page
// (path, referring site's host, viewport size class) and one conversion when an inquiry form is
// sent, with navigator.sendBeacon. After a withdrawal on the page it sends nothing more.
(() => {
  const api = document.querySelector("script[data-api]")?.dataset.api ?? "/api";
  let agreed = true;

  // The banner's stored choice goes with each event: with Global Privacy Control on, the
  // service stores an event only if the visitor's own choice agrees to analytics. consent.js,
  // the one reader of the stored choice, tells it on "cc:ask" and on every change.
  let analytics;
  document.addEventListener("cc:change", (event) => {
    analytics = event.detail?.choices?.analytics;
  });
  document.dispatchEvent(new Event("cc:ask"));

  const referrer = () => {
    try {
      const host = new URL(document.referrer).hostname;
      return host !== location.hostname && /^[a-z0-9.-]{1,253}$/.test(host) ? host : "";
    } catch {
      return "";
    }
  };

  const width = window.innerWidth;
  const viewport = width < 600 ? "small" : width < 1024 ? "medium" : "large";

  // Fire and forget: a refused or failed event is dropped, and the page never notices.
  const send = (event) => {
    if (!agreed || analytics === false || typeof navigator.sendBeacon !== "function") return;
    const body = { ...event, path: location.pathname };
    if (analytics === true) body.consent = { analytics };
    try {
      navigator.sendBeacon(`${api}/events`, JSON.stringify(body));
    } catch {
      // A browser that refuses the beacon loses this event only.
    }
  };

  document.addEventListener("cc:consent", (event) => {
    agreed = event.detail.analytics === true;
    document.documentElement.dataset.analytics = agreed ? "on" : "off";
  });
  document.addEventListener("cc:inquiry-sent", () => send({ name: "conversion" }));

  document.documentElement.dataset.analytics = "on";
  send({ name: "pageview", referrer: referrer(), viewport });
})();
