// The cookie notice: this browser's choice as the banner's script tells it ("cc:change", asked
// for with "cc:ask"; consent.js alone reads the stored choice). What its buttons do with the
// choice's receipt (verify it; download or delete the records) is loaded at the first click
// (receipt.js): a visit pays for that code only when its visitor asks for it.
(() => {
  const api = document.currentScript.dataset.api;
  const status = document.getElementById("cc-consent-status");
  const records = document.getElementById("cc-consent-records");
  const form = document.forms.consent;
  if (!status || !records || !form) return;
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
    records.querySelector("[data-cc-none]").hidden = Boolean(choice?.receipt);
    records.querySelector("[data-cc-records]").hidden = !choice?.receipt;
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

  // Says the page's words for `result` (a data attribute of `out`, cookies.html), then `more`.
  const say = (out, result, more = "") => {
    out.dataset.result = result;
    out.textContent = `${out.dataset[result]} ${more}`.trim();
  };

  document.addEventListener("click", async ({ target }) => {
    const button = target.closest("[data-cc-action]");
    if (!button) return;
    const out = button.closest(".cc-status").querySelector("[role=status]");
    try {
      const actions = await import("./receipt.js");
      await actions[button.dataset.ccAction]({ choice, api, out, say });
    } catch {
      say(out, "unreachable");
    }
  });
  document.addEventListener("cc:change", (event) => {
    choice = event.detail;
    render();
  });
  render();
  document.dispatchEvent(new Event("cc:ask"));
})();
