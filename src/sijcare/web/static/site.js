// Progressive enhancement only: every page works the same without this file.

// Selects marked data-autosubmit (policy) submit their form on change.
document.addEventListener("change", (event) => {
  const select = event.target.closest("[data-autosubmit]");
  if (select && select.form) select.form.requestSubmit();
});

// Entries kept while signed out: sent on at once after signing in again (the button without
// this file).
document.querySelector("form[data-send-on-load]")?.submit();

// After a refused form, move focus to the list of problems so it is read out first.
document.querySelector(".error-summary:not([hidden])")?.focus();

// Block form: show the relief the diary gives, as the engine will read it (baseline, then
// the lowest later rating).
const relief = document.querySelector("output[data-relief]");
if (relief) {
  const update = () => {
    const [baseline, ...after] = [...relief.form.querySelectorAll("[name^='diary.']")]
      .map((input) => parseFloat(input.value));
    const rated = after.filter((pain) => !Number.isNaN(pain));
    relief.value = baseline > 0 && rated.length
      ? `${Math.round(((baseline - Math.min(...rated)) / baseline) * 1000) / 10}% relief`
      : "not yet computable";
  };
  relief.form.addEventListener("input", update);
  update();
}

// A question asked only after another answer (the anticoagulation plan, once an anticoagulant
// is taken) hides, and goes back to "not recorded", while that answer is not given. Without
// this file it is always shown, with a hint saying when it applies; one the server refused
// stays in view beside its error.
for (const field of document.querySelectorAll("[data-asked-when]")) {
  const [name, wanted] = field.dataset.askedWhen.split("=");
  const form = field.closest("form");
  const update = () => {
    const chosen = form.querySelector(`[name="${CSS.escape(name)}"]:checked`);
    field.hidden = chosen?.value !== wanted && !field.classList.contains("invalid");
    if (field.hidden) {
      field.querySelectorAll("input[value='']").forEach((blank) => { blank.checked = true; });
    }
  };
  form.addEventListener("change", update);
  update();
}

// Visit note: a Print button (the print stylesheet lays the page out for paper).
document.querySelector("[data-print]")?.addEventListener("click", () => window.print());
