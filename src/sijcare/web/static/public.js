// The patient site works without this file; it only adds a running total to the pain-area
// shares so people see when they reach 100.
document.addEventListener("DOMContentLoaded", () => {
  const group = document.querySelector("[data-shares]");
  if (!group) return;
  const inputs = group.querySelectorAll("input[type=number]");
  const total = group.querySelector("[data-total]");
  const update = () => {
    let sum = 0;
    inputs.forEach((input) => { sum += Number(input.value) || 0; });
    total.textContent = `Total so far: ${sum} of 100.`;
  };
  inputs.forEach((input) => input.addEventListener("input", update));
  update();
});
