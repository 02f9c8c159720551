// The site's forms with JavaScript: sent as JSON, the service's messages shown beside
// their fields, the button disabled while sending. Without this script the same forms post as
// plain HTML and the service answers with pages.
for (const form of document.querySelectorAll("form[data-inquiry-form]")) {
  const button = form.querySelector("button[type=submit]");
  const summary = form.querySelector(".cc-form__summary");
  const status = form.querySelector(".cc-form__status");
  const token = form.elements.form_token;

  const freshToken = async () => {
    try {
      const response = await fetch(form.dataset.tokenUrl);
      if (response.ok) token.value = (await response.json()).form_token;
    } catch {
      // Sending will say the form could not be verified, and fetch a token then.
    }
  };

  const showErrors = (message, fields = {}) => {
    for (const control of form.querySelectorAll("[aria-describedby]")) {
      const error = document.getElementById(control.getAttribute("aria-describedby"));
      const text = fields[control.name];
      error.textContent = text || "";
      error.hidden = !text;
      control.closest(".cc-form__field").classList.toggle("cc-form__field--invalid", !!text);
      control.ariaInvalid = text ? "true" : null; // null removes it
    }
    const paragraph = document.createElement("p");
    paragraph.textContent = message;
    summary.replaceChildren(paragraph);
    summary.hidden = false;
    const first = Object.keys(fields).map((name) => form.elements[name]).find(Boolean);
    (first || summary).focus();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    status.textContent = "Sending…";
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.fromEntries(new FormData(form))),
      });
      const body = await response.json();
      if (response.ok) {
        // For the analytics script, if the visitor agreed to it: a form was sent.
        const detail = { form: form.dataset.inquiryForm };
        form.dispatchEvent(new CustomEvent("cc:inquiry-sent", { bubbles: true, detail }));
        // The summary becomes the answer in the form's place, focused: scrolled into view (the
        // page is shorter now) and read out, rather than focus lost with the form.
        summary.className = "cc-form__done";
        summary.role = "status";
        summary.textContent = body.message;
        summary.hidden = false;
        form.replaceWith(summary);
        summary.focus();
        return;
      }
      const { code, message, fields } = body.error;
      showErrors(code === "invalid" ? "Please correct the fields marked below." : message, fields);
      if (code === "form_token") await freshToken();
    } catch {
      showErrors("The form could not be sent. Check your connection and try again.");
    } finally {
      status.textContent = "";
      button.disabled = false;
    }
  });

  if (!token.value) freshToken();
}
