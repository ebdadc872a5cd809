// Academemes: small progressive enhancements. Every feature works without this file.
"use strict";

// Votes: vote or take the vote back through the JSON API and update the form in place. The
// forms work without this file (they post and come back); the server keeps one vote per visitor.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-vote]");
  if (!form) return;
  event.preventDefault();
  const button = form.querySelector("button");
  const count = form.querySelector("[data-count]");
  const unit = form.querySelector("[data-unit]");
  const label = form.querySelector("[data-label]");
  const status = form.querySelector("[data-status]");
  const undo = form.dataset.voted === "true";
  button.disabled = true;
  try {
    const response = await fetch(form.dataset.vote, { method: undo ? "DELETE" : "POST", headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(response.status === 429 ? "slow down" : `HTTP ${response.status}`);
    const { votes, voted } = await response.json();
    count.textContent = votes;
    const units = votes === 1 ? "vote" : "votes";
    if (unit) unit.textContent = unit.classList.contains("visually-hidden") ? ` ${units}` : units;
    form.dataset.voted = String(voted);
    form.classList.toggle("voted", voted);
    button.setAttribute("aria-pressed", String(voted));
    if (label) label.textContent = voted ? "Voted · undo" : "Upvote";
    const hidden = form.querySelector("input[name=undo]");
    if (voted && !hidden) form.insertAdjacentHTML("beforeend", '<input type="hidden" name="undo" value="1">');
    if (!voted && hidden) hidden.remove();
    if (button.hasAttribute("aria-label")) {
      const title = button.getAttribute("aria-label").replace(/^[^:]*: /, "").replace(/, \d+ votes?$/, "");
      button.setAttribute("aria-label", `${voted ? "Voted · undo" : "Upvote"}: ${title}, ${votes} ${units}`);
    }
    if (status) {
      status.textContent = voted
        ? `Vote counted. ${votes} ${units} now. Reviewer 2 remains unconvinced.`
        : `Vote taken back. ${votes} ${units} now.`;
    }
  } catch (error) {
    if (status) {
      status.textContent = error.message === "slow down"
        ? "That was a lot of votes at once. Please wait a minute."
        : "Your vote got lost in the review process. Please try again.";
    }
  } finally {
    button.disabled = false;
  }
});

// Reports: send through the JSON API and say thank you in place.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-report]");
  if (!form) return;
  event.preventDefault();
  const status = form.querySelector("[data-report-status]");
  const button = form.querySelector("button[type=submit]");
  const data = new FormData(form);
  button.disabled = true;
  try {
    const response = await fetch(form.dataset.report, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ reason: data.get("reason"), note: data.get("note") ?? "" }),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    status.textContent = "Thank you: a moderator will have a look.";
    form.reset();
  } catch {
    status.textContent = "The report could not be sent. Please try again in a minute.";
  } finally {
    button.disabled = false;
  }
});

// Copy link: the meme's address to the clipboard, with a word for screen readers.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const status = button.parentElement.querySelector("[data-copy-status]");
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    if (status) status.textContent = "Link copied.";
  } catch {
    if (status) status.textContent = `Copy this link: ${button.dataset.copy}`;
  }
});

// Moderation: the token stays in this tab (sessionStorage) and goes only to the guarded API.
for (const login of document.querySelectorAll("form[data-admin]")) {
  const list = document.querySelector("[data-reports]");
  const status = login.querySelector("[data-admin-status]");
  const input = login.querySelector("input[name=token]");
  input.value = sessionStorage.getItem("admin-token") ?? "";
  const api = (path, method = "GET") =>
    fetch(path, { method, headers: { authorization: `Bearer ${input.value.trim()}`, accept: "application/json" } });
  const load = async () => {
    const response = await api("/api/admin/reports");
    if (response.status === 401 || response.status === 403) {
      status.textContent = "That token is not right.";
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    sessionStorage.setItem("admin-token", input.value.trim());
    const { memes } = await response.json();
    list.replaceChildren();
    status.textContent = memes.length ? `${memes.length} reported ${memes.length === 1 ? "meme" : "memes"}.` : "No reports. The community behaves, for now.";
    for (const meme of memes) {
      const item = document.createElement("li");
      item.className = "card";
      item.dataset.id = meme.id;
      const img = document.createElement("img");
      img.src = meme.thumb_url;
      img.alt = "";
      const body = document.createElement("div");
      const heading = document.createElement("h2");
      const link = document.createElement("a");
      link.href = `/memes/${meme.id}`;
      link.textContent = meme.title;
      heading.append(link);
      const summary = document.createElement("p");
      const reasons = [...new Set(meme.reports.map((r) => r.reason))].join(", ");
      summary.textContent = `${meme.count} ${meme.count === 1 ? "report" : "reports"}: ${reasons}.`;
      if (meme.hidden) {
        const note = document.createElement("span");
        note.className = "hidden-note";
        note.textContent = " Hidden.";
        summary.append(note);
      }
      const notes = document.createElement("ul");
      for (const r of meme.reports.filter((r) => r.note)) {
        const li = document.createElement("li");
        li.textContent = r.note;
        notes.append(li);
      }
      const actions = document.createElement("p");
      actions.className = "actions";
      const action = (text, path, method) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "button secondary";
        b.textContent = text;
        b.addEventListener("click", async () => {
          if (method === "DELETE" && !confirm(`Delete “${meme.title}” for good?`)) return;
          const r = await api(path, method);
          status.textContent = r.ok ? `${text}: done.` : `${text} failed (HTTP ${r.status}).`;
          await load();
        });
        return b;
      };
      actions.append(
        meme.hidden ? action("Unhide", `/api/admin/memes/${meme.id}/unhide`, "POST") : action("Hide", `/api/admin/memes/${meme.id}/hide`, "POST"),
        action("Delete", `/api/admin/memes/${meme.id}`, "DELETE"),
      );
      body.append(heading, summary, notes, actions);
      item.append(img, body);
      list.append(item);
    }
  };
  login.addEventListener("submit", (event) => {
    event.preventDefault();
    load().catch(() => { status.textContent = "The reports could not be loaded."; });
  });
  if (input.value) load().catch(() => {});
}

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

// Generator: a live preview of the meme as the template, texts and size change. With a picture
// of one's own the preview is posted (it does not fit in a URL) and shown from a blob.
for (const form of document.querySelectorAll("form[data-generator]")) {
  const preview = document.querySelector("[data-live-preview]");
  const busy = document.querySelector("[data-preview-status]");
  const picture = form.querySelector("input[type=file]");
  if (!preview) continue;
  let timer;
  let blobUrl;
  const update = async () => {
    const data = new FormData(form);
    const file = picture?.files?.[0];
    if (file) {
      const body = new FormData();
      body.set("image", file);
      for (const name of ["top", "bottom", "size"]) body.set(name, data.get(name) ?? "");
      try {
        const response = await fetch(`${preview.dataset.previewUrl}`, { method: "POST", body });
        if (!response.ok) throw new Error(await response.text());
        if (blobUrl) URL.revokeObjectURL(blobUrl);
        blobUrl = URL.createObjectURL(await response.blob());
        preview.src = blobUrl;
      } catch (error) {
        if (busy) busy.textContent = `The preview could not be rendered: ${String(error.message).trim()}`;
      }
      return;
    }
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
  form.addEventListener("input", (event) => {
    if (event.target === picture) return;
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
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
