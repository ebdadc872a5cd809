//! GIF (87a and 89a) decoding: the first frame, composed on the logical screen, with its
//! transparency. The format is the GIF89a specification (CompuServe, 1990); the LZW stream is
//! `weezl`'s. Written here because the maintained GIF decoders need std.
//!
//! Every length is checked against the data before it is used, and the LZW output is bounded
//! by the frame's size, so a small file cannot make the decoder allocate more than the canvas.

use alloc::vec;
use alloc::vec::Vec;

use weezl::{BitOrder, LzwStatus, decode::Decoder};

use crate::{Format, Image, ImageError, broken, check_size};

/// The first frame of a GIF file as RGBA on its logical screen.
pub fn decode(bytes: &[u8]) -> Result<Image, ImageError> {
    let mut r = Reader { bytes, at: 6 };
    let width = u32::from(r.u16()?);
    let height = u32::from(r.u16()?);
    check_size(Format::Gif, width, height)?;
    let flags = r.u8()?;
    let _background = r.u8()?;
    let _aspect = r.u8()?;
    let global = if flags & 0x80 != 0 {
        Some(r.take(3 << ((flags & 7) + 1))?)
    } else {
        None
    };
    let mut transparent = None;
    loop {
        match r.u8()? {
            // Extension: a graphic control extension says which index is transparent.
            0x21 => {
                let label = r.u8()?;
                let first = r.sub_block()?;
                if label == 0xf9 && first.len() >= 4 && first[0] & 1 != 0 {
                    transparent = Some(first[3]);
                }
                while !r.sub_block()?.is_empty() {}
            }
            0x2c => return frame(&mut r, width, height, global, transparent),
            0x3b => return Err(gif_broken("it ends before its first image")),
            other => {
                return Err(gif_broken(&alloc::format!("unknown block 0x{other:02x}")));
            }
        }
    }
}

fn frame(
    r: &mut Reader<'_>,
    width: u32,
    height: u32,
    global: Option<&[u8]>,
    transparent: Option<u8>,
) -> Result<Image, ImageError> {
    let left = r.u16()? as usize;
    let top = r.u16()? as usize;
    let fw = r.u16()? as usize;
    let fh = r.u16()? as usize;
    let flags = r.u8()?;
    let local = if flags & 0x80 != 0 {
        Some(r.take(3 << ((flags & 7) + 1))?)
    } else {
        None
    };
    let palette = local
        .or(global)
        .ok_or_else(|| gif_broken("it has no colour table"))?;
    let min_code = r.u8()?;
    if !(2..=11).contains(&min_code) {
        return Err(gif_broken("its LZW code size is invalid"));
    }
    let mut data = Vec::new();
    loop {
        let block = r.sub_block()?;
        if block.is_empty() {
            break;
        }
        data.extend_from_slice(block);
    }
    let indices = lzw(&data, min_code, fw * fh)?;
    let rows: Vec<usize> = if flags & 0x40 != 0 {
        interlaced_rows(fh)
    } else {
        (0..fh).collect()
    };
    let (w, h) = (width as usize, height as usize);
    let mut rgba = vec![0u8; w * h * 4];
    for (i, &row) in rows.iter().enumerate() {
        let y = top + row;
        if y >= h {
            continue;
        }
        for x in 0..fw {
            let cx = left + x;
            if cx >= w {
                break;
            }
            let index = indices[i * fw + x];
            if Some(index) == transparent {
                continue;
            }
            let c = usize::from(index) * 3;
            let Some(rgb) = palette.get(c..c + 3) else {
                return Err(gif_broken("a pixel names a colour outside the table"));
            };
            rgba[(y * w + cx) * 4..(y * w + cx) * 4 + 4]
                .copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
        }
    }
    Ok(Image {
        width,
        height,
        rgba,
    })
}

/// Exactly `pixels` colour indices, decoded without ever producing more.
fn lzw(data: &[u8], min_code: u8, pixels: usize) -> Result<Vec<u8>, ImageError> {
    let mut out = vec![0u8; pixels];
    let mut decoder = Decoder::new(BitOrder::Lsb, min_code);
    let (mut read, mut written) = (0, 0);
    while written < pixels {
        let result = decoder.decode_bytes(&data[read..], &mut out[written..]);
        read += result.consumed_in;
        written += result.consumed_out;
        match result.status {
            Ok(LzwStatus::Ok) if result.consumed_in == 0 && result.consumed_out == 0 => break,
            Ok(LzwStatus::Ok) => {}
            Ok(LzwStatus::Done | LzwStatus::NoProgress) => break,
            Err(e) => {
                return Err(gif_broken(&alloc::format!(
                    "its image data is corrupt ({e:?})"
                )));
            }
        }
    }
    if written < pixels {
        return Err(gif_broken("its image data is cut short"));
    }
    Ok(out)
}

/// Rows in the order an interlaced frame stores them: every 8th from 0, every 8th from 4,
/// every 4th from 2, every 2nd from 1.
fn interlaced_rows(height: usize) -> Vec<usize> {
    [(0, 8), (4, 8), (2, 4), (1, 2)]
        .into_iter()
        .flat_map(|(start, step)| (start..height).step_by(step))
        .collect()
}

fn gif_broken(reason: &str) -> ImageError {
    broken(Format::Gif, reason)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ImageError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| gif_broken("it is cut short"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, ImageError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, ImageError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// One data sub-block (length byte, then data); empty at a block terminator.
    fn sub_block(&mut self) -> Result<&'a [u8], ImageError> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
}
