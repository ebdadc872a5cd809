//! Real files made by real encoders (and one GIF by hand), then damaged in the ways uploads are.

use super::*;
use alloc::string::ToString;
use alloc::vec;

/// A `w`×`h` gradient with a bright square, so that resizing has something to average.
fn pixels(w: u32, h: u32) -> Image {
    let mut rgba = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let square = x > w / 4 && x < w / 2 && y > h / 4 && y < h / 2;
            rgba.extend_from_slice(&if square {
                [250, 240, 10, 255]
            } else {
                [(x * 255 / w) as u8, (y * 255 / h) as u8, 90, 255]
            });
        }
    }
    Image {
        width: w,
        height: h,
        rgba,
    }
}

/// A 2×2 GIF89a: red, green / blue, transparent.
fn tiny_gif() -> Vec<u8> {
    let mut gif = b"GIF89a\x02\x00\x02\x00\x81\x00\x00".to_vec();
    gif.extend_from_slice(&[255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0]);
    gif.extend_from_slice(&[0x21, 0xf9, 4, 1, 0, 0, 3, 0]);
    gif.extend_from_slice(&[0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0]);
    let data = weezl::encode::Encoder::new(BitOrder::Lsb, 2)
        .encode(&[0, 1, 2, 3])
        .unwrap();
    gif.push(2);
    gif.push(data.len() as u8);
    gif.extend_from_slice(&data);
    gif.extend_from_slice(&[0, 0x3b]);
    gif
}

use weezl::BitOrder;

#[test]
fn decodes_what_the_encoders_wrote() {
    let image = pixels(64, 48);
    let png = encode_png(&image);
    let (format, back) = decode(&png).unwrap();
    assert_eq!(format, Format::Png);
    assert_eq!(back, image, "PNG is lossless");

    let jpeg = encode_jpeg(&image, 90);
    let (format, back) = decode(&jpeg).unwrap();
    assert_eq!((format, back.width, back.height), (Format::Jpeg, 64, 48));
    let close = back
        .rgba
        .iter()
        .zip(&image.rgba)
        .all(|(a, b)| a.abs_diff(*b) < 40);
    assert!(close, "JPEG is lossy, but not that lossy");

    let webp = zenwebp::EncoderConfig::new_lossless()
        .encode_rgba(&image.rgba, 64, 48)
        .unwrap();
    let (format, back) = decode(&webp).unwrap();
    assert_eq!(format, Format::Webp);
    assert_eq!(back, image, "lossless WebP");

    let (format, back) = decode(&tiny_gif()).unwrap();
    assert_eq!((format, back.width, back.height), (Format::Gif, 2, 2));
    assert_eq!(
        back.rgba,
        [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 0, 0, 0, 0]
    );
}

#[test]
fn refuses_junk_behind_a_signature() {
    for (name, signature) in [
        ("PNG", &b"\x89PNG\r\n\x1a\n"[..]),
        ("JPEG", &[0xff, 0xd8, 0xff, 0xe0][..]),
        ("GIF", &b"GIF89a"[..]),
        ("WebP", &b"RIFF\x20\0\0\0WEBPVP8 "[..]),
    ] {
        let junk = [signature, &[0x01; 200][..]].concat();
        match decode(&junk) {
            Err(ImageError::Broken { format, .. }) => assert_eq!(format.name(), name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(decode(b"hello, reviewer 2"), Err(ImageError::Unknown));
    assert!(
        ImageError::Unknown
            .to_string()
            .contains("not a PNG, JPEG, GIF or WebP")
    );
}

#[test]
fn refuses_truncated_files() {
    let png = encode_png(&pixels(64, 48));
    assert!(matches!(
        decode(&png[..png.len() / 2]),
        Err(ImageError::Broken { .. })
    ));
    let jpeg = encode_jpeg(&pixels(64, 48), 90);
    assert!(matches!(
        decode(&jpeg[..jpeg.len() / 2]),
        Err(ImageError::Broken { .. })
    ));
    let gif = tiny_gif();
    assert!(matches!(
        decode(&gif[..gif.len() - 6]),
        Err(ImageError::Broken { .. })
    ));
}

#[test]
fn refuses_huge_canvases_from_the_header_alone() {
    // A valid PNG header claiming 5000×10 pixels, with no pixel data at all.
    let mut png = encode_png(&pixels(4, 4));
    png[16..20].copy_from_slice(&5000u32.to_be_bytes());
    png[20..24].copy_from_slice(&10u32.to_be_bytes());
    let crc = memegen::png::crc32(&[&png[12..29]]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    assert_eq!(
        decode(&png),
        Err(ImageError::TooLarge {
            width: 5000,
            height: 10
        })
    );
    let mut gif = tiny_gif();
    gif[6..10].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(decode(&gif), Err(ImageError::TooLarge { .. })));
    assert!(check_size(Format::Png, 4096, 4096).is_ok());
    assert!(check_size(Format::Png, 4097, 1).is_err());
}

#[test]
fn strips_metadata_by_writing_a_new_file() {
    // A JPEG with an EXIF segment (APP1) holding a GPS-like payload.
    let jpeg = encode_jpeg(&pixels(32, 32), 90);
    let exif = b"Exif\0\0GPSLatitude 59.9139 N";
    let mut tagged = jpeg[..2].to_vec();
    tagged.extend_from_slice(&[0xff, 0xe1, 0, (exif.len() + 2) as u8]);
    tagged.extend_from_slice(exif);
    tagged.extend_from_slice(&jpeg[2..]);
    let (_, image) = decode(&tagged).unwrap();
    let clean = encode_jpeg(&image, 90);
    assert!(!clean.windows(4).any(|w| w == b"Exif"));
    assert!(!encode_png(&image).windows(3).any(|w| w == b"GPS"));
}

#[test]
fn resizes_down_keeping_the_aspect_and_averaging() {
    let image = pixels(400, 300);
    let thumb = resize(&image, 200, 200);
    assert_eq!((thumb.width, thumb.height), (200, 150));
    assert_eq!(thumb.rgba.len(), 200 * 150 * 4);
    // A 2×2 block of black and white becomes mid-grey.
    let checker = Image {
        width: 2,
        height: 2,
        rgba: vec![
            0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 255,
        ],
    };
    assert_eq!(resize(&checker, 1, 1).rgba, [128, 128, 128, 255]);
    // Never up.
    assert_eq!(resize(&image, 1000, 1000), image);
}
