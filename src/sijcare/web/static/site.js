// Progressive enhancement only: every page works the same without this file.

// Selects marked data-autosubmit (policy) submit their form on change.
document.addEventListener("change", (event) => {
  const select = event.target.closest("[data-autosubmit]");
  if (select && select.form) select.form.requestSubmit();
});

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

// Visit note: a Print button (the print stylesheet lays the page out for paper).
document.querySelector("[data-print]")?.addEventListener("click", () => window.print());
