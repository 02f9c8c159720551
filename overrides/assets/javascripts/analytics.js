// Example gated "analytics" script: first-party cookies only (a random ID and a page count).
(() => {
  const MAX_AGE = 60 * 60 * 24 * 182;
  const cookie = (name) => document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`))?.[1];
  const random = () => [...crypto.getRandomValues(new Uint8Array(8))]
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
  let on = true;
  const set = (name, value) => {
    if (on) document.cookie = `${name}=${value}; path=/; max-age=${MAX_AGE}; SameSite=Lax`;
  };
  set("cc_analytics", cookie("cc_analytics") ?? random());
  set("cc_analytics_views", Number(cookie("cc_analytics_views") ?? 0) + 1);
  document.documentElement.dataset.analytics = "on";
  // Withdrawn on this page: stop writing (consent.js deletes the cookies).
  document.addEventListener("cc:consent", (event) => {
    if (event.detail.analytics) return;
    on = false;
    document.documentElement.dataset.analytics = "off";
  });
})();
