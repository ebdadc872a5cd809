//! Academemes' images: what an uploaded file really is, decoded in full rather than sniffed,
//! bounded in size, and written out again without its metadata; plus the thumbnails the grids
//! show.
//!
//! 1. [`decode`]: PNG (`zune-png`), JPEG (`zune-jpeg`), GIF ([`gif`], over `weezl`'s LZW) and
//!    WebP (`zenwebp`, lossy and lossless) to 8-bit RGBA, after checking the dimensions the
//!    header declares (at most [`MAX_SIDE`] a side and [`MAX_PIXELS`] in all), so a small file
//!    that claims a huge canvas is refused before anything large is allocated;
//! 2. [`resize`]: area-averaging downscale (every source pixel counts, so thumbnails do not
//!    shimmer);
//! 3. [`encode_png`], [`encode_jpeg`]: fresh files from pixels alone, so EXIF (GPS position
//!    included), XMP, ICC profiles and comments of the upload are gone.
//!
//! `no_std` + `alloc` and free of I/O: it runs inside pure handlers and in native tests.
#![no_std]

extern crate alloc;

pub mod gif;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

/// Largest width or height accepted.
pub const MAX_SIDE: u32 = 4096;
/// Most pixels accepted (16 Mi: 4096 × 4096).
pub const MAX_PIXELS: u64 = 16 * 1024 * 1024;

/// The formats the site accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl Format {
    /// The format by its signature, or `None`: only the first step; [`decode`] decides.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(Format::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Format::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Format::Webp)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::Gif => "GIF",
            Format::Webp => "WebP",
        }
    }
}

/// Decoded pixels: 8-bit RGBA, row-major.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Image({}×{})", self.width, self.height)
    }
}

/// Why a file is not an image the site takes. `Display` is a sentence for the person who
/// uploaded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// No PNG, JPEG, GIF or WebP signature.
    Unknown,
    /// The signature of `format`, but the data does not decode.
    Broken { format: Format, reason: String },
    /// Decodes, but is larger than the limits.
    TooLarge { width: u32, height: u32 },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::Unknown => f.write_str("That file is not a PNG, JPEG, GIF or WebP image."),
            ImageError::Broken { format, reason } => write!(
                f,
                "That file starts like a {} image but does not decode as one ({reason}). It may be damaged or only partly uploaded.",
                format.name()
            ),
            ImageError::TooLarge { width, height } => write!(
                f,
                "The image is {width}×{height} pixels; the limit is {MAX_SIDE} pixels a side and 16 megapixels in all. Scale it down first."
            ),
        }
    }
}

/// Decodes a whole file to RGBA, or says why not. Only the first frame of an animation is
/// kept.
pub fn decode(bytes: &[u8]) -> Result<(Format, Image), ImageError> {
    let format = Format::sniff(bytes).ok_or(ImageError::Unknown)?;
    let image = match format {
        Format::Png => png(bytes),
        Format::Jpeg => jpeg(bytes),
        Format::Gif => gif::decode(bytes),
        Format::Webp => webp(bytes),
    }?;
    Ok((format, image))
}

/// The limits, checked on the dimensions a header declares.
pub fn check_size(format: Format, width: u32, height: u32) -> Result<(), ImageError> {
    if width == 0 || height == 0 {
        return Err(broken(format, "it has no pixels"));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    Ok(())
}

/// A decoder's complaint, in its own words.
fn broken(format: Format, reason: impl fmt::Debug) -> ImageError {
    let mut text = alloc::format!("{reason:?}");
    // Decoders' messages arrive Debug-quoted; a sentence reads better without the quotes.
    if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
        text = text[1..text.len() - 1].into();
    }
    ImageError::Broken {
        format,
        reason: text,
    }
}

fn png(bytes: &[u8]) -> Result<Image, ImageError> {
    let f = Format::Png;
    // The decoder's own caps are above ours, so that a large image gets our message.
    let options = DecoderOptions::default()
        .set_max_width(1 << 16)
        .set_max_height(1 << 16)
        .set_strict_mode(true)
        .png_set_strip_to_8bit(true);
    let mut decoder = zune_png::PngDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| broken(f, e))?;
    let (w, h) = decoder.dimensions().ok_or_else(|| broken(f, "no header"))?;
    check_size(f, w as u32, h as u32)?;
    let colorspace = decoder
        .colorspace()
        .ok_or_else(|| broken(f, "no colour type"))?;
    let raw = decoder.decode_raw().map_err(|e| broken(f, e))?;
    to_rgba(f, w as u32, h as u32, colorspace, raw)
}

fn jpeg(bytes: &[u8]) -> Result<Image, ImageError> {
    let f = Format::Jpeg;
    let options = DecoderOptions::default()
        .set_max_width(1 << 16)
        .set_max_height(1 << 16)
        // Strict: a file cut short is an error, not a picture with a grey lower half.
        .set_strict_mode(true)
        .jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| broken(f, e))?;
    let info = decoder.info().ok_or_else(|| broken(f, "no header"))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    check_size(f, w, h)?;
    let raw = decoder.decode().map_err(|e| broken(f, e))?;
    let colorspace = decoder.output_colorspace().unwrap_or(ColorSpace::RGBA);
    to_rgba(f, w, h, colorspace, raw)
}

fn webp(bytes: &[u8]) -> Result<Image, ImageError> {
    let f = Format::Webp;
    let mut decoder = zenwebp::WebPDecoder::new(bytes).map_err(|e| broken(f, e))?;
    let (w, h) = decoder.dimensions();
    check_size(f, w, h)?;
    let size = decoder
        .output_buffer_size()
        .ok_or_else(|| broken(f, "no size"))?;
    let mut out = vec![0; size];
    decoder.read_image(&mut out).map_err(|e| broken(f, e))?;
    let colorspace = if decoder.has_alpha() {
        ColorSpace::RGBA
    } else {
        ColorSpace::RGB
    };
    to_rgba(f, w, h, colorspace, out)
}

/// Any 8-bit layout the decoders give, as RGBA.
fn to_rgba(
    f: Format,
    width: u32,
    height: u32,
    colorspace: ColorSpace,
    raw: Vec<u8>,
) -> Result<Image, ImageError> {
    let pixels = width as usize * height as usize;
    let n = colorspace.num_components();
    if raw.len() < pixels * n {
        return Err(broken(f, "the pixel data is cut short"));
    }
    let rgba = match (colorspace, n) {
        (ColorSpace::RGBA, 4) => raw,
        (ColorSpace::RGB, 3) => raw[..pixels * 3]
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        (ColorSpace::Luma, 1) => raw[..pixels].iter().flat_map(|&l| [l, l, l, 255]).collect(),
        (ColorSpace::LumaA, 2) => raw[..pixels * 2]
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        (other, _) => {
            return Err(broken(
                f,
                alloc::format!("unsupported colour type {other:?}"),
            ));
        }
    };
    Ok(Image {
        width,
        height,
        rgba,
    })
}

/// `image` scaled down (never up) to fit in `max_width` × `max_height`, keeping its aspect,
/// by averaging the source pixels each target pixel covers.
pub fn resize(image: &Image, max_width: u32, max_height: u32) -> Image {
    let scale = f64::min(
        f64::from(max_width) / f64::from(image.width),
        f64::from(max_height) / f64::from(image.height),
    );
    if scale >= 1.0 {
        return image.clone();
    }
    let w = ((f64::from(image.width) * scale) as u32).max(1);
    let h = ((f64::from(image.height) * scale) as u32).max(1);
    let (sw, sh) = (image.width as usize, image.height as usize);
    // Source column ranges of each target column, computed once.
    let cols: Vec<(usize, usize)> = (0..w as usize).map(|x| span(x, w as usize, sw)).collect();
    let mut out = Vec::with_capacity(w as usize * h as usize * 4);
    let mut acc = vec![0u32; w as usize * 4];
    for y in 0..h as usize {
        let (y0, y1) = span(y, h as usize, sh);
        acc.fill(0);
        for sy in y0..y1 {
            let row = &image.rgba[sy * sw * 4..(sy + 1) * sw * 4];
            for (x, &(x0, x1)) in cols.iter().enumerate() {
                let a = &mut acc[x * 4..x * 4 + 4];
                for px in row[x0 * 4..x1 * 4].chunks_exact(4) {
                    // Colour weighted by alpha, so transparent pixels do not darken edges.
                    let alpha = u32::from(px[3]);
                    a[0] += u32::from(px[0]) * alpha;
                    a[1] += u32::from(px[1]) * alpha;
                    a[2] += u32::from(px[2]) * alpha;
                    a[3] += alpha;
                }
            }
        }
        for (x, &(x0, x1)) in cols.iter().enumerate() {
            let a = &acc[x * 4..x * 4 + 4];
            let count = ((x1 - x0) * (y1 - y0)) as u32;
            if a[3] == 0 {
                out.extend_from_slice(&[0, 0, 0, 0]);
            } else {
                let c = |v: u32| ((v + a[3] / 2) / a[3]) as u8;
                out.extend_from_slice(&[
                    c(a[0]),
                    c(a[1]),
                    c(a[2]),
                    ((a[3] + count / 2) / count) as u8,
                ]);
            }
        }
    }
    Image {
        width: w,
        height: h,
        rgba: out,
    }
}

/// The source range `[from, to)` that target index `i` of `target` covers in `source`.
fn span(i: usize, target: usize, source: usize) -> (usize, usize) {
    let from = i * source / target;
    let to = ((i + 1) * source / target).max(from + 1).min(source);
    (from, to)
}

/// 8-bit RGB with transparency composed over white (the page's background).
pub fn rgb_over_white(image: &Image) -> Vec<u8> {
    image
        .rgba
        .chunks_exact(4)
        .flat_map(|p| {
            let a = u32::from(p[3]);
            let over = |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
            [over(p[0]), over(p[1]), over(p[2])]
        })
        .collect()
}

/// A PNG of the pixels alone (8-bit RGB; transparency composed over white).
pub fn encode_png(image: &Image) -> Vec<u8> {
    memegen::png::encode_rgb(image.width, image.height, &rgb_over_white(image))
}

/// A baseline JPEG of the pixels alone at `quality` (1–100), transparency over white.
pub fn encode_jpeg(image: &Image, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    // Dimensions are at most MAX_SIDE, within u16; encoding into a Vec cannot fail otherwise.
    let encoded = encoder.encode(
        &rgb_over_white(image),
        image.width as u16,
        image.height as u16,
        jpeg_encoder::ColorType::Rgb,
    );
    debug_assert!(encoded.is_ok(), "{encoded:?}");
    out
}

#[cfg(test)]
mod tests;
