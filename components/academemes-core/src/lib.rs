//! Academemes, the showcase site of academic memes, shared by its pure handlers
//! (`academemes-api`, `-pages`, `-upload`, `-assets`, `-seed`; wired in manifests/academemes.toml).
//!
//! 1. [`meme`]: the model, its storage layout and the writes that publish one;
//! 2. [`upload`]: a new meme from a form, with [`multipart`] (the image itself is decoded by
//!    the `academemes-image` crate in the handlers that publish);
//! 3. [`listing`]: pages of memes (newest, top, per tag) in two rounds of reads;
//! 4. [`html`]: escaping and the layout of every page; [`assets`]: the CSS and JS;
//! 5. [`visitor`], [`votes`]: one vote per visitor; [`moderation`]: reports, hide, delete;
//! 6. [`search`]: the inverted index; [`share`]: absolute URLs, feed, sitemap, robots.txt;
//! 7. [`json`], [`time`], [`hash`], [`http`], [`text`]: the small things the rest is made of.
//!
//! Nothing here performs I/O: handlers hand reads and writes to the host as data.
#![no_std]

extern crate alloc;

pub mod assets;
pub mod generate;
pub mod hash;
pub mod html;
pub mod http;
pub mod json;
pub mod listing;
pub mod meme;
pub mod moderation;
pub mod multipart;
pub mod search;
pub mod share;
pub mod text;
pub mod time;
pub mod upload;
pub mod visitor;
pub mod votes;
