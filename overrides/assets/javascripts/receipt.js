// What the cookie notice's buttons do with this browser's receipt (cookie-notice.js loads it at
// the first click): verify it, and download or delete the records of its consent ID, sending
// the receipt in a body, never in a URL. Each says its outcome in `out` with `say`; a fault
// (the service unreachable, an answer that is not JSON) is thrown, for the caller to say.

// The answer's JSON if it is `ok`; otherwise false, once the service's reason is said.
async function answer(response, { out, say }, ok = response.ok) {
  const body = await response.json();
  if (!ok) say(out, "failed", body.error?.message ?? response.status);
  return ok && body;
}

const post = (api, path, receipt) =>
  fetch(`${api}/consent-records${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ receipt }),
  });

export async function verify(context) {
  const { choice, api, out, say } = context;
  const url = `${api}/consent/${encodeURIComponent(choice.receipt)}`;
  const record = await answer(await fetch(url), context);
  if (!record) return;
  const same =
    record.consent_id === choice.consent_id &&
    Object.entries(choice.choices).every(([category, on]) => record.choices?.[category] === on);
  if (same) say(out, "verified", `${new Date(record.created_at).toLocaleString()}.`);
  else say(out, "differs");
}

export async function download(context) {
  const { choice, api, out, say } = context;
  const records = await answer(await post(api, "", choice.receipt), context);
  if (!records) return;
  const link = document.createElement("a");
  const file = new Blob([JSON.stringify(records, null, 2)], { type: "application/json" });
  link.href = URL.createObjectURL(file);
  link.download = "carecaller-consent-records.json";
  link.click();
  URL.revokeObjectURL(link.href);
  say(out, "downloaded");
}

// Deleted, or already gone (404): consent.js forgets the choice, and its banner asks again.
export async function remove(context) {
  const { choice, api, out, say } = context;
  const response = await post(api, "/delete", choice.receipt);
  if (!(await answer(response, context, response.ok || response.status === 404))) return;
  document.dispatchEvent(new Event("cc:forget"));
  say(out, "deleted");
  out.focus();
}
