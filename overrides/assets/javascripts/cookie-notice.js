// The cookie notice: this browser's choice as the banner's script tells it ("cc:change", asked
// for with "cc:ask"; consent.js alone reads the stored choice), and its receipt checked.
(() => {
  const api = document.currentScript.dataset.api;
  const status = document.getElementById("cc-consent-status");
  const form = document.forms.consent;
  if (!status || !form) return;
  let choice = null;
  const text = (selector) => form.querySelector(selector)?.textContent.trim();
  const name = (category) =>
    text(category === "necessary" ? ".cc-consent__name" : `[for=cc-consent-${category}]`) ??
    category;

  function render() {
    document.querySelector("[data-cc-nojs]").hidden = true;
    status.hidden = false;
    status.querySelector("[data-cc-none]").hidden = Boolean(choice);
    status.querySelector("[data-cc-choice]").hidden = !choice;
    status.querySelector("[data-cc-verify]").hidden = !choice?.receipt;
    if (!choice) return;
    const fields = {
      consent_id: choice.consent_id ?? "not recorded yet",
      time: new Date(choice.chosen_at).toLocaleString(),
      policy_version: choice.policy_version,
      gpc: choice.gpc ? "sent, and honoured" : "not sent",
      choices: Object.entries(choice.choices)
        .map(([category, on]) => `${name(category)}: ${on ? "on" : "off"}`)
        .join(", "),
    };
    for (const [field, value] of Object.entries(fields)) {
      status.querySelector(`[data-cc-field=${field}]`).textContent = value;
    }
  }

  async function verify() {
    const out = status.querySelector("[data-cc-verified]");
    const say = (result, message) => {
      out.dataset.result = result;
      out.textContent = message;
    };
    try {
      const response = await fetch(`${api}/consent/${encodeURIComponent(choice.receipt)}`);
      const record = await response.json();
      if (!response.ok) {
        return say("failed", `Not verified: ${record.error?.message ?? response.status}`);
      }
      const same =
        record.consent_id === choice.consent_id &&
        Object.entries(choice.choices).every(([category, on]) => record.choices?.[category] === on);
      const when = new Date(record.created_at).toLocaleString();
      if (same) say("verified", `Verified: the service holds this choice, recorded ${when}.`);
      else say("differs", "The service's record differs from this browser's choice.");
    } catch {
      say("unreachable", "The consent service cannot be reached; try again later.");
    }
  }

  status.querySelector("[data-cc-verify]").addEventListener("click", verify);
  document.addEventListener("cc:change", (event) => {
    choice = event.detail;
    render();
  });
  render();
  document.dispatchEvent(new Event("cc:ask"));
})();
