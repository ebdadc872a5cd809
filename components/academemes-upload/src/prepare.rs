//! Uploaded images made ready to store: decoded in full (`academemes-image`), scaled down to
//! at most [`MAX_STORED`] pixels a side, written out fresh (JPEG for photographs, PNG for the
//! rest), so no metadata of the upload survives, plus the thumbnail.

use academemes_core::meme::{THUMB_HEIGHT, THUMB_WIDTH};
use academemes_core::upload::Prepared;
use academemes_image::{Format, Image, ImageError, decode, encode_jpeg, encode_png, resize};
use nebula_guest::{String, ToString};

/// The longest side of a stored image: above any meme page's display size at 2× density.
const MAX_STORED: u32 = 2048;
const JPEG_QUALITY: u8 = 88;
const THUMB_QUALITY: u8 = 80;

/// A stored image and thumbnail from an upload, or the status and sentence to refuse it with.
pub fn upload(bytes: &[u8]) -> Result<Prepared, (u16, String)> {
    let (format, image) = decode(bytes).map_err(|e| {
        let status = match e {
            ImageError::TooLarge { .. } => 413,
            ImageError::Unknown | ImageError::Broken { .. } => 415,
        };
        (status, e.to_string())
    })?;
    let stored = resize(&image, MAX_STORED, MAX_STORED);
    let (image, image_type) = match format {
        Format::Jpeg | Format::Webp => (encode_jpeg(&stored, JPEG_QUALITY), "image/jpeg"),
        Format::Png | Format::Gif => (encode_png(&stored), "image/png"),
    };
    Ok(Prepared {
        image,
        image_type,
        width: stored.width,
        height: stored.height,
        thumb: thumb(&stored),
    })
}

/// A PNG the generator rendered: stored as it is, with a thumbnail.
pub fn generated(png: &[u8]) -> Result<Prepared, (u16, String)> {
    let (_, image) = decode(png).map_err(|e| (500, e.to_string()))?;
    Ok(Prepared {
        image: png.to_vec(),
        image_type: "image/png",
        width: image.width,
        height: image.height,
        thumb: thumb(&image),
    })
}

fn thumb(image: &Image) -> nebula_guest::Vec<u8> {
    encode_jpeg(&resize(image, THUMB_WIDTH, THUMB_HEIGHT), THUMB_QUALITY)
}
