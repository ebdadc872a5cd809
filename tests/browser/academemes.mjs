// Headless Chromium drives Academemes as a person would: the home page, a meme and its vote
// button (once, and taken back), the upload form, the generator with its live preview and a
// Unicode caption, search, a report that a moderator hides, and long titles at 390 px.
//
//   node tests/browser/academemes.mjs http://127.0.0.1:PORT [ARTIFACTS_DIR]
//
// Run by tests/integration/browser.rs against a host it started on a fresh, seeded data folder;
// scripts/setup.sh installs Debian's chromium and this folder's pinned playwright-core.
// Screenshots go to ARTIFACTS_DIR (default: target/browser-artifacts at the repository root).
// Exits 0 when every step passed, 1 on the first failure (with a screenshot of the page, its URL
// and its HTML), 2 on bad arguments or a missing browser.
//
// Rules kept here: no sleeps (wait for elements, responses and conditions), a bounded timeout
// per step and for the whole run, requests only to the host under test (anything else is
// aborted and fails the run), and selectors by role and label where the page offers them, so
// that the test also checks that the site can be used with a keyboard and a screen reader.

import { chromium } from "playwright-core";
import { deflateSync } from "node:zlib";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.NEBULA_CHROMIUM || "/usr/bin/chromium";
/// Every wait of one step (a navigation, an element, a response) is bounded by this.
const STEP_TIMEOUT_MS = 30_000;
/// The whole run, browser start to close.
const RUN_TIMEOUT_MS = 240_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/// The moderators' token the host was started with (tests/integration/browser.rs sets both).
const ADMIN_TOKEN = process.env.ACADEMEMES_ADMIN_TOKEN || "";

// ---- Arguments --------------------------------------------------------------------------------

const [baseArg, artifactsArg] = process.argv.slice(2);
if (!baseArg) {
  console.error("usage: node academemes.mjs http://127.0.0.1:PORT [ARTIFACTS_DIR]");
  process.exit(2);
}
const BASE = new URL(baseArg);
if (BASE.protocol !== "http:" || BASE.hostname !== "127.0.0.1") {
  console.error(`refusing ${baseArg}: the browser test only talks to http://127.0.0.1`);
  process.exit(2);
}
const ORIGIN = BASE.origin;
const ARTIFACTS = resolve(artifactsArg || join(HERE, "../../target/browser-artifacts"));
mkdirSync(ARTIFACTS, { recursive: true });
if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium)`);
  process.exit(2);
}

// ---- A PNG made here ----------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/// A `width`×`height` RGB PNG: a blue-to-orange sky over a rising bar chart, so the uploaded
/// meme is easy to spot in a screenshot.
function makePng(width, height) {
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3); // filter byte 0 (None), then RGB
    for (let x = 0; x < width; x++) {
      const t = y / (height - 1);
      let rgb = [Math.round(40 + 200 * t), Math.round(70 + 60 * t), Math.round(200 - 150 * t)];
      const bar = Math.floor(x / (width / 8));
      const barTop = height - Math.round(((bar + 1) / 8) * height * 0.8);
      if (x % (width / 8) > 6 && y > barTop) rgb = [250, 250, 245];
      row.set(rgb, 1 + x * 3);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

// ---- Helpers ------------------------------------------------------------------------------------

class Failure extends Error {}

function check(condition, message) {
  if (!condition) throw new Failure(message);
}

/// Fails (with the last value seen) unless `probe()` returns a truthy value within a step.
async function until(what, probe) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Failure(`timed out waiting for ${what}`);
    // Not a sleep that stands in for a condition: the poll interval of a condition.
    await new Promise((r) => setTimeout(r, 50));
  }
}

/// Waits until `img` has loaded an image (not a broken one) and returns its natural size.
async function loadedImage(img, what) {
  await img.waitFor({ state: "visible" });
  await img.scrollIntoViewIfNeeded();
  const handle = await img.elementHandle();
  const page = img.page();
  await page
    .waitForFunction((el) => el.complete && el.naturalWidth > 0, handle, { timeout: STEP_TIMEOUT_MS })
    .catch(async () => {
      const state = await handle.evaluate((el) => ({ src: el.currentSrc || el.src, complete: el.complete }));
      throw new Failure(`${what} did not load: ${JSON.stringify(state)}`);
    });
  return handle.evaluate((el) => ({ width: el.naturalWidth, height: el.naturalHeight, src: el.getAttribute("src") }));
}

async function shot(page, name, options = {}) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, animations: "disabled", caret: "hide", ...options });
  console.log(`  screenshot ${path}`);
  return path;
}

/// The whole document has no horizontal scroll bar (nothing wider than the viewport).
async function fitsWidth(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const wide = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.className ? "." + String(el.className).split(" ").join(".") : ""} (right ${Math.round(el.getBoundingClientRect().right)})`);
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide };
  });
}

async function textOf(locator) {
  return ((await locator.textContent()) ?? "").trim();
}

// ---- The run ------------------------------------------------------------------------------------

const problems = []; // things seen during the run that fail it at the end
const log = (msg) => console.log(msg);
let currentPage = null;
let currentStep = "start";
let browser;

const watchdog = setTimeout(() => {
  console.error(`the browser test ran longer than ${RUN_TIMEOUT_MS / 1000} s (in step "${currentStep}"); giving up`);
  browser?.close().finally(() => process.exit(1));
  setTimeout(() => process.exit(1), 5_000).unref();
}, RUN_TIMEOUT_MS);
watchdog.unref();

/// A page on a new context that records console errors, uncaught exceptions, failed requests,
/// HTTP errors, and any request that would leave the host under test (aborted).
async function newPage(viewport, options = {}) {
  const context = await browser.newContext({
    ...options,
    viewport,
    deviceScaleFactor: 1,
    locale: "en-US",
    timezoneId: "UTC",
    colorScheme: "light",
    reducedMotion: "reduce",
    serviceWorkers: "block",
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  await context.route(
    (url) => (url.protocol === "http:" || url.protocol === "https:" || url.protocol === "ws:" || url.protocol === "wss:") && url.origin !== ORIGIN,
    (route) => {
      problems.push(`a request left the host under test: ${route.request().url()}`);
      return route.abort("blockedbyclient");
    },
  );
  const page = await context.newPage();
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error on ${page.url()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`uncaught exception on ${page.url()}: ${err.message}`));
  page.on("requestfailed", (req) => {
    const why = req.failure()?.errorText ?? "?";
    // A navigation away cancels images still loading (lazy thumbnails): not a site failure.
    if (why !== "net::ERR_ABORTED") problems.push(`request failed: ${req.method()} ${req.url()}: ${why}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
  });
  currentPage = page;
  return page;
}

async function step(name, body) {
  currentStep = name;
  const started = Date.now();
  log(`- ${name}`);
  await body();
  log(`  ok (${Date.now() - started} ms)`);
}

async function main() {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Default launch: a fresh temporary profile, removed on close.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-proxy-server",
    ],
    timeout: STEP_TIMEOUT_MS,
  });
  log(`chromium ${browser.version()} against ${ORIGIN}; screenshots in ${ARTIFACTS}`);
  const page = await newPage(DESKTOP);
  let memeTitle;

  await step("home page: heading, navigation, a grid of memes whose first images load", async () => {
    const response = await page.goto(`${ORIGIN}/`);
    check(response?.status() === 200, `GET / answered ${response?.status()}`);
    check((await page.title()).includes("Academemes"), `unexpected title ${JSON.stringify(await page.title())}`);
    await page.getByRole("heading", { level: 1, name: "Fresh from the review queue" }).waitFor();
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const name of ["Home", "Top", "Generate", "Upload"]) {
      await nav.getByRole("link", { name, exact: true }).waitFor();
    }
    check((await nav.getByRole("link", { name: "Home", exact: true }).getAttribute("aria-current")) === "page", "Home is not marked as the current page");
    const cards = page.locator("ul.grid > li");
    const count = await cards.count();
    check(count >= 12, `the home grid shows ${count} memes, expected the seeded 12 or more`);
    // The first row(s) load eagerly: every one of them must show a real image with a text alternative.
    const eager = Math.min(count, 8);
    for (let i = 0; i < eager; i++) {
      const img = cards.nth(i).getByRole("img");
      const alt = await img.getAttribute("alt");
      check(alt && alt.trim().length > 0, `meme card ${i + 1} has an image without alt text`);
      await loadedImage(img, `the image of meme card ${i + 1}`);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.getByRole("navigation", { name: "Sort memes" }).getByRole("link", { name: "Newest" }).waitFor();
    // The keyboard: the first Tab reaches the skip link.
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
    check(focused === "Skip to content", `the first Tab focused ${JSON.stringify(focused)}, not the skip link`);
    await page.evaluate(() => document.activeElement?.blur());
    await shot(page, "home");
  });

  await step("home page on a 390 px phone: no horizontal scrolling", async () => {
    const phone = await newPage(PHONE);
    await phone.goto(`${ORIGIN}/`);
    await phone.getByRole("heading", { level: 1 }).waitFor();
    await loadedImage(phone.locator("ul.grid > li").first().getByRole("img"), "the first meme image on a phone");
    await phone.evaluate(() => window.scrollTo(0, 0));
    await shot(phone, "home-phone");
    const fit = await fitsWidth(phone);
    check(fit.scrollWidth <= fit.clientWidth, `the phone layout scrolls sideways: ${JSON.stringify(fit)}`);
    await phone.context().close();
    currentPage = page;
  });

  await step("open a meme from the grid", async () => {
    const link = page.locator("ul.grid > li").first().getByRole("heading", { level: 2 }).getByRole("link");
    memeTitle = await textOf(link);
    check(memeTitle.length > 0, "the first card's heading link has no text");
    await Promise.all([page.waitForURL(/\/memes\/[^/]+$/), link.click()]);
    await page.getByRole("heading", { level: 1, name: memeTitle, exact: true }).waitFor();
    const image = await loadedImage(page.locator("figure").getByRole("img"), "the meme image");
    check(image.width >= 100, `the meme image is only ${image.width} px wide`);
    await page.getByRole("button", { name: "Upvote" }).waitFor();
  });

  await step("vote once: the count goes up in place, survives a reload, and a second vote does not count", async () => {
    const form = page.locator("form.vote");
    const count = form.locator("[data-count]");
    const before = Number(await textOf(count));
    check(Number.isInteger(before), `the vote count reads ${JSON.stringify(await textOf(count))}`);
    check((await form.locator("[data-status]").getAttribute("aria-live")) === "polite", "the vote status is not an aria-live region");
    await shot(page, "meme-before-vote");
    const url = page.url();
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.endsWith("/vote")),
      page.getByRole("button", { name: "Upvote" }).click(),
    ]);
    check(response.status() === 200, `the vote answered ${response.status()}`);
    check(new URL(response.url()).pathname.startsWith("/api/"), `the script did not enhance the form: it posted to ${response.url()}`);
    await until(`the count to read ${before + 1}`, async () => Number(await textOf(count)) === before + 1);
    await until("the vote to be announced", async () => (await textOf(form.locator("[data-status]"))).startsWith("Vote counted."));
    check(page.url() === url, `the page navigated to ${page.url()} instead of updating in place`);
    await form.getByRole("button").blur();
    await shot(page, "meme-after-vote");
    // The vote was stored for this visitor (the cookie): a reload shows it, as voted.
    await page.reload();
    await until(`the reloaded count to read ${before + 1}`, async () => Number(await textOf(form.locator("[data-count]"))) === before + 1);
    await page.getByRole("button", { name: "Voted · undo" }).waitFor();
    check((await textOf(form.locator("[data-status]"))) === "You voted for this meme.", "the page does not say you voted");
    // Voting again from this browser (a script, the same cookie) changes nothing.
    const apiVote = `${new URL(page.url()).pathname.replace(/^\/memes\//, "/api/memes/")}/vote`;
    const again = await page.evaluate(async (path) => (await fetch(path, { method: "POST" })).json(), apiVote);
    check(again.votes === before + 1 && again.voted === true, `a second vote answered ${JSON.stringify(again)}`);
    await page.reload();
    await until(`the count to stay ${before + 1}`, async () => Number(await textOf(form.locator("[data-count]"))) === before + 1);
    log(`  "${memeTitle}": ${before} -> ${before + 1} votes, once`);
  });

  await step("unvote: the same button takes the vote back", async () => {
    const form = page.locator("form.vote");
    const count = form.locator("[data-count]");
    const before = Number(await textOf(count));
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "DELETE" && new URL(r.url()).pathname.endsWith("/vote")),
      page.getByRole("button", { name: "Voted · undo" }).click(),
    ]);
    check(response.status() === 200, `the unvote answered ${response.status()}`);
    await until(`the count to read ${before - 1}`, async () => Number(await textOf(count)) === before - 1);
    await until("the unvote to be announced", async () => (await textOf(form.locator("[data-status]"))).startsWith("Vote taken back."));
    await page.getByRole("button", { name: "Upvote" }).waitFor();
    await page.reload();
    await until(`the reloaded count to read ${before - 1}`, async () => Number(await textOf(form.locator("[data-count]"))) === before - 1);
  });

  await step("vote without JavaScript: the plain form posts and comes back counted", async () => {
    const memeUrl = page.url().split("#")[0];
    const before = Number(await textOf(page.locator("form.vote [data-count]")));
    const noJs = await newPage(DESKTOP, { javaScriptEnabled: false });
    await noJs.goto(memeUrl);
    const [response] = await Promise.all([
      noJs.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.endsWith("/vote")),
      noJs.getByRole("button", { name: "Upvote" }).click(),
    ]);
    check(!new URL(response.url()).pathname.startsWith("/api/"), `without JavaScript the form posted to ${response.url()}`);
    check(response.status() === 303, `the plain vote form answered ${response.status()}, not 303`);
    await noJs.waitForURL(`${memeUrl}#votes`);
    await until(`the count to read ${before + 1}`, async () => Number(await textOf(noJs.locator("form.vote [data-count]"))) === before + 1);
    await noJs.context().close();
    currentPage = page;
  });

  await step("vote from a card on the home page", async () => {
    await page.goto(`${ORIGIN}/?sort=top`);
    const card = page.locator("ul.grid > li").nth(1);
    const button = card.locator("form.card-vote button");
    const count = card.locator("[data-count]");
    const before = Number(await textOf(count));
    check((await button.getAttribute("aria-pressed")) === "false", "the second card is already voted");
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.endsWith("/vote")),
      button.click(),
    ]);
    check(response.status() === 200, `the card vote answered ${response.status()}`);
    await until("the card to show the vote", async () => Number(await textOf(count)) === before + 1 && (await button.getAttribute("aria-pressed")) === "true");
    check(page.url() === `${ORIGIN}/?sort=top`, `the card vote navigated to ${page.url()}`);
  });

  const stamp = `${Date.now()}`.slice(-6);
  const uploadTitle = `Browser test upload ${stamp}`;
  const png = makePng(320, 240);

  await step("upload a PNG through the form and land on its page", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Upload", exact: true }).click();
    await page.waitForURL(`${ORIGIN}/upload`);
    await page.getByRole("heading", { level: 1, name: "Upload a meme" }).waitFor();
    await page.getByLabel("Image").setInputFiles({ name: "browser-test.png", mimeType: "image/png", buffer: png });
    // The form previews the chosen file before sending it.
    await loadedImage(page.locator("img[data-preview]"), "the upload preview");
    await page.getByLabel("Title").fill(uploadTitle);
    await page.getByLabel("Caption").fill("A chart drawn by the browser test, pixel by pixel.");
    await page.getByLabel("Tags").fill("browser-test, charts");
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/upload"),
      page.getByRole("button", { name: "Publish meme" }).click(),
    ]);
    check(response.status() === 303, `POST /upload answered ${response.status()}, not 303`);
    await page.waitForURL(/\/memes\/[^/]+$/);
    await page.getByRole("heading", { level: 1, name: uploadTitle, exact: true }).waitFor();
    const image = await loadedImage(page.locator("figure").getByRole("img"), "the uploaded image");
    check(image.width === 320 && image.height === 240, `the uploaded image came back ${image.width}×${image.height}, not 320×240`);
    await page.getByRole("link", { name: "#browser-test" }).waitFor();
    await shot(page, "upload-result");
  });

  await step("the upload is on the home page", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Home", exact: true }).click();
    await page.waitForURL(`${ORIGIN}/`);
    const card = page.locator("ul.grid > li").filter({ has: page.getByRole("link", { name: uploadTitle, exact: true }) });
    await card.waitFor();
    check((await page.locator("ul.grid > li").first().getByRole("link", { name: uploadTitle, exact: true }).count()) === 1, "the new upload is not the first card under Newest");
    await loadedImage(card.getByRole("img"), "the uploaded meme's thumbnail");
    await shot(page, "home-after-upload");
  });

  const genTitle = `Browser test generated ${stamp}`;
  const top = "When the browser test";
  const bottom = `passes on try ${stamp}`;

  await step("generate: pick a template, type, see the preview follow", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Generate", exact: true }).click();
    await page.waitForURL(`${ORIGIN}/generate`);
    await page.getByRole("heading", { level: 1, name: "Make a meme" }).waitFor();
    const preview = page.getByRole("img", { name: "Preview of your meme" });
    await loadedImage(preview, "the first preview");
    const templates = page.getByRole("group", { name: "Template" }).getByRole("radio");
    check((await templates.count()) >= 2, "the generator offers fewer than two templates");

    // Pick a template that is not the default, by its visible name.
    const radio = page.getByRole("radio", { name: "p = 0.051" });
    const [picked] = await Promise.all([
      page.waitForResponse((r) => r.url().includes("/generate/preview?") && r.url().includes("template=p-value")),
      radio.check(),
    ]);
    check(picked.status() === 200 && picked.headers()["content-type"] === "image/png", `the preview answered ${picked.status()} ${picked.headers()["content-type"]}`);
    check(await radio.isChecked(), "the template radio is not checked");

    // Type (as a person does, key by key); the preview follows after the typing pauses.
    await page.getByLabel("Top text").fill("");
    await page.getByLabel("Top text").pressSequentially(top);
    await page.getByLabel("Bottom text").fill("");
    const typedUrl = (u) => {
      const q = new URL(u).searchParams;
      return new URL(u).pathname === "/generate/preview" && q.get("template") === "p-value" && q.get("top") === top && q.get("bottom") === bottom;
    };
    const [rendered] = await Promise.all([
      page.waitForResponse((r) => typedUrl(r.url())),
      page.getByLabel("Bottom text").pressSequentially(bottom),
    ]);
    check(rendered.status() === 200, `the typed preview answered ${rendered.status()}`);
    await until("the preview to show the typed text", async () => typedUrl(new URL(await preview.getAttribute("src"), ORIGIN).href));
    const image = await loadedImage(preview, "the typed preview");
    check(image.width === 600 && image.height === 450, `the preview is ${image.width}×${image.height}`);
    await until("the preview status to say it is current", async () => (await textOf(page.locator("[data-preview-status]"))) === "The preview shows your latest text.");

    await page.getByLabel("Title").fill(genTitle);
    await page.getByLabel("Tags").fill("browser-test");
    await page.getByLabel("Tags").blur();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, "generate");
  });

  await step("generate: publish and land on the new meme with its image", async () => {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/generate"),
      page.getByRole("button", { name: "Publish meme" }).click(),
    ]);
    check(response.status() === 303, `POST /generate answered ${response.status()}, not 303`);
    await page.waitForURL(/\/memes\/[^/]+$/);
    await page.getByRole("heading", { level: 1, name: genTitle, exact: true }).waitFor();
    const img = page.locator("figure").getByRole("img");
    const image = await loadedImage(img, "the generated meme's image");
    check(image.width === 600 && image.height === 450, `the generated image is ${image.width}×${image.height}, not 600×450`);
    const alt = (await img.getAttribute("alt")) ?? "";
    check(alt.includes(genTitle), `the generated image's alt text ${JSON.stringify(alt)} does not name the meme`);
    await shot(page, "generated-meme");
  });

  await step("a Unicode caption is drawn with real glyphs, not the fallback \"?\"", async () => {
    // Three previews of the same template: Greek, Cyrillic and German as typed; question marks
    // (what the old renderer drew for them); and nothing. The captioned band of the first must
    // differ from both others, pixel by pixel.
    const preview = (top) => `${ORIGIN}/generate/preview?${new URLSearchParams({ template: "chalkboard", top, bottom: "", size: "large" })}`;
    const unicode = "Ωμέγα Жёлтый Straße";
    const diff = await page.evaluate(async ([a, b, c]) => {
      const load = async (src) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        const canvas = document.createElement("canvas");
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const ctx = canvas.getContext("2d");
        ctx.drawImage(img, 0, 0);
        return ctx.getImageData(0, 0, canvas.width, Math.round(canvas.height * 0.3)).data;
      };
      const [u, q, blank] = await Promise.all([load(a), load(b), load(c)]);
      const differing = (x, y) => {
        let n = 0;
        for (let i = 0; i < x.length; i += 4) {
          if (Math.abs(x[i] - y[i]) + Math.abs(x[i + 1] - y[i + 1]) + Math.abs(x[i + 2] - y[i + 2]) > 96) n++;
        }
        return n / (x.length / 4);
      };
      // White pixels (the glyphs' fill) in the band.
      const white = (x) => { let n = 0; for (let i = 0; i < x.length; i += 4) if (x[i] > 240 && x[i + 1] > 240 && x[i + 2] > 240) n++; return n; };
      return { vsQuestion: differing(u, q), vsBlank: differing(u, blank), whiteUnicode: white(u), whiteQuestion: white(q) };
    }, [preview(unicode), preview("?".repeat([...unicode].length)), preview("")]);
    log(`  unicode vs "?": ${(diff.vsQuestion * 100).toFixed(1)} % of the band differs; vs blank ${(diff.vsBlank * 100).toFixed(1)} %`);
    check(diff.vsBlank > 0.03, `the Unicode caption draws almost nothing: ${JSON.stringify(diff)}`);
    check(diff.vsQuestion > 0.03, `the Unicode caption looks like question marks: ${JSON.stringify(diff)}`);
    await page.goto(preview(unicode));
    await shot(page, "unicode-caption");
    await page.goto(`${ORIGIN}/`);
  });

  await step("search from the header finds the upload", async () => {
    const box = page.getByRole("searchbox", { name: "Search memes" });
    await box.fill(`upload ${stamp}`);
    await Promise.all([page.waitForURL(/\/search\?q=/), box.press("Enter")]);
    await page.getByRole("heading", { level: 1, name: `Memes about “upload ${stamp}”` }).waitFor();
    const first = page.locator("ul.grid > li").first().getByRole("heading", { level: 2 });
    check((await textOf(first)) === uploadTitle, `the first result is ${JSON.stringify(await textOf(first))}, not the upload`);
    check((await box.inputValue()) === `upload ${stamp}`, "the search box lost the query");
    await shot(page, "search");
  });

  await step("report the upload, then a moderator hides it", async () => {
    check(ADMIN_TOKEN.length > 0, "ACADEMEMES_ADMIN_TOKEN is not set for the browser test");
    await page.locator("ul.grid > li").first().getByRole("heading", { level: 2 }).getByRole("link").click();
    await page.waitForURL(/\/memes\/[^/]+$/);
    const memeUrl = page.url();
    await page.getByText("Report this meme").click();
    await page.getByRole("radio", { name: "Spam or advertising" }).check();
    await page.getByLabel("Anything else?").fill("Filed by the browser test");
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.endsWith("/report")),
      page.getByRole("button", { name: "Send report" }).click(),
    ]);
    check(response.status() === 201, `the report answered ${response.status()}`);
    await until("the thanks", async () => (await textOf(page.locator("[data-report-status]"))).startsWith("Thank you"));

    await page.goto(`${ORIGIN}/admin`);
    await page.getByLabel("Moderator token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Show reports" }).click();
    const item = page.locator("[data-reports] > li").filter({ hasText: uploadTitle });
    await item.waitFor();
    check((await textOf(item)).includes("Filed by the browser test"), "the report's note is not shown");
    await shot(page, "admin");
    await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.endsWith("/hide") && r.status() === 200),
      item.getByRole("button", { name: "Hide" }).click(),
    ]);
    await item.getByRole("button", { name: "Unhide" }).waitFor();
    // Asked from outside the browser, so the expected 404 is not a page error.
    const hidden = await fetch(memeUrl);
    check(hidden.status === 404, `the hidden meme's page answered ${hidden.status}`);
    await page.goto(`${ORIGIN}/`);
    check((await page.getByRole("link", { name: uploadTitle, exact: true }).count()) === 0, "the hidden meme is still on Home");
  });

  await step("long unbroken titles: no sideways scrolling at 390 px, clamped at 1280 px", async () => {
    const title = `Unbroken${"x".repeat(112)}`;
    const form = new FormData();
    form.set("image", new Blob([makePng(64, 48)], { type: "image/png" }), "long.png");
    form.set("title", title);
    const made = await fetch(`${ORIGIN}/api/memes`, { method: "POST", body: form });
    check(made.status === 201, `uploading the long title answered ${made.status}`);
    const phone = await newPage(PHONE);
    await phone.goto(`${ORIGIN}/`);
    await phone.locator("ul.grid > li").first().waitFor();
    const fit = await fitsWidth(phone);
    check(fit.scrollWidth <= fit.clientWidth, `a 120-character word makes the phone page scroll sideways: ${JSON.stringify(fit)}`);
    await shot(phone, "long-title-phone");
    await phone.context().close();
    currentPage = page;
    await page.goto(`${ORIGIN}/`);
    const heading = page.locator("ul.grid > li").first().getByRole("heading", { level: 2 });
    const box = await heading.evaluate((el) => ({ width: el.getBoundingClientRect().width, card: el.closest("article").getBoundingClientRect().width, clamped: el.scrollHeight > el.clientHeight }));
    check(box.width <= box.card, `the title is wider than its card: ${JSON.stringify(box)}`);
    const desk = await fitsWidth(page);
    check(desk.scrollWidth <= desk.clientWidth, `the desktop page scrolls sideways: ${JSON.stringify(desk)}`);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  await step("README screenshot: the home page with the search box in the header", async () => {
    await page.goto(`${ORIGIN}/`);
    await page.getByRole("searchbox", { name: "Search memes" }).waitFor();
    for (let i = 0; i < 4; i++) await loadedImage(page.locator("ul.grid > li").nth(i).getByRole("img"), `card ${i + 1}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, "readme-home");
  });

  check(problems.length === 0, `the site misbehaved during the run:\n  ${problems.join("\n  ")}`);
}

let failed = false;
try {
  await main();
  log("browser test: every step passed");
} catch (err) {
  failed = true;
  console.error(`\nFAILED in step "${currentStep}": ${err instanceof Failure ? err.message : err.stack || err}`);
  if (problems.length) console.error(`seen during the run:\n  ${problems.join("\n  ")}`);
  if (currentPage && !currentPage.isClosed()) {
    try {
      console.error(`page URL: ${currentPage.url()}`);
      const path = join(ARTIFACTS, "failure.png");
      await currentPage.screenshot({ path, fullPage: true, timeout: 10_000 });
      console.error(`screenshot: ${path}`);
      const html = await currentPage.content();
      const at = ["<main", "<body"].map((tag) => [tag, html.indexOf(tag)]).find(([, i]) => i >= 0) ?? ["the start", 0];
      console.error(`page HTML (from ${at[0]}, 3000 characters):\n${html.slice(at[1], at[1] + 3000)}`);
    } catch (more) {
      console.error(`(could not capture the page: ${more.message})`);
    }
  }
} finally {
  await browser?.close().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
