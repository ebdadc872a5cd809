// Academemes: small progressive enhancements. Every feature works without this file.
"use strict";

// Votes: post to the JSON API and update the count in place instead of reloading the page.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-vote]");
  if (!form) return;
  event.preventDefault();
  const button = form.querySelector("button");
  const count = form.querySelector("[data-count]");
  const unit = form.querySelector("[data-unit]");
  const status = form.querySelector("[data-status]");
  button.disabled = true;
  try {
    const response = await fetch(form.dataset.vote, { method: "POST", headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const { votes } = await response.json();
    count.textContent = votes;
    if (unit) unit.textContent = votes === 1 ? "vote" : "votes";
    form.classList.add("voted");
    status.textContent = `Vote counted. ${votes} ${votes === 1 ? "vote" : "votes"} now. Reviewer 2 remains unconvinced.`;
  } catch {
    status.textContent = "Your vote got lost in the review process. Please try again.";
  } finally {
    button.disabled = false;
  }
});

// Upload: show the chosen image, and catch the obvious mistakes before a 5 MiB round trip.
for (const form of document.querySelectorAll("form[data-upload]")) {
  const input = form.querySelector("input[type=file]");
  const preview = form.querySelector("[data-preview]");
  input?.addEventListener("change", () => {
    const file = input.files?.[0];
    input.setCustomValidity("");
    if (!file) { preview.hidden = true; return; }
    if (file.size > 5 * 1024 * 1024) {
      input.setCustomValidity("This image is over 5 MiB. Compress it like your thesis deadline compresses your sleep.");
    } else if (!/^image\/(png|jpeg|gif|webp)$/.test(file.type)) {
      input.setCustomValidity("Please choose a PNG, JPEG, GIF or WebP image.");
    }
    input.reportValidity();
    if (preview && file.type.startsWith("image/")) {
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
    }
  });
}

// Generator: a live preview of the meme as the template and texts change.
for (const form of document.querySelectorAll("form[data-generator]")) {
  const preview = document.querySelector("[data-live-preview]");
  const busy = document.querySelector("[data-preview-status]");
  if (!preview) continue;
  let timer;
  const update = () => {
    const data = new FormData(form);
    const params = new URLSearchParams();
    for (const name of (preview.dataset.fields || "template,top,bottom").split(",")) {
      params.set(name, data.get(name) ?? "");
    }
    const url = `${preview.dataset.previewUrl}?${params}`;
    if (preview.getAttribute("src") === url) return;
    preview.src = url;
  };
  // The same words after every render, so a screen reader hears them once, not per keystroke.
  preview.addEventListener("load", () => { if (busy) busy.textContent = "The preview shows your latest text."; });
  preview.addEventListener("error", () => { if (busy) busy.textContent = "The preview could not be rendered."; });
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 250); });
  form.addEventListener("change", update);
  update();
}

// Side panels rendered by other pure handlers (the quote of the day is written in Python, the
// tag cloud in JavaScript): fetched after the page, so the grid never waits for them. The date
// is the reader's, so the quote changes at their midnight and stays memoizable all day.
for (const panel of document.querySelectorAll("[data-fragment]")) {
  let url = panel.dataset.fragment;
  if ("dated" in panel.dataset) url += `?date=${new Date().toLocaleDateString("sv")}`;
  fetch(url)
    .then((r) => (r.ok ? r.text() : ""))
    .then((html) => { if (html) panel.insertAdjacentHTML("beforeend", html); else panel.remove(); })
    .catch(() => panel.remove());
}
