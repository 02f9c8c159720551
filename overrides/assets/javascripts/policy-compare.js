// Compare two Privacy Policy versions on the history page. The build renders what each version
// changed from the one before; between any two versions this shows those redlines in order, so
// the site needs one page per version rather than one per pair.
const form = document.querySelector("form[data-policy-compare]");

if (form) {
  const result = document.querySelector(".cc-compare__result");
  const { from, to } = form.elements;

  const show = async (older, newer) => {
    result.replaceChildren();
    if (older === newer) {
      result.textContent = "Choose two different versions.";
      return;
    }
    const steps = [...to.options]
      .filter((option) => option.value > older && option.value <= newer)
      .sort((a, b) => a.value.localeCompare(b.value));
    for (const step of steps) {
      const section = document.createElement("section");
      const heading = document.createElement("h3");
      const link = document.createElement("a");
      link.href = step.dataset.changes;
      link.textContent = `Changes effective ${step.textContent}`;
      heading.append(link);
      section.append(heading);
      try {
        const response = await fetch(new URL(step.dataset.changes, location.href));
        if (!response.ok) throw new Error(response.statusText);
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        section.append(document.importNode(page.querySelector(".cc-redline"), true));
      } catch {
        section.append("These changes could not be loaded; follow the link to read them.");
      }
      result.append(section);
    }
  };

  const compare = () => {
    // Version ids are dates, YYYY-MM-DD, so they sort as text in time order.
    const [older, newer] = [from.value, to.value].sort();
    history.replaceState(null, "", `?from=${older}&to=${newer}#compare`);
    show(older, newer);
  };

  const params = new URLSearchParams(location.search);
  const ids = [...from.options].map((option) => option.value);
  from.value = ids.includes(params.get("from")) ? params.get("from") : ids[Math.min(1, ids.length - 1)];
  to.value = ids.includes(params.get("to")) ? params.get("to") : ids[0];
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    compare();
  });
  form.hidden = false;
  if (params.has("from") && params.has("to")) show(...[from.value, to.value].sort());
}
